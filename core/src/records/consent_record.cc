// ConsentRecord codec.
#include "stafett/core/records/consent_record.h"

#include "records/proto_codec.h"
#include "stafett/records/v1/consent_record.pb.h"

namespace stafett::core {
namespace {

namespace pb = records::v1;
namespace internal = records_internal;
constexpr std::string_view kRecord = "ConsentRecord";

std::string EventProblem(std::string_view field, const ConsentEvent& event) {
  if (std::string p =
          internal::CheckMessageId(std::string(field) + ".message_id", event.message_id, false);
      !p.empty()) {
    return p;
  }
  return internal::CheckPrincipal(std::string(field) + ".by", event.by);
}

std::string Problem(const ConsentRecord& record) {
  const ConsentFacts& facts = record.facts;
  if (std::string p = internal::CheckMessageId("consent_id", facts.consent_id, false); !p.empty()) {
    return p;
  }
  if (std::string p = internal::CheckPseudonym("subject", facts.subject, false); !p.empty()) {
    return p;
  }
  if (std::string p = internal::CheckPrincipal("recorded_by", facts.recorded_by); !p.empty()) {
    return p;
  }
  if (facts.parties.empty() || facts.parties.size() > 64) return "parties must be 1..64";
  if (facts.purposes.empty() || facts.purposes.size() > 16) return "purposes must be 1..16";
  if (facts.valid_until < facts.valid_from) return "valid_until before valid_from";
  if (record.revocation && !facts.revoked) return "a revocation without revoked";
  if (record.granted) {
    if (std::string p = EventProblem("granted", *record.granted); !p.empty()) return p;
  }
  if (record.revocation) {
    if (std::string p = EventProblem("revocation", *record.revocation); !p.empty()) return p;
  }
  return "";
}

void EventToProto(const ConsentEvent& event, pb::ConsentEvent* out) {
  out->set_message_id(event.message_id);
  if (event.seq) out->set_seq(*event.seq);
  out->set_by(event.by);
  out->set_at(event.at);
}

Status EventFromProto(std::string_view field, const pb::ConsentEvent& in, ConsentEvent* out) {
  if (!in.has_at()) return internal::Corrupt(kRecord, std::string(field) + ".at missing");
  out->message_id = in.message_id();
  if (in.has_seq()) out->seq = in.seq();
  out->by = in.by();
  out->at = in.at();
  return Status::Ok();
}

}  // namespace

bool ConsentRecord::operator==(const ConsentRecord& other) const {
  const ConsentFacts& a = facts;
  const ConsentFacts& b = other.facts;
  return a.consent_id == b.consent_id && a.subject == b.subject && a.recorded_by == b.recorded_by &&
         a.parties == b.parties && a.purposes == b.purposes && a.valid_from == b.valid_from &&
         a.valid_until == b.valid_until && a.revoked == b.revoked && granted == other.granted &&
         revocation == other.revocation;
}

Result<std::string> EncodeConsentRecord(const ConsentRecord& record) {
  std::string problem = Problem(record);
  if (!problem.empty()) return internal::Unwritable(kRecord, problem);
  const ConsentFacts& facts = record.facts;
  pb::ConsentRecord proto;
  proto.set_consent_id(facts.consent_id);
  proto.set_subject(facts.subject);
  proto.set_recorded_by(facts.recorded_by);
  for (const std::string& party : facts.parties) proto.add_parties(party);
  for (const std::string& purpose : facts.purposes) proto.add_purposes(purpose);
  proto.set_valid_from(facts.valid_from);
  proto.set_valid_until(facts.valid_until);
  proto.set_revoked(facts.revoked);
  if (record.granted) EventToProto(*record.granted, proto.mutable_granted());
  if (record.revocation) EventToProto(*record.revocation, proto.mutable_revocation());
  return internal::SerializeDeterministic(proto);
}

Result<ConsentRecord> DecodeConsentRecord(std::string_view bytes) {
  pb::ConsentRecord proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_valid_from()) return internal::Corrupt(kRecord, "valid_from missing");
  if (!proto.has_valid_until()) return internal::Corrupt(kRecord, "valid_until missing");
  ConsentRecord record;
  ConsentFacts& facts = record.facts;
  facts.consent_id = proto.consent_id();
  facts.subject = proto.subject();
  facts.recorded_by = proto.recorded_by();
  facts.parties.assign(proto.parties().begin(), proto.parties().end());
  facts.purposes.assign(proto.purposes().begin(), proto.purposes().end());
  facts.valid_from = proto.valid_from();
  facts.valid_until = proto.valid_until();
  facts.revoked = proto.revoked();
  if (proto.has_granted()) {
    record.granted.emplace();
    STAFETT_RETURN_IF_ERROR(EventFromProto("granted", proto.granted(), &*record.granted));
  }
  if (proto.has_revocation()) {
    record.revocation.emplace();
    STAFETT_RETURN_IF_ERROR(EventFromProto("revocation", proto.revocation(), &*record.revocation));
  }
  std::string problem = Problem(record);
  if (!problem.empty()) return internal::Corrupt(kRecord, problem);
  return record;
}

std::optional<ConsentRecord> LearnConsent(std::string_view type, const std::string& consent_id,
                                          const std::string& subject, const std::string& from,
                                          const std::optional<ConsentScope>& scope,
                                          const ConsentEvent& event,
                                          const std::optional<ConsentRecord>& known) {
  if (type == "consent_granted" && scope) {
    ConsentRecord consent;
    consent.facts = ConsentFacts{
        consent_id,         subject, from, scope->parties, scope->purposes, scope->valid_from,
        scope->valid_until, false};
    consent.granted = event;
    return consent;
  }
  if (type == "consent_revoked" && known) {
    ConsentRecord revoked = *known;
    revoked.facts.revoked = true;
    revoked.revocation = event;
    return revoked;
  }
  return std::nullopt;
}

}  // namespace stafett::core
