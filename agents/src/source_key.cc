// SourceKey: keyed hashes of outbox file drops.
#include "source_key.h"

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::agent {

std::string SourceKey(std::string_view name_key, const std::string& file_name,
                      std::string_view content) {
  std::string input = file_name;
  input.push_back('\0');
  input += core::Sha256(content);
  return core::ToHex(core::Blake2b256(input, name_key));
}

std::string OutboxNameKey(std::string_view pseudonym_key) {
  return core::Blake2b256("stafett agent outbox file names v1", pseudonym_key);
}

}  // namespace stafett::agent
