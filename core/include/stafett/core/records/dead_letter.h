// DeadLetter: a delivery that ended otherwise than delivered, under message id ‖ 0x00 ‖
// recipient (stafett/records/v1/index_entries.proto).
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stafett/core/clock.h"
#include "stafett/core/records/message_state.h"
#include "stafett/core/status.h"

namespace stafett::core {

struct DeadLetter {
  RecipientState outcome = RecipientState::kExpired;  // withheld, expired or rejected
  Code code = Code::kExpired;                         // never kOk
  Micros at = 0;
  bool operator==(const DeadLetter&) const = default;
};

[[nodiscard]] Result<std::string> EncodeDeadLetter(const DeadLetter& letter);
[[nodiscard]] Result<DeadLetter> DecodeDeadLetter(std::string_view bytes);

}  // namespace stafett::core
