// MessageState: the broker's record of one accepted message and of its delivery to each
// recipient (stafett/records/v1/message_state.proto). Kept after delivery: it answers `track`.
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::core {

// Where delivery to one recipient stands, as stored. In flight is a session's state, in memory
// only (core/delivery_machine.h); a restart queues it again.
enum class RecipientState { kQueued, kDelivered, kWithheld, kExpired, kRejected };
// "queued", "delivered", "withheld", "expired", "rejected".
std::string_view RecipientStateName(RecipientState state);

// The message as a whole: accepted until every recipient is finished.
enum class MessageStatus { kAccepted, kDelivered, kWithheld, kExpired, kRejected };
std::string_view MessageStatusName(MessageStatus status);
// The status of a message whose every recipient is finished, the last with LAST: delivered when
// ALL_DELIVERED, else LAST's outcome. kAccepted for LAST = kQueued (not finished).
MessageStatus FinishedStatus(RecipientState last, bool all_delivered);

struct RecipientDelivery {
  RecipientState state = RecipientState::kQueued;
  uint64_t queue_seq = 0;                         // its entry in the recipient's queue
  std::optional<Micros> finished_at;              // set iff state is not kQueued
  Code code = Code::kOk;                          // kOk iff queued or delivered
  std::optional<Micros> receipt_acknowledged_at;  // the sender ACKed the receipt

  bool operator==(const RecipientDelivery&) const = default;
};

struct MessageState {
  uint64_t seq = 0;  // audit position of the acceptance
  MessageStatus status = MessageStatus::kAccepted;
  std::string type;
  std::string from;
  std::vector<std::string> to;  // 1..64 endpoint ids, in the sender's order
  std::string subject;          // pseudonym; "" only for a message about no child
  std::string consent_id;       // "" = none
  std::string ref;              // "" = none
  Micros accepted_at = 0;
  Micros expires_at = 0;
  std::string payload_digest;                           // raw SHA-256, 32 bytes
  std::string header_digest;                            // raw SHA-256 of the header bytes, 32 bytes
  std::map<std::string, RecipientDelivery> recipients;  // exactly the ids in `to`

  bool operator==(const MessageState&) const = default;
};

// INTERNAL (nothing to write) for a state that breaks the rules above: a required field
// missing, recipients not matching `to`, a finished recipient without its time or code, a
// status that does not fit the recipients.
[[nodiscard]] Result<std::string> EncodeMessageState(const MessageState& state);
// CORRUPTION for bytes that are not a whole, valid message state.
[[nodiscard]] Result<MessageState> DecodeMessageState(std::string_view bytes);

}  // namespace stafett::core
