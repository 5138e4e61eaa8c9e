// QueueEntry: one entry in an endpoint's durable queue — a message to deliver to it, or a
// receipt for a message it sent (stafett/records/v1/queue_entry.proto).
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::core {

// What a receipt tells the sender about one recipient. A recipient's REJECTED travels as
// withheld (docs/PROTOCOL.md, "Delivering").
enum class ReceiptStatus { kDelivered, kWithheld, kExpired };
// "delivered", "withheld", "expired": the wire names.
std::string_view ReceiptStatusName(ReceiptStatus status);
// The status of a wire name; nullopt for any other text.
std::optional<ReceiptStatus> ReceiptStatusFromName(std::string_view name);

struct QueuedMessage {
  std::string message_id;
  bool operator==(const QueuedMessage&) const = default;
};

struct QueuedReceipt {
  std::string message_id;
  std::string recipient;
  ReceiptStatus status = ReceiptStatus::kDelivered;
  Code code = Code::kOk;          // kOk iff delivered
  Micros time = 0;                // when the outcome happened
  uint64_t seq = 0;               // the outcome's audit position
  std::string receipt_key;        // the recipient's key id; iff delivered
  std::string receipt_signature;  // raw Ed25519, 64 bytes; iff delivered
  bool operator==(const QueuedReceipt&) const = default;
};

struct QueueEntry {
  Micros queued_at = 0;
  std::variant<QueuedMessage, QueuedReceipt> item;
  bool operator==(const QueueEntry&) const = default;
};

[[nodiscard]] Result<std::string> EncodeQueueEntry(const QueueEntry& entry);
[[nodiscard]] Result<QueueEntry> DecodeQueueEntry(std::string_view bytes);

}  // namespace stafett::core
