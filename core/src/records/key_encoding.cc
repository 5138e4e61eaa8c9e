// Key encoding helpers.
#include "stafett/core/records/key_encoding.h"

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

std::optional<std::string_view> TakePart(std::string_view* rest) {
  size_t end = rest->find('\0');
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view part = rest->substr(0, end);
  rest->remove_prefix(end + 1);
  return part;
}

}  // namespace stafett::core
