// Big-endian numbers; hex and base64 via libsodium (constant-time); Z85 per ZeroMQ RFC 32
// (encodings, not crypto).
// Thread-safety: pure functions.
#include "stafett/core/encoding.h"

#include <sodium.h>

#include <array>
#include <cstdint>

#include "stafett/core/crypto.h"

namespace stafett::core {

void AppendBigEndian64(uint64_t value, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::string BigEndian64(uint64_t value) {
  std::string out;
  AppendBigEndian64(value, &out);
  return out;
}

std::optional<uint64_t> ReadBigEndian64(std::string_view bytes) {
  if (bytes.size() != kBigEndian64Bytes) return std::nullopt;
  uint64_t value = 0;
  for (char byte : bytes) value = (value << 8) | static_cast<uint8_t>(byte);
  return value;
}

namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// Maps a character to its Z85 digit, or -1.
constexpr std::array<int, 256> MakeZ85Decoder() {
  std::array<int, 256> table{};
  for (auto& entry : table) entry = -1;
  for (size_t i = 0; i < kZ85Alphabet.size(); ++i) {
    table[static_cast<unsigned char>(kZ85Alphabet[i])] = static_cast<int>(i);
  }
  return table;
}
constexpr std::array<int, 256> kZ85Decoder = MakeZ85Decoder();

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

std::string ToHex(std::string_view bytes) {
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), Bytes(bytes), bytes.size());
  hex.pop_back();
  return hex;
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string bytes(hex.size() / 2, '\0');
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(),
                     hex.size(), nullptr, &length, &end) != 0 ||
      end != hex.data() + hex.size() || length != bytes.size()) {
    return std::nullopt;
  }
  return bytes;
}

std::string ToBase64(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(text.data(), text.size(), Bytes(bytes), bytes.size(), kVariant);
  text.pop_back();  // the terminating NUL
  return text;
}

std::optional<std::string> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string bytes(text.size() / 4 * 3, '\0');
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &length, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  bytes.resize(length);
  return bytes;
}

std::string ToZ85(std::string_view bytes) {
  if (bytes.size() % 4 != 0) return "";
  std::string text;
  text.reserve(bytes.size() / 4 * 5);
  for (size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t value = 0;
    for (size_t j = 0; j < 4; ++j) value = value * 256 + static_cast<unsigned char>(bytes[i + j]);
    char group[5];
    for (int j = 4; j >= 0; --j) {
      group[j] = kZ85Alphabet[value % 85];
      value /= 85;
    }
    text.append(group, 5);
  }
  return text;
}

std::optional<std::string> FromZ85(std::string_view text) {
  if (text.size() % 5 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t value = 0;
    for (size_t j = 0; j < 5; ++j) {
      const int digit = kZ85Decoder[static_cast<unsigned char>(text[i + j])];
      if (digit < 0) return std::nullopt;
      value = value * 85 + static_cast<uint64_t>(digit);
    }
    if (value > UINT32_MAX) return std::nullopt;
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>((value >> shift) & 0xff));
    }
  }
  return bytes;
}

}  // namespace stafett::core
