// Key encoding for ordered stores: unsigned 64-bit big-endian numbers (so that keys sort
// numerically; the helpers are core/encoding.h's) and 0x00-separated text parts.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stafett/core/encoding.h"

namespace stafett::core {

// Splits the first 0x00-terminated part off *REST (the part without its 0x00); nullopt when
// *REST holds no 0x00.
std::optional<std::string_view> TakePart(std::string_view* rest);

}  // namespace stafett::core
