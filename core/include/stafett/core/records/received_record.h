// ReceivedRecord: an incoming message the agent already wrote to its inbox, under
// r/<message id> in the journal (stafett/records/v1/journal.proto). A redelivery of the id is
// acknowledged again without touching the inbox.
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::core {

struct ReceivedRecord {
  Micros received_at = 0;
  std::string type;  // "" when the file was found in the inbox before the journal knew it
  // The message's expiry; 0 when not known (an earlier build's record, or one recorded from the
  // inbox file after a crash between file and journal). The retention keeps
  // the id until the broker can no longer deliver the message again (docs/PRIVACY.md).
  Micros expires_at = 0;
  bool operator==(const ReceivedRecord&) const = default;
};

[[nodiscard]] Result<std::string> EncodeReceivedRecord(const ReceivedRecord& record);
[[nodiscard]] Result<ReceivedRecord> DecodeReceivedRecord(std::string_view bytes);

}  // namespace stafett::core
