// Key encoding for ordered stores: unsigned 64-bit big-endian numbers (so that keys sort
// numerically) and 0x00-separated text parts. The one copy of these helpers.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stafett::core {

inline constexpr size_t kBigEndian64Bytes = 8;

// Appends VALUE as 8 big-endian bytes to *OUT.
void AppendBigEndian64(uint64_t value, std::string* out);
std::string BigEndian64(uint64_t value);
// The number in exactly 8 big-endian bytes; nullopt for any other length.
std::optional<uint64_t> ReadBigEndian64(std::string_view bytes);

// Splits the first 0x00-terminated part off *REST (the part without its 0x00); nullopt when
// *REST holds no 0x00.
std::optional<std::string_view> TakePart(std::string_view* rest);

}  // namespace stafett::core
