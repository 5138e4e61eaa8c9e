// QueueEntry codec.
#include "stafett/core/records/queue_entry.h"

#include "records/proto_codec.h"
#include "stafett/core/crypto.h"
#include "stafett/core/ids.h"
#include "stafett/records/v1/queue_entry.pb.h"

namespace stafett::core {
namespace {

namespace pb = records::v1;
namespace internal = records_internal;
constexpr std::string_view kRecord = "QueueEntry";

std::string Problem(const QueueEntry& entry) {
  if (const auto* message = std::get_if<QueuedMessage>(&entry.item)) {
    return internal::CheckMessageId("message_id", message->message_id, false);
  }
  const QueuedReceipt& receipt = std::get<QueuedReceipt>(entry.item);
  if (std::string p = internal::CheckMessageId("receipt.message_id", receipt.message_id, false);
      !p.empty()) {
    return p;
  }
  if (!IsValidEndpointId(receipt.recipient)) return "receipt.recipient missing or invalid";
  bool delivered = receipt.status == ReceiptStatus::kDelivered;
  if (delivered != (receipt.code == Code::kOk)) {
    return delivered ? "receipt.code set for delivered" : "receipt.code missing";
  }
  if (delivered != !receipt.receipt_key.empty()) {
    return delivered ? "receipt.receipt_key missing" : "receipt.receipt_key set, not delivered";
  }
  if (delivered ? receipt.receipt_signature.size() != kSignatureBytes
                : !receipt.receipt_signature.empty()) {
    return delivered ? "receipt.receipt_signature is not 64 bytes"
                     : "receipt.receipt_signature set, not delivered";
  }
  return "";
}

}  // namespace

std::string_view ReceiptStatusName(ReceiptStatus status) {
  switch (status) {
    case ReceiptStatus::kDelivered:
      return "delivered";
    case ReceiptStatus::kWithheld:
      return "withheld";
    case ReceiptStatus::kExpired:
      return "expired";
  }
  return "?";
}

std::optional<ReceiptStatus> ReceiptStatusFromName(std::string_view name) {
  for (ReceiptStatus status :
       {ReceiptStatus::kDelivered, ReceiptStatus::kWithheld, ReceiptStatus::kExpired}) {
    if (ReceiptStatusName(status) == name) return status;
  }
  return std::nullopt;
}

Result<std::string> EncodeQueueEntry(const QueueEntry& entry) {
  std::string problem = Problem(entry);
  if (!problem.empty()) return internal::Unwritable(kRecord, problem);
  pb::QueueEntry proto;
  proto.set_queued_at(entry.queued_at);
  if (const auto* message = std::get_if<QueuedMessage>(&entry.item)) {
    proto.mutable_message()->set_message_id(message->message_id);
  } else {
    const QueuedReceipt& receipt = std::get<QueuedReceipt>(entry.item);
    pb::Receipt* out = proto.mutable_receipt();
    out->set_message_id(receipt.message_id);
    out->set_recipient(receipt.recipient);
    out->set_status(receipt.status == ReceiptStatus::kDelivered  ? pb::RECEIPT_STATUS_DELIVERED
                    : receipt.status == ReceiptStatus::kWithheld ? pb::RECEIPT_STATUS_WITHHELD
                                                                 : pb::RECEIPT_STATUS_EXPIRED);
    out->set_code(internal::CodeToStored(receipt.code));
    out->set_time(receipt.time);
    out->set_seq(receipt.seq);
    out->set_receipt_key(receipt.receipt_key);
    out->set_receipt_signature(receipt.receipt_signature);
  }
  return internal::SerializeDeterministic(proto);
}

Result<QueueEntry> DecodeQueueEntry(std::string_view bytes) {
  pb::QueueEntry proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_queued_at()) return internal::Corrupt(kRecord, "queued_at missing");
  QueueEntry entry;
  entry.queued_at = proto.queued_at();
  if (proto.has_message()) {
    entry.item = QueuedMessage{proto.message().message_id()};
  } else if (proto.has_receipt()) {
    const pb::Receipt& in = proto.receipt();
    QueuedReceipt receipt;
    switch (in.status()) {
      case pb::RECEIPT_STATUS_DELIVERED:
        receipt.status = ReceiptStatus::kDelivered;
        break;
      case pb::RECEIPT_STATUS_WITHHELD:
        receipt.status = ReceiptStatus::kWithheld;
        break;
      case pb::RECEIPT_STATUS_EXPIRED:
        receipt.status = ReceiptStatus::kExpired;
        break;
      default:
        return internal::Corrupt(kRecord, "receipt.status missing or unknown");
    }
    if (!in.has_time()) return internal::Corrupt(kRecord, "receipt.time missing");
    if (!in.has_seq()) return internal::Corrupt(kRecord, "receipt.seq missing");
    if (!internal::CodeFromStored(in.code(), &receipt.code)) {
      return internal::Corrupt(kRecord, "receipt.code is not in the catalogue");
    }
    receipt.message_id = in.message_id();
    receipt.recipient = in.recipient();
    receipt.time = in.time();
    receipt.seq = in.seq();
    receipt.receipt_key = in.receipt_key();
    receipt.receipt_signature = in.receipt_signature();
    entry.item = std::move(receipt);
  } else {
    return internal::Corrupt(kRecord, "neither a message nor a receipt");
  }
  std::string problem = Problem(entry);
  if (!problem.empty()) return internal::Corrupt(kRecord, problem);
  return entry;
}

}  // namespace stafett::core
