// SourceEntry: the message id given to one outbox file drop, under s/<source key> in the agent
// journal (stafett/records/v1/journal.proto). The source key is a keyed hash of the file name
// and content; the name itself is never stored.
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stafett/core/status.h"

namespace stafett::core {

struct SourceEntry {
  std::string message_id;
  bool operator==(const SourceEntry&) const = default;
};

[[nodiscard]] Result<std::string> EncodeSourceEntry(const SourceEntry& entry);
[[nodiscard]] Result<SourceEntry> DecodeSourceEntry(std::string_view bytes);

}  // namespace stafett::core
