// The broker store's key builders: one place, so the layout stays as docs/STORAGE.md says.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stafett/core/clock.h"

namespace stafett::store::keys {

inline constexpr std::string_view kFormat = "format";
inline constexpr std::string_view kQueueSeq = "queue_seq";

std::string QueuePrefix(std::string_view endpoint);  // endpoint 0x00
std::string Queue(std::string_view endpoint, uint64_t queue_seq);
std::string Expiry(core::Micros expires_at, std::string_view message_id);
std::string Merkle(uint32_t level, uint64_t index);
std::string DeadLetter(std::string_view message_id, std::string_view recipient);
// The smallest key above every key that starts with PREFIX ("" if there is none).
std::string PrefixEnd(std::string_view prefix);

}  // namespace stafett::store::keys
