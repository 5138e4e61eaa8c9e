// Document: the hand-off document of docs/CONTRACT.md — parsing and validating what a local system
// drops or POSTs (size, JSON, fields, personnummer, body per type), and the body checks the
// receiving side repeats. Errors never quote the document's content.
// Thread-safety: pure functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/personnummer.h"
#include "stafett/core/status.h"

namespace stafett::agent {

struct OutgoingDocument {
  std::string message_id;  // "" = the agent assigns one
  std::string type;
  std::vector<std::string> to;
  core::Personnummer personnummer;
  std::string consent_id;   // for consent events: the body's consent_id
  int64_t ttl_seconds = 0;  // 0 = the configured default
  nlohmann::json body;
  std::optional<core::ConsentScope> scope;  // consent_granted only
  std::string ref;        // from report_message_id / referral_message_id / request_message_id
  std::string canonical;  // core::Document::canonical
};

// A refusal with the JSON pointers of the offending fields (for error files).
struct DocumentError {
  core::Status status;
  std::vector<std::string> pointers;
};

// core::ParseDocument: size (kTooLarge over MAX_BYTES), JSON, schema, personnummer, semantics.
// Returns the document, or fills ERROR and returns nullopt.
std::optional<OutgoingDocument> ParseOutgoingDocument(std::string_view text, size_t max_bytes,
                                                      core::Micros now, DocumentError* error);

// Checks BODY against the schema of TYPE (core::SchemaValidator); appends the pointers of the
// failing fields (prefixed with PREFIX, e.g. "/body") to POINTERS. Ok or kSchemaInvalid.
core::Status ValidateBody(const std::string& type, const nlohmann::json& body,
                          const std::string& prefix, std::vector<std::string>* pointers);

// Whether ID holds a string that parses as a personnummer (any of its forms, bounded by
// non-digits): ids travel in clear to the broker and into logs, so they must not carry one.
bool CarriesPersonnummer(std::string_view id, core::Micros now);

// The consent scope carried by a consent_granted body; nullopt if malformed.
std::optional<core::ConsentScope> ScopeFromBody(const nlohmann::json& body);
// The referenced message id named by the body, or "".
std::string RefFromBody(const nlohmann::json& body);

}  // namespace stafett::agent
