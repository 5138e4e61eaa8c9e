// Rules: the routing and consent table and the checks that apply it.
#include "stafett/core/rules.h"

#include <algorithm>

namespace stafett::core {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Status Refuse(Code code, std::string message) { return Status(code, std::move(message)); }

Status CheckConsent(const MessageRule& rule, const RouteFacts& facts) {
  if (facts.consent_id.empty()) {
    return Refuse(Code::kConsentRequired, facts.type + " needs a consent_id");
  }
  if (!facts.consent) return Refuse(Code::kConsentRequired, "unknown consent_id");
  const ConsentFacts& consent = *facts.consent;
  if (consent.subject != facts.subject) {
    return Refuse(Code::kConsentScope, "the consent is for another child");
  }
  if (!Contains(consent.parties, facts.from)) {
    return Refuse(Code::kConsentScope, "the sender is not a party of the consent");
  }
  for (const std::string& recipient : facts.to) {
    if (!Contains(consent.parties, recipient)) {
      return Refuse(Code::kConsentScope,
                    "recipient " + recipient + " is not a party of the consent");
    }
  }
  if (!Contains(consent.purposes, rule.purpose)) {
    return Refuse(Code::kConsentScope,
                  "the consent does not cover the purpose " + std::string(rule.purpose));
  }
  return CheckConsentActive(consent, facts.now);
}

Status CheckReference(const MessageRule& rule, const RouteFacts& facts) {
  if (rule.reference == "none") return Status::Ok();
  if (facts.ref.empty()) return Refuse(Code::kNotAllowed, facts.type + " must reference a message");
  if (!facts.referenced) {
    if (facts.referenced_checked_upstream) return Status::Ok();
    return Refuse(Code::kNotAllowed, "the referenced message is unknown");
  }
  const ReferencedMessage& earlier = *facts.referenced;
  if (rule.reference.find(earlier.type) == std::string_view::npos) {
    return Refuse(Code::kNotAllowed, "the referenced message is of the wrong type");
  }
  if (earlier.subject != facts.subject) {
    return Refuse(Code::kNotAllowed, "the referenced message concerns another child");
  }
  if (rule.reference_route == "back_to_reporter" || rule.reference_route == "back_to_requester") {
    // Only a recipient of the earlier message may answer, and only to its sender.
    if (!Contains(earlier.to, facts.from)) {
      return Refuse(Code::kNotAllowed, "the sender did not receive the referenced message");
    }
    if (facts.to.size() != 1 || facts.to[0] != earlier.from) {
      return Refuse(Code::kNotAllowed, "the answer may go only to the referenced message's sender");
    }
    return Status::Ok();
  }
  // between_parties: sender and every recipient took part in the earlier message.
  auto party = [&](const std::string& id) {
    return id == earlier.from || Contains(earlier.to, id);
  };
  if (!party(facts.from))
    return Refuse(Code::kNotAllowed, "the sender is not a party of the referral");
  for (const std::string& recipient : facts.to) {
    if (!party(recipient)) {
      return Refuse(Code::kNotAllowed,
                    "recipient " + recipient + " is not a party of the referral");
    }
  }
  return Status::Ok();
}

Status CheckConsentGranted(const RouteFacts& facts) {
  if (!facts.granted || facts.consent_id.empty()) {
    return Refuse(Code::kSchemaInvalid, "consent_granted must carry its scope and consent_id");
  }
  const ConsentFacts& scope = *facts.granted;
  if (facts.consent) return Refuse(Code::kNotAllowed, "the consent_id is already recorded");
  if (!Contains(scope.parties, facts.from)) {
    return Refuse(Code::kConsentScope, "the recording endpoint is not a party of the consent");
  }
  if (scope.valid_from >= scope.valid_until) {
    return Refuse(Code::kSchemaInvalid, "valid_from must be before valid_until");
  }
  if (scope.valid_until <= facts.now) {
    return Refuse(Code::kConsentExpired, "the consent's valid_until has already passed");
  }
  for (const std::string& party : scope.parties) {
    if (party != facts.from && !Contains(facts.to, party)) {
      return Refuse(Code::kNotAllowed, "a consent must be routed to every other party");
    }
  }
  for (const std::string& recipient : facts.to) {
    if (!Contains(scope.parties, recipient)) {
      return Refuse(Code::kConsentScope,
                    "recipient " + recipient + " is not a party of the consent");
    }
  }
  return Status::Ok();
}

Status CheckConsentRevoked(const RouteFacts& facts) {
  if (facts.consent_id.empty() || !facts.consent) {
    return Refuse(Code::kConsentRequired, "unknown consent_id");
  }
  const ConsentFacts& consent = *facts.consent;
  if (consent.subject != facts.subject) {
    return Refuse(Code::kConsentScope, "the consent is for another child");
  }
  if (!Contains(consent.parties, facts.from)) {
    return Refuse(Code::kConsentScope, "only a party of the consent may revoke it");
  }
  if (consent.revoked) return Refuse(Code::kConsentRevoked, "the consent is already revoked");
  for (const std::string& party : consent.parties) {
    if (party != facts.from && !Contains(facts.to, party)) {
      return Refuse(Code::kNotAllowed, "a revocation must be routed to every other party");
    }
  }
  for (const std::string& recipient : facts.to) {
    if (!Contains(consent.parties, recipient)) {
      return Refuse(Code::kConsentScope,
                    "recipient " + recipient + " is not a party of the consent");
    }
  }
  return Status::Ok();
}

}  // namespace

