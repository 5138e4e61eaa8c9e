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

// Both: INTERNAL/CORRUPTION unless consent id, subject (a pseudonym), recorded_by, 1..64
// parties and 1..16 purposes are present and valid_until >= valid_from.
[[nodiscard]] Result<std::string> EncodeConsentRecord(const ConsentRecord& record);
[[nodiscard]] Result<ConsentRecord> DecodeConsentRecord(std::string_view bytes);

}  // namespace stafett::core
