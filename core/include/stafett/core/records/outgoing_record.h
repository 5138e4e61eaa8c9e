// OutgoingRecord: the agent journal's record of one message it sends — its state, what it
// says about routing, and the receipts so far (stafett/records/v1/journal.proto). The outbox
// file name is never stored.
// Thread-safety: values and pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/records/queue_entry.h"
#include "stafett/core/status.h"

namespace stafett::core {

// kPending is the only state that is (re)sent.
enum class OutgoingState { kPending, kAccepted, kRefused };
std::string_view OutgoingStateName(OutgoingState state);  // "pending", "accepted", "refused"

// What one recipient's receipt said. A "delivered" receipt whose signature did not verify is
// kept as delivered with the code of the failed check (docs/AGENT.md, receipt_invalid): it does
// not count as delivered.
struct RecipientOutcome {
  ReceiptStatus status = ReceiptStatus::kDelivered;
  Code code = Code::kOk;  // required when withheld or expired; kOk for a verified delivery
  // Whether the recipient has it, on the strength of a verified receipt.
  bool verified_delivery() const {
    return status == ReceiptStatus::kDelivered && code == Code::kOk;
  }
  bool operator==(const RecipientOutcome&) const = default;
};

struct OutgoingRecord {
  std::string message_id;
  OutgoingState state = OutgoingState::kPending;
  std::string type;
  std::vector<std::string> to;
  std::string subject;                // pseudonym; "" only for a message about no child
  std::string consent_id;             // "" = none
  std::string document_digest;        // raw SHA-256 of the canonical document, 32 bytes
  std::optional<ConsentScope> scope;  // consent_granted only
  std::map<std::string, RecipientOutcome> recipients;  // receipts so far
  Micros created_at = 0;
  std::optional<Micros> accepted_at;  // once accepted
  Code refusal_code = Code::kOk;      // not kOk iff refused
  std::string refusal_message;        // with refusal_code, at most 500 bytes
  Code retry_code = Code::kOk;        // STORAGE_FULL/UNAVAILABLE while pending, else kOk
  bool operator==(const OutgoingRecord&) const = default;
};

[[nodiscard]] Result<std::string> EncodeOutgoingRecord(const OutgoingRecord& record);
[[nodiscard]] Result<OutgoingRecord> DecodeOutgoingRecord(std::string_view bytes);

}  // namespace stafett::core
