// ConsentRecord: a consent as the broker and the agents store it — what it covers and the
// messages that granted and revoked it (stafett/records/v1/consent_record.proto).
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/rules.h"
#include "stafett/core/status.h"

namespace stafett::core {

// The message that granted or revoked a consent.
struct ConsentEvent {
  std::string message_id;
  std::optional<uint64_t> seq;  // its audit position, when known (the broker knows it)
  std::string by;               // the endpoint that sent it
  Micros at = 0;
  bool operator==(const ConsentEvent&) const = default;
};

struct ConsentRecord {
  ConsentFacts facts;  // consent id, subject, recorded_by, parties, purposes, validity, revoked
  std::optional<ConsentEvent> granted;
  std::optional<ConsentEvent> revocation;  // only when facts.revoked
  bool operator==(const ConsentRecord& other) const;
};

// What a consent event teaches — the one rule the broker, the sending agent and the receiving
// agent apply to the consent events they see. TYPE consent_granted with its SCOPE: the consent
// CONSENT_ID of SUBJECT as FROM granted it, by EVENT. consent_revoked: KNOWN (the consent as
// stored, if any) revoked by EVENT; revocation is final, a repeat only names the later event.
// nullopt: nothing to store (another type, a grant without scope, a revocation of a consent
// not known).
[[nodiscard]] std::optional<ConsentRecord> LearnConsent(
    std::string_view type, const std::string& consent_id, const std::string& subject,
    const std::string& from, const std::optional<ConsentScope>& scope, const ConsentEvent& event,
    const std::optional<ConsentRecord>& known);

// Both: INTERNAL/CORRUPTION unless consent id, subject (a pseudonym), recorded_by, 1..64
// parties and 1..16 purposes are present and valid_until >= valid_from.
[[nodiscard]] Result<std::string> EncodeConsentRecord(const ConsentRecord& record);
[[nodiscard]] Result<ConsentRecord> DecodeConsentRecord(std::string_view bytes);

}  // namespace stafett::core
