// Key encoding helpers.
#include "stafett/core/records/key_encoding.h"

namespace stafett::core {

std::optional<std::string_view> TakePart(std::string_view* rest) {
  size_t end = rest->find('\0');
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view part = rest->substr(0, end);
  rest->remove_prefix(end + 1);
  return part;
}

}  // namespace stafett::core
