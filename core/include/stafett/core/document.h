// Document: the outbox document a service hands its agent (file drop or POST /v1/messages),
// parsed and checked in one pipeline step: size, JSON, schema, personnummer, semantic rules.
// Errors name JSON pointers and rules, never the document's values. Thread-safety: pure
// functions over values (the shared SchemaValidator is immutable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/status.h"

namespace stafett::core {

inline constexpr int64_t kDefaultTtlSeconds = 604800;                // 7 days
inline constexpr size_t kDefaultMaxDocumentBytes = 8 * 1024 * 1024;  // 8 MiB
inline constexpr int kMaxDocumentDepth = 32;  // nesting of arrays and objects

// The scope a consent_granted body declares, as the signed header carries it.
struct ConsentGrantFacts {
  std::string consent_id;
  std::vector<std::string> parties;   // endpoint ids, at least two, no duplicates
  std::vector<std::string> purposes;  // support, assessment, sip, information_exchange
  Micros valid_from = 0;              // as written (microsecond precision)
  Micros valid_until = 0;             // > valid_from

  bool operator==(const ConsentGrantFacts&) const = default;
};

// The envelope's ConsentScope (whole milliseconds on the wire, so truncated here).
ConsentScope ToConsentScope(const ConsentGrantFacts& facts);

struct Document {
  std::string message_id;  // may be empty: the agent assigns one
  std::string type;
  std::vector<std::string> to;
  std::string personnummer12;        // normalised "YYYYMMDDNNNC"
  bool coordination_number = false;  // a samordningsnummer (day + 60)
  // The consent relied on; for consent_granted / consent_revoked the consent the event is about
  // (taken from the body when the top level has none). Empty when none was given.
  std::string consent_id;
  int64_t ttl_seconds = kDefaultTtlSeconds;
  nlohmann::json body;
  // report_message_id / referral_message_id / request_message_id from the body, else empty.
  std::string ref;
  std::optional<ConsentGrantFacts> consent;  // consent_granted only
  // The whole document in canonical form (keys sorted, no spaces: nlohmann's dump), from the
  // one parse: the same document however formatted, over HTTP or as a file, has one canonical
  // text (the agent keeps its digest to tell a resend from another document under the same id).
  std::string canonical;
};

// A refusal as error files and HTTP answers carry it.
struct DocumentError {
  Status status;
  std::vector<std::string> pointers;  // JSON pointers of the failing fields ("" = whole document)
};

// {"code": "SCHEMA_INVALID", "message": "...", "pointers": [...]} ("pointers" only if any).
nlohmann::json DocumentErrorJson(const DocumentError& error);

// Whether documents of TYPE must name a consent (the types whose rule has a consent purpose:
// support_request, assessment_referral, sip_invitation, information_request,
// information_response). document_test checks this against RulesTable().
bool TypeNeedsConsent(std::string_view type);

// Parses JSON_TEXT, in this order:
//   size over MAX_BYTES → kTooLarge; not JSON → kSchemaInvalid "not JSON at byte N"; nesting
//   deeper than kMaxDocumentDepth → kSchemaInvalid; a schema_version of another major version →
//   kSchemaInvalid /schema_version; the schema "document" (body by type) → kSchemaInvalid;
//   personnummer date/Luhn (NOW decides the century and the future) → kSchemaInvalid at
//   /subject/personnummer; then the semantic checks:
//   - consent events: a top-level consent_id must equal the body's (kSchemaInvalid /consent_id);
//   - consent_granted: valid_from < valid_until (kSchemaInvalid /body/valid_until);
//   - TypeNeedsConsent types without consent_id → kConsentRequired /consent_id.
// Reports concern_report and concern_feedback never need consent. FAILING_POINTERS (may be null)
// receives the JSON pointers of the failing fields.
Result<Document> ParseDocument(std::string_view json_text, size_t max_bytes, Micros now,
                               std::vector<std::string>* failing_pointers);

}  // namespace stafett::core
