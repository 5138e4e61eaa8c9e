// Rules: which message may go where, and under which consent (docs/DOMAIN.md). One table, kRules in
// rules.cc; docs/RULES.md is tested against it. The broker checks them on the signed header's
// facts; the receiving agent checks them again.
// Thread-safety: pure functions over values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::core {

// One row of the rules table.
struct MessageRule {
  std::string_view type;
  std::string_view purpose;          // the consent purpose it needs; empty: no consent
  std::string_view recipient_kinds;  // "social" or "any"
  std::string_view reference;        // "none", or the type(s) the `ref` must name
  std::string_view reference_route;  // "none", "back_to_reporter", "between_parties",
                                     // "back_to_requester"
  std::string_view summary;          // one line for the docs
};

const std::vector<MessageRule>& RulesTable();
const MessageRule* FindRule(std::string_view type);
// True for the consent events, which carry or name a consent rather than rely on one.
bool IsConsentEvent(std::string_view type);

// A consent as the broker's index knows it.
struct ConsentFacts {
  std::string consent_id;
  std::string subject;  // pseudonym
  std::string recorded_by;
  std::vector<std::string> parties, purposes;
  Micros valid_from = 0, valid_until = 0;
  bool revoked = false;
  bool operator==(const ConsentFacts&) const = default;
};

// An earlier message named by `ref`, as the dedup index knows it.
struct ReferencedMessage {
  std::string type, from, subject, consent_id;
  std::vector<std::string> to;
};

// The facts one routing decision needs.
struct RouteFacts {
  std::string type, from;
  std::vector<std::string> to;
  std::string subject, consent_id, ref;
  std::map<std::string, std::string> kinds;     // endpoint id → kind, for `from` and every `to`
  std::optional<ConsentFacts> consent;          // the consent named by consent_id, if known
  std::optional<ConsentFacts> granted;          // for consent_granted: the scope in the header
  std::optional<ReferencedMessage> referenced;  // the message named by ref, if known
  // The receiving agent keeps no index of earlier messages: when set, a `ref` whose message is
  // not given is taken as checked by the broker (a missing `ref` is still refused).
  bool referenced_checked_upstream = false;
  Micros now = 0;
};

// Ok, or the refusal with its code (NOT_ALLOWED, CONSENT_REQUIRED, CONSENT_SCOPE,
// CONSENT_REVOKED, CONSENT_EXPIRED). Messages name no personal data.
Status CheckRoute(const RouteFacts& facts);

// Whether a consent still covers delivery now (used again at delivery time).
Status CheckConsentActive(const ConsentFacts& consent, Micros now);

}  // namespace stafett::core
