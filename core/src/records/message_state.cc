// MessageState codec and its rules.
#include "stafett/core/records/message_state.h"

#include <set>

#include "records/proto_codec.h"
#include "stafett/core/ids.h"
#include "stafett/records/v1/message_state.pb.h"

namespace stafett::core {
namespace {

namespace pb = records::v1;
namespace internal = records_internal;
constexpr std::string_view kRecord = "MessageState";

pb::RecipientState ToProto(RecipientState state) {
  switch (state) {
    case RecipientState::kQueued:
      return pb::RECIPIENT_STATE_QUEUED;
    case RecipientState::kDelivered:
      return pb::RECIPIENT_STATE_DELIVERED;
    case RecipientState::kWithheld:
      return pb::RECIPIENT_STATE_WITHHELD;
    case RecipientState::kExpired:
      return pb::RECIPIENT_STATE_EXPIRED;
    case RecipientState::kRejected:
      return pb::RECIPIENT_STATE_REJECTED;
  }
  return pb::RECIPIENT_STATE_UNSPECIFIED;
}

std::optional<RecipientState> FromProto(pb::RecipientState state) {
  switch (state) {
    case pb::RECIPIENT_STATE_QUEUED:
      return RecipientState::kQueued;
    case pb::RECIPIENT_STATE_DELIVERED:
      return RecipientState::kDelivered;
    case pb::RECIPIENT_STATE_WITHHELD:
      return RecipientState::kWithheld;
    case pb::RECIPIENT_STATE_EXPIRED:
      return RecipientState::kExpired;
    case pb::RECIPIENT_STATE_REJECTED:
      return RecipientState::kRejected;
    default:
      return std::nullopt;
  }
}

pb::MessageStatus ToProto(MessageStatus status) {
  switch (status) {
    case MessageStatus::kAccepted:
      return pb::MESSAGE_STATUS_ACCEPTED;
    case MessageStatus::kDelivered:
      return pb::MESSAGE_STATUS_DELIVERED;
    case MessageStatus::kWithheld:
      return pb::MESSAGE_STATUS_WITHHELD;
    case MessageStatus::kExpired:
      return pb::MESSAGE_STATUS_EXPIRED;
    case MessageStatus::kRejected:
      return pb::MESSAGE_STATUS_REJECTED;
  }
  return pb::MESSAGE_STATUS_UNSPECIFIED;
}

std::optional<MessageStatus> FromProto(pb::MessageStatus status) {
  switch (status) {
    case pb::MESSAGE_STATUS_ACCEPTED:
      return MessageStatus::kAccepted;
    case pb::MESSAGE_STATUS_DELIVERED:
      return MessageStatus::kDelivered;
    case pb::MESSAGE_STATUS_WITHHELD:
      return MessageStatus::kWithheld;
    case pb::MESSAGE_STATUS_EXPIRED:
      return MessageStatus::kExpired;
    case pb::MESSAGE_STATUS_REJECTED:
      return MessageStatus::kRejected;
    default:
      return std::nullopt;
  }
}

std::string RecipientProblem(const std::string& id, const RecipientDelivery& delivery) {
  std::string at = "recipients[" + id + "]";
  bool queued = delivery.state == RecipientState::kQueued;
  if (queued == delivery.finished_at.has_value()) {
    return at + ".finished_at " + (queued ? "set while queued" : "missing");
  }
  bool needs_code = !queued && delivery.state != RecipientState::kDelivered;
  if (needs_code != (delivery.code != Code::kOk)) {
    return at + ".code " + (needs_code ? "missing for " : "set for ") +
           std::string(RecipientStateName(delivery.state));
  }
  return "";
}

std::string Problem(const MessageState& state) {
  if (state.type.empty()) return "type missing";
  if (std::string p = internal::CheckPrincipal("from", state.from); !p.empty()) return p;
  if (state.to.empty() || state.to.size() > 64) return "to must name 1..64 recipients";
  std::set<std::string> to(state.to.begin(), state.to.end());
  if (to.size() != state.to.size()) return "to names a recipient twice";
  for (const std::string& id : state.to) {
    if (!IsValidEndpointId(id)) return "to holds an invalid endpoint id";
  }
  if (std::string p = internal::CheckPseudonym("subject", state.subject, true); !p.empty())
    return p;
  if (std::string p = internal::CheckMessageId("consent_id", state.consent_id, true); !p.empty()) {
    return p;
  }
  if (std::string p = internal::CheckMessageId("ref", state.ref, true); !p.empty()) return p;
  if (std::string p = internal::CheckDigest("payload_digest", state.payload_digest); !p.empty()) {
    return p;
  }
  if (std::string p = internal::CheckDigest("header_digest", state.header_digest); !p.empty()) {
    return p;
  }
  if (state.recipients.size() != to.size()) return "recipients do not match to";
  bool any_queued = false;
  for (const auto& [id, delivery] : state.recipients) {
    if (to.count(id) == 0) return "recipients do not match to";
    if (std::string p = RecipientProblem(id, delivery); !p.empty()) return p;
    any_queued = any_queued || delivery.state == RecipientState::kQueued;
  }
  if (any_queued != (state.status == MessageStatus::kAccepted)) {
    return "status " + std::string(MessageStatusName(state.status)) +
           (any_queued ? " while a recipient is queued" : " while every recipient is finished");
  }
  return "";
}

}  // namespace

std::string_view RecipientStateName(RecipientState state) {
  switch (state) {
    case RecipientState::kQueued:
      return "queued";
    case RecipientState::kDelivered:
      return "delivered";
    case RecipientState::kWithheld:
      return "withheld";
    case RecipientState::kExpired:
      return "expired";
    case RecipientState::kRejected:
      return "rejected";
  }
  return "?";
}

MessageStatus FinishedStatus(RecipientState last, bool all_delivered) {
  if (last == RecipientState::kQueued) return MessageStatus::kAccepted;
  if (all_delivered) return MessageStatus::kDelivered;
  switch (last) {
    case RecipientState::kWithheld:
      return MessageStatus::kWithheld;
    case RecipientState::kExpired:
      return MessageStatus::kExpired;
    case RecipientState::kRejected:
      return MessageStatus::kRejected;
    default:
      return MessageStatus::kDelivered;
  }
}

std::string_view MessageStatusName(MessageStatus status) {
  switch (status) {
    case MessageStatus::kAccepted:
      return "accepted";
    case MessageStatus::kDelivered:
      return "delivered";
    case MessageStatus::kWithheld:
      return "withheld";
    case MessageStatus::kExpired:
      return "expired";
    case MessageStatus::kRejected:
      return "rejected";
  }
  return "?";
}

Result<std::string> EncodeMessageState(const MessageState& state) {
  std::string problem = Problem(state);
  if (!problem.empty()) return internal::Unwritable(kRecord, problem);
  pb::MessageState proto;
  proto.set_seq(state.seq);
  proto.set_status(ToProto(state.status));
  proto.set_type(state.type);
  proto.set_from(state.from);
  for (const std::string& id : state.to) proto.add_to(id);
  proto.set_subject(state.subject);
  proto.set_consent_id(state.consent_id);
  proto.set_ref(state.ref);
  proto.set_accepted_at(state.accepted_at);
  proto.set_expires_at(state.expires_at);
  proto.set_payload_digest(state.payload_digest);
  proto.set_header_digest(state.header_digest);
  for (const auto& [id, delivery] : state.recipients) {
    pb::RecipientDelivery& out = (*proto.mutable_recipients())[id];
    out.set_state(ToProto(delivery.state));
    out.set_queue_seq(delivery.queue_seq);
    if (delivery.finished_at) out.set_finished_at(*delivery.finished_at);
    out.set_code(internal::CodeToStored(delivery.code));
    if (delivery.receipt_acknowledged_at) {
      out.set_receipt_acknowledged_at(*delivery.receipt_acknowledged_at);
    }
  }
  return internal::SerializeDeterministic(proto);
}

Result<MessageState> DecodeMessageState(std::string_view bytes) {
  pb::MessageState proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_seq()) return internal::Corrupt(kRecord, "seq missing");
  if (!proto.has_accepted_at()) return internal::Corrupt(kRecord, "accepted_at missing");
  if (!proto.has_expires_at()) return internal::Corrupt(kRecord, "expires_at missing");
  std::optional<MessageStatus> status = FromProto(proto.status());
  if (!status) return internal::Corrupt(kRecord, "status missing or unknown");
  MessageState state;
  state.seq = proto.seq();
  state.status = *status;
  state.type = proto.type();
  state.from = proto.from();
  state.to.assign(proto.to().begin(), proto.to().end());
  state.subject = proto.subject();
  state.consent_id = proto.consent_id();
  state.ref = proto.ref();
  state.accepted_at = proto.accepted_at();
  state.expires_at = proto.expires_at();
  state.payload_digest = proto.payload_digest();
  state.header_digest = proto.header_digest();
  for (const auto& [id, in] : proto.recipients()) {
    if (std::string unknown = internal::UnknownFieldPath(in, "recipients[" + id + "]");
        !unknown.empty()) {
      return internal::Corrupt(kRecord, "field " + unknown + " is not one this build knows");
    }
    std::optional<RecipientState> recipient_state = FromProto(in.state());
    if (!recipient_state) {
      return internal::Corrupt(kRecord, "recipients[" + id + "].state missing or unknown");
    }
    if (!in.has_queue_seq()) {
      return internal::Corrupt(kRecord, "recipients[" + id + "].queue_seq missing");
    }
    RecipientDelivery delivery;
    delivery.state = *recipient_state;
    delivery.queue_seq = in.queue_seq();
    if (in.has_finished_at()) delivery.finished_at = in.finished_at();
    if (!internal::CodeFromStored(in.code(), &delivery.code)) {
      return internal::Corrupt(kRecord, "recipients[" + id + "].code is not in the catalogue");
    }
    if (in.has_receipt_acknowledged_at()) {
      delivery.receipt_acknowledged_at = in.receipt_acknowledged_at();
    }
    state.recipients.emplace(id, delivery);
  }
  std::string problem = Problem(state);
  if (!problem.empty()) return internal::Corrupt(kRecord, problem);
  return state;
}

}  // namespace stafett::core
