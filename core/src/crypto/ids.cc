// Message ids (UUIDv7, RFC 9562) and the id syntax checks.
// Thread-safety: pure functions; randomness from the caller's RandomSource.
#include "stafett/core/ids.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

bool IsEndpointLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  for (char c : label) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string NewMessageId(Micros now) { return NewMessageId(now, SystemRandom::Instance()); }

std::string NewMessageId(Micros now, RandomSource& random) {
  const uint64_t millis = now > 0 ? static_cast<uint64_t>(now / 1000) : 0;
  std::array<unsigned char, 16> bytes;
  std::string drawn = random.Bytes(bytes.size());
  std::copy(drawn.begin(), drawn.end(), bytes.begin());
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(millis >> (40 - 8 * i));
  bytes[6] = static_cast<unsigned char>(0x70 | (bytes[6] & 0x0f));  // version 7
  bytes[8] = static_cast<unsigned char>(0x80 | (bytes[8] & 0x3f));  // variant 0b10
  const std::string hex =
      ToHex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

bool IsValidMessageId(std::string_view id) {
  if (id.empty() || id.size() > 64 || !IsAlnum(id[0])) return false;
  for (char c : id) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsValidEndpointId(std::string_view id) {
  const size_t dot = id.find('.');
  if (id.size() > 128 || dot == std::string_view::npos) return false;
  return IsEndpointLabel(id.substr(0, dot)) && IsEndpointLabel(id.substr(dot + 1));
}

bool IsValidPrincipalId(std::string_view id) {
  if (id.empty() || id.size() > 128 || !IsLowerAlnum(id[0])) return false;
  for (char c : id) {
    if (!IsLowerAlnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace stafett::core
