// The child's pseudonym: BLAKE2b-256 keyed with the county-wide pseudonym key over the normalised
// 12 digits, as lowercase hex. Agents and auditors hold the key; the broker never does.
// Thread-safety: PseudonymKey is an immutable value once built; Pseudonymise is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "stafett/core/crypto.h"
#include "stafett/core/personnummer.h"
#include "stafett/core/status.h"

namespace stafett::core {

inline constexpr size_t kPseudonymKeyBytes = 32;
inline constexpr size_t kPseudonymHexChars = 64;

// 32 secret bytes, wiped on destruction.
class PseudonymKey {
 public:
  // 64 hex characters; trailing whitespace (the key file's newline) is ignored.
  // kKeyInvalid otherwise (the message never echoes the text).
  [[nodiscard]] static Result<PseudonymKey> FromHex(std::string_view hex);
  // Exactly 32 raw bytes; kKeyInvalid otherwise.
  [[nodiscard]] static Result<PseudonymKey> FromBytes(std::string_view bytes);
  [[nodiscard]] static PseudonymKey Generate();

  // 64 lowercase hex characters (for writing the key file).
  [[nodiscard]] std::string ToHex() const;
  [[nodiscard]] std::string_view bytes() const { return key_.view(); }

 private:
  explicit PseudonymKey(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

// Lowercase hex (64 characters) of BLAKE2b-256 keyed with `key` over number.digits12.
[[nodiscard]] std::string Pseudonymise(const PseudonymKey& key, const Personnummer& number);

// 64 lowercase hex characters.
[[nodiscard]] bool IsValidPseudonym(std::string_view text);

}  // namespace stafett::core
