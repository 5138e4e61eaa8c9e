// DeadLetter codec.
#include "stafett/core/records/dead_letter.h"

#include "records/proto_codec.h"
#include "stafett/records/v1/index_entries.pb.h"

namespace stafett::core {
namespace {

namespace pb = records::v1;
namespace internal = records_internal;
constexpr std::string_view kRecord = "DeadLetter";

std::string Problem(const DeadLetter& letter) {
  if (letter.outcome == RecipientState::kQueued || letter.outcome == RecipientState::kDelivered) {
    return "outcome " + std::string(RecipientStateName(letter.outcome)) + " is not a dead letter";
  }
  if (letter.code == Code::kOk) return "code missing";
  return "";
}

}  // namespace

Result<std::string> EncodeDeadLetter(const DeadLetter& letter) {
  std::string problem = Problem(letter);
  if (!problem.empty()) return internal::Unwritable(kRecord, problem);
  pb::DeadLetter proto;
  proto.set_outcome(letter.outcome == RecipientState::kWithheld  ? pb::RECIPIENT_STATE_WITHHELD
                    : letter.outcome == RecipientState::kExpired ? pb::RECIPIENT_STATE_EXPIRED
                                                                 : pb::RECIPIENT_STATE_REJECTED);
  proto.set_code(internal::CodeToStored(letter.code));
  proto.set_at(letter.at);
  return internal::SerializeDeterministic(proto);
}

Result<DeadLetter> DecodeDeadLetter(std::string_view bytes) {
  pb::DeadLetter proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_at()) return internal::Corrupt(kRecord, "at missing");
  DeadLetter letter;
  switch (proto.outcome()) {
    case pb::RECIPIENT_STATE_WITHHELD:
      letter.outcome = RecipientState::kWithheld;
      break;
    case pb::RECIPIENT_STATE_EXPIRED:
      letter.outcome = RecipientState::kExpired;
      break;
    case pb::RECIPIENT_STATE_REJECTED:
      letter.outcome = RecipientState::kRejected;
      break;
    default:
      return internal::Corrupt(kRecord, "outcome missing or not a dead letter's");
  }
  if (!internal::CodeFromStored(proto.code(), &letter.code)) {
    return internal::Corrupt(kRecord, "code is not in the catalogue");
  }
  letter.at = proto.at();
  std::string problem = Problem(letter);
  if (!problem.empty()) return internal::Corrupt(kRecord, problem);
  return letter;
}

}  // namespace stafett::core
