// Text encodings of binary data: hex, base64 (standard alphabet, padded) and Z85 (ZeroMQ RFC 32).
// Encodings, not crypto. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stafett::core {

// Lowercase hex, two characters per byte.
[[nodiscard]] std::string ToHex(std::string_view bytes);
// Parses hex (either case, even length, nothing else); nullopt otherwise.
[[nodiscard]] std::optional<std::string> FromHex(std::string_view hex);

// Unsigned 64-bit numbers as 8 big-endian bytes (store keys, signed statements, wire fields).
inline constexpr size_t kBigEndian64Bytes = 8;
// Appends VALUE as 8 big-endian bytes to *OUT.
void AppendBigEndian64(uint64_t value, std::string* out);
[[nodiscard]] std::string BigEndian64(uint64_t value);
// The number in exactly 8 big-endian bytes; nullopt for any other length.
[[nodiscard]] std::optional<uint64_t> ReadBigEndian64(std::string_view bytes);

// Standard base64 alphabet with '=' padding (RFC 4648 section 4).
[[nodiscard]] std::string ToBase64(std::string_view bytes);
// Strict: padding required, no whitespace, unused trailing bits zero; nullopt otherwise.
[[nodiscard]] std::optional<std::string> FromBase64(std::string_view text);

// Z85 as in ZeroMQ RFC 32 (used for CURVE keys: 32 bytes <-> 40 characters).
// The input length must be a multiple of 4; returns "" otherwise.
[[nodiscard]] std::string ToZ85(std::string_view bytes);
// Parses Z85; the length must be a multiple of 5. nullopt for bad length, characters or overflow.
[[nodiscard]] std::optional<std::string> FromZ85(std::string_view text);

}  // namespace stafett::core
