// The county pseudonym key file: writing (0600) and permission-checked loading.
// Thread-safety: free functions; no shared state.
#include "stafett/keys/pseudonym_key_file.h"

#include <algorithm>
#include <string>

#include "stafett/keys/secret_file.h"

namespace stafett::keys {

core::Status WritePseudonymKeyFile(const std::filesystem::path& file,
                                   const core::PseudonymKey& key) {
  std::string text = key.ToHex() + "\n";
  core::Status written = WriteNewFile(file, text, 0600);
  std::fill(text.begin(), text.end(), '\0');
  return written;
}

core::Result<core::PseudonymKey> LoadPseudonymKeyFile(const std::filesystem::path& file) {
  core::Result<core::SecretBytes> text = ReadSecretFile(file);
  if (!text.ok()) return text.status();
  core::Result<core::PseudonymKey> key = core::PseudonymKey::FromHex(text->view());
  if (!key.ok()) {
    return core::Status(core::Code::kKeyInvalid,
                        file.string() + ": not a pseudonym key (64 hex digits and a newline)");
  }
  return key;
}

}  // namespace stafett::keys
