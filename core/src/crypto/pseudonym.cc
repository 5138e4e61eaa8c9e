// The county pseudonym key and the keyed BLAKE2b pseudonym of a personnummer.
// Thread-safety: PseudonymKey is immutable after construction; functions are pure.
#include "stafett/core/pseudonym.h"

#include <sodium.h>

#include "stafett/core/encoding.h"

namespace stafett::core {

Result<PseudonymKey> PseudonymKey::FromHex(std::string_view hex) {
  while (!hex.empty() &&
         (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ' || hex.back() == '\t')) {
    hex.remove_suffix(1);
  }
  if (hex.size() != kPseudonymKeyBytes * 2) {
    return Status(Code::kKeyInvalid, "pseudonym key: must be 64 hex characters");
  }
  std::optional<std::string> bytes = core::FromHex(hex);
  if (!bytes) return Status(Code::kKeyInvalid, "pseudonym key: not hex");
  PseudonymKey key{SecretBytes(*bytes)};
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

Result<PseudonymKey> PseudonymKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kPseudonymKeyBytes) {
    return Status(Code::kKeyInvalid, "pseudonym key: must be 32 bytes");
  }
  return PseudonymKey{SecretBytes(bytes)};
}

PseudonymKey PseudonymKey::Generate() {
  EnsureSodiumInitialised();
  SecretBytes key(kPseudonymKeyBytes);
  randombytes_buf(key.data(), key.size());
  return PseudonymKey{std::move(key)};
}

std::string PseudonymKey::ToHex() const { return core::ToHex(key_.view()); }

std::string Pseudonymise(const PseudonymKey& key, const Personnummer& number) {
  return ToHex(Blake2b256(number.digits12, key.bytes()));
}

bool IsValidPseudonym(std::string_view text) {
  if (text.size() != kPseudonymHexChars) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace stafett::core