const std::vector<MessageRule>& RulesTable() {
  static const std::vector<MessageRule> kRules = {
      {"concern_report", "", "social", "none", "none",
       "No consent (reporting is a duty). Only to social-services endpoints."},
      {"concern_feedback", "", "any", "concern_report", "back_to_reporter",
       "No consent. Only from a recipient of the report, back to its reporter."},
      {"support_request", "support", "any", "none", "none",
       "Consent for `support` covering sender and every recipient."},
      {"assessment_referral", "assessment", "any", "none", "none",
       "Consent for `assessment` covering sender and every recipient."},
      {"sip_invitation", "sip", "any", "none", "none",
       "Consent for `sip` covering sender and every invited party."},
      {"information_request", "information_exchange", "any", "none", "none",
       "Consent for `information_exchange` covering sender and every recipient."},
      {"information_response", "information_exchange", "any", "information_request",
       "back_to_requester",
       "Consent for `information_exchange`; only from a recipient of the request, back to its "
       "sender."},
      {"referral_status", "", "any",
       "support_request assessment_referral sip_invitation information_request", "between_parties",
       "No new consent (covered by the referral's). Only between the referral's parties."},
      {"consent_granted", "", "any", "none", "none",
       "Recorded by a party; routed to every other party; the consent_id must be new and "
       "valid_until not passed."},
      {"consent_revoked", "", "any", "none", "none",
       "Recorded by any party of the consent, once; routed to every other party; stops "
       "disclosure."},
  };
  return kRules;
}

const MessageRule* FindRule(std::string_view type) {
  for (const MessageRule& rule : RulesTable()) {
    if (rule.type == type) return &rule;
  }
  return nullptr;
}

bool IsConsentEvent(std::string_view type) {
  return type == "consent_granted" || type == "consent_revoked";
}

Status CheckConsentActive(const ConsentFacts& consent, Micros now) {
  if (consent.revoked) return Refuse(Code::kConsentRevoked, "the consent was revoked");
  if (now < consent.valid_from || now >= consent.valid_until) {
    return Refuse(Code::kConsentExpired, "now is outside the consent's validity");
  }
  return Status::Ok();
}

Status CheckRoute(const RouteFacts& facts) {
  const MessageRule* rule = FindRule(facts.type);
  if (rule == nullptr) return Refuse(Code::kNotAllowed, "unknown message type");
  if (facts.to.empty()) return Refuse(Code::kNotAllowed, "no recipients");
  for (const std::string& recipient : facts.to) {
    if (recipient == facts.from) return Refuse(Code::kNotAllowed, "a message to its own sender");
    auto kind = facts.kinds.find(recipient);
    if (kind == facts.kinds.end()) {
      return Refuse(Code::kUnknownRecipient, "unknown recipient " + recipient);
    }
    if (rule->recipient_kinds != "any" && kind->second != rule->recipient_kinds) {
      return Refuse(Code::kNotAllowed, facts.type + " may go only to " +
                                           std::string(rule->recipient_kinds) + " endpoints");
    }
  }
  if (facts.type == "consent_granted") return CheckConsentGranted(facts);
  if (facts.type == "consent_revoked") return CheckConsentRevoked(facts);
  STAFETT_RETURN_IF_ERROR(CheckReference(*rule, facts));
  if (!rule->purpose.empty()) return CheckConsent(*rule, facts);
  return Status::Ok();
}

}  // namespace stafett::core
