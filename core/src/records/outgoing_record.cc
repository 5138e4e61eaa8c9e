// OutgoingRecord codec.
#include "stafett/core/records/outgoing_record.h"

#include "records/proto_codec.h"
#include "stafett/core/ids.h"
#include "stafett/records/v1/journal.pb.h"

namespace stafett::core {
namespace {

namespace pb = records::v1;
namespace internal = records_internal;
constexpr std::string_view kRecord = "OutgoingRecord";
constexpr size_t kMaxRefusalMessageBytes = 500;

std::string Problem(const OutgoingRecord& record) {
  if (std::string p = internal::CheckMessageId("message_id", record.message_id, false);
      !p.empty()) {
    return p;
  }
  if (record.type.empty()) return "type missing";
  if (record.to.empty()) return "to missing";
  for (const std::string& id : record.to) {
    if (!IsValidEndpointId(id)) return "to holds an invalid endpoint id";
  }
  if (std::string p = internal::CheckPseudonym("subject", record.subject, true); !p.empty()) {
    return p;
  }
  if (std::string p = internal::CheckMessageId("consent_id", record.consent_id, true); !p.empty()) {
    return p;
  }
  if (std::string p = internal::CheckDigest("document_digest", record.document_digest);
      !p.empty()) {
    return p;
  }
  for (const auto& [id, outcome] : record.recipients) {
    // A delivered outcome with a code is a receipt that did not verify (receipt_invalid).
    if (outcome.status != ReceiptStatus::kDelivered && outcome.code == Code::kOk) {
      return "recipients[" + id + "].code missing";
    }
  }
  bool refused = record.state == OutgoingState::kRefused;
  if (refused != (record.refusal_code != Code::kOk)) {
    return refused ? "refusal_code missing" : "refusal_code set, not refused";
  }
  if (record.refusal_message.size() > kMaxRefusalMessageBytes) return "refusal_message too long";
  if (record.retry_code != Code::kOk && record.state != OutgoingState::kPending) {
    return "retry_code set, not pending";
  }
  if (record.accepted_at && record.state == OutgoingState::kPending) {
    return "accepted_at set while pending";
  }
  return "";
}

pb::OutgoingState ToProto(OutgoingState state) {
  switch (state) {
    case OutgoingState::kPending:
      return pb::OUTGOING_STATE_PENDING;
    case OutgoingState::kAccepted:
      return pb::OUTGOING_STATE_ACCEPTED;
    case OutgoingState::kRefused:
      return pb::OUTGOING_STATE_REFUSED;
  }
  return pb::OUTGOING_STATE_UNSPECIFIED;
}

}  // namespace

std::string_view OutgoingStateName(OutgoingState state) {
  switch (state) {
    case OutgoingState::kPending:
      return "pending";
    case OutgoingState::kAccepted:
      return "accepted";
    case OutgoingState::kRefused:
      return "refused";
  }
  return "?";
}

Result<std::string> EncodeOutgoingRecord(const OutgoingRecord& record) {
  std::string problem = Problem(record);
  if (!problem.empty()) return internal::Unwritable(kRecord, problem);
  pb::OutgoingRecord proto;
  proto.set_message_id(record.message_id);
  proto.set_state(ToProto(record.state));
  proto.set_type(record.type);
  for (const std::string& id : record.to) proto.add_to(id);
  proto.set_subject(record.subject);
  proto.set_consent_id(record.consent_id);
  proto.set_document_digest(record.document_digest);
  if (record.scope) {
    pb::ConsentScope* scope = proto.mutable_scope();
    for (const std::string& party : record.scope->parties) scope->add_parties(party);
    for (const std::string& purpose : record.scope->purposes) scope->add_purposes(purpose);
    scope->set_valid_from(record.scope->valid_from);
    scope->set_valid_until(record.scope->valid_until);
  }
  for (const auto& [id, outcome] : record.recipients) {
    pb::RecipientOutcome& out = (*proto.mutable_recipients())[id];
    out.set_status(outcome.status == ReceiptStatus::kDelivered  ? pb::RECEIPT_STATUS_DELIVERED
                   : outcome.status == ReceiptStatus::kWithheld ? pb::RECEIPT_STATUS_WITHHELD
                                                                : pb::RECEIPT_STATUS_EXPIRED);
    out.set_code(internal::CodeToStored(outcome.code));
  }
  proto.set_created_at(record.created_at);
  if (record.accepted_at) proto.set_accepted_at(*record.accepted_at);
  proto.set_refusal_code(internal::CodeToStored(record.refusal_code));
  proto.set_refusal_message(record.refusal_message);
  proto.set_retry_code(internal::CodeToStored(record.retry_code));
  return internal::SerializeDeterministic(proto);
}

Result<OutgoingRecord> DecodeOutgoingRecord(std::string_view bytes) {
  pb::OutgoingRecord proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_created_at()) return internal::Corrupt(kRecord, "created_at missing");
  OutgoingRecord record;
  switch (proto.state()) {
    case pb::OUTGOING_STATE_PENDING:
      record.state = OutgoingState::kPending;
      break;
    case pb::OUTGOING_STATE_ACCEPTED:
      record.state = OutgoingState::kAccepted;
      break;
    case pb::OUTGOING_STATE_REFUSED:
      record.state = OutgoingState::kRefused;
      break;
    default:
      return internal::Corrupt(kRecord, "state missing or unknown");
  }
  record.message_id = proto.message_id();
  record.type = proto.type();
  record.to.assign(proto.to().begin(), proto.to().end());
  record.subject = proto.subject();
  record.consent_id = proto.consent_id();
  record.document_digest = proto.document_digest();
  if (proto.has_scope()) {
    const pb::ConsentScope& in = proto.scope();
    if (!in.has_valid_from() || !in.has_valid_until()) {
      return internal::Corrupt(kRecord, "scope validity missing");
    }
    ConsentScope scope;
    scope.parties.assign(in.parties().begin(), in.parties().end());
    scope.purposes.assign(in.purposes().begin(), in.purposes().end());
    scope.valid_from = in.valid_from();
    scope.valid_until = in.valid_until();
    record.scope = std::move(scope);
  }
  for (const auto& [id, in] : proto.recipients()) {
    if (std::string unknown = internal::UnknownFieldPath(in, "recipients[" + id + "]");
        !unknown.empty()) {
      return internal::Corrupt(kRecord, "field " + unknown + " is not one this build knows");
    }
    RecipientOutcome outcome;
    switch (in.status()) {
      case pb::RECEIPT_STATUS_DELIVERED:
        outcome.status = ReceiptStatus::kDelivered;
        break;
      case pb::RECEIPT_STATUS_WITHHELD:
        outcome.status = ReceiptStatus::kWithheld;
        break;
      case pb::RECEIPT_STATUS_EXPIRED:
        outcome.status = ReceiptStatus::kExpired;
        break;
      default:
        return internal::Corrupt(kRecord, "recipients[" + id + "].status missing or unknown");
    }
    if (!internal::CodeFromStored(in.code(), &outcome.code)) {
      return internal::Corrupt(kRecord, "recipients[" + id + "].code is not in the catalogue");
    }
    record.recipients.emplace(id, outcome);
  }
  record.created_at = proto.created_at();
  if (proto.has_accepted_at()) record.accepted_at = proto.accepted_at();
  if (!internal::CodeFromStored(proto.refusal_code(), &record.refusal_code) ||
      !internal::CodeFromStored(proto.retry_code(), &record.retry_code)) {
    return internal::Corrupt(kRecord, "a code is not in the catalogue");
  }
  record.refusal_message = proto.refusal_message();
  std::string problem = Problem(record);
  if (!problem.empty()) return internal::Corrupt(kRecord, problem);
  return record;
}

}  // namespace stafett::core
