// Document: field-by-field validation of hand-off documents (docs/CONTRACT.md table of types).
#include "document.h"

#include <set>

#include "stafett/core/document.h"
#include "stafett/core/ids.h"
#include "stafett/core/rules.h"
#include "stafett/core/schema.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {

bool IsIdField(const nlohmann::json& object, const char* key) {
  return object.contains(key) && object[key].is_string() &&
         core::IsValidMessageId(object[key].get<std::string>());
}

bool IsOneOf(const nlohmann::json& object, const char* key, const std::set<std::string>& values) {
  return object.contains(key) && object[key].is_string() &&
         values.count(object[key].get<std::string>()) != 0;
}

bool IsTime(const nlohmann::json& object, const char* key) {
  return object.contains(key) && object[key].is_string() &&
         core::ParseRfc3339(object[key].get<std::string>()).has_value();
}

const std::set<std::string> kPurposes = {"support", "assessment", "sip", "information_exchange"};

void CheckConsentGrantedBody(const nlohmann::json& body, const std::string& prefix,
                             std::vector<std::string>* pointers) {
  if (!IsIdField(body, "consent_id")) pointers->push_back(prefix + "/consent_id");
  bool parties_ok = body.contains("parties") && body["parties"].is_array() &&
                    !body["parties"].empty() && body["parties"].size() <= core::kMaxConsentParties;
  if (parties_ok) {
    std::set<std::string> seen;
    for (const nlohmann::json& party : body["parties"]) {
      parties_ok = parties_ok && party.is_string() &&
                   core::IsValidEndpointId(party.get<std::string>()) &&
                   seen.insert(party.get<std::string>()).second;
    }
  }
  if (!parties_ok) pointers->push_back(prefix + "/parties");
  bool purposes_ok =
      body.contains("purposes") && body["purposes"].is_array() && !body["purposes"].empty();
  if (purposes_ok) {
    std::set<std::string> seen;
    for (const nlohmann::json& purpose : body["purposes"]) {
      purposes_ok = purposes_ok && purpose.is_string() &&
                    kPurposes.count(purpose.get<std::string>()) != 0 &&
                    seen.insert(purpose.get<std::string>()).second;
    }
  }
  if (!purposes_ok) pointers->push_back(prefix + "/purposes");
  if (!IsTime(body, "valid_from")) pointers->push_back(prefix + "/valid_from");
  if (!IsTime(body, "valid_until")) pointers->push_back(prefix + "/valid_until");
  if (IsTime(body, "valid_from") && IsTime(body, "valid_until") &&
      *core::ParseRfc3339(body["valid_from"].get<std::string>()) >=
          *core::ParseRfc3339(body["valid_until"].get<std::string>())) {
    pointers->push_back(prefix + "/valid_until");
  }
  bool given_ok =
      body.contains("given_by") && body["given_by"].is_array() && !body["given_by"].empty();
  if (given_ok) {
    for (const nlohmann::json& giver : body["given_by"]) {
      given_ok = given_ok && giver.is_object() && IsOneOf(giver, "role", {"guardian", "child"}) &&
                 (!giver.contains("name") || giver["name"].is_string());
    }
  }
  if (!given_ok) pointers->push_back(prefix + "/given_by");
}

}  // namespace

bool CarriesPersonnummer(std::string_view id, core::Micros now) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t start = 0; start < id.size(); ++start) {
    if (!is_digit(id[start]) || (start > 0 && is_digit(id[start - 1]))) continue;
    // YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC / YYMMDD+NNNC, YYMMDDNNNC, bounded by non-digits.
    for (size_t length : {13, 12, 11, 10}) {
      if (start + length > id.size()) continue;
      if (start + length < id.size() && is_digit(id[start + length])) continue;
      if (core::ParsePersonnummer(id.substr(start, length), now).ok()) return true;
    }
  }
  return false;
}

Status ValidateBody(const std::string& type, const nlohmann::json& body, const std::string& prefix,
                    std::vector<std::string>* pointers) {
  const core::SchemaValidator& validator = core::SchemaValidator::Default();
  if (!validator.Has(type) || core::FindRule(type) == nullptr) {
    return Status(Code::kSchemaInvalid, "unknown message type");
  }
  std::vector<std::string> failing;
  Status valid = validator.Validate(type, body, &failing);
  for (const std::string& pointer : failing) pointers->push_back(prefix + pointer);
  if (!valid.ok())
    return Status(Code::kSchemaInvalid, "the body does not match the schema of " + type);
  if (type == "consent_granted" && !ScopeFromBody(body)) {
    pointers->push_back(prefix + "/valid_until");
    return Status(Code::kSchemaInvalid, "the consent's validity is empty");
  }
  return Status::Ok();
}

std::optional<core::ConsentScope> ScopeFromBody(const nlohmann::json& body) {
  std::vector<std::string> pointers;
  CheckConsentGrantedBody(body, "", &pointers);
  if (!pointers.empty()) return std::nullopt;
  core::ConsentScope scope;
  scope.parties = body["parties"].get<std::vector<std::string>>();
  scope.purposes = body["purposes"].get<std::vector<std::string>>();
  scope.valid_from = *core::ParseRfc3339(body["valid_from"].get<std::string>());
  scope.valid_until = *core::ParseRfc3339(body["valid_until"].get<std::string>());
  // The header carries whole milliseconds.
  scope.valid_from -= scope.valid_from % 1000;
  scope.valid_until -= scope.valid_until % 1000;
  return scope;
}

std::string RefFromBody(const nlohmann::json& body) {
  for (const char* key : {"report_message_id", "referral_message_id", "request_message_id"}) {
    if (body.is_object() && body.contains(key) && body[key].is_string()) {
      return body[key].get<std::string>();
    }
  }
  return "";
}

std::optional<OutgoingDocument> ParseOutgoingDocument(std::string_view text, size_t max_bytes,
                                                      core::Micros now, DocumentError* error) {
  // One pipeline for both hand-over paths: core::ParseDocument does size → JSON → schema →
  // personnummer → semantics, with value-free messages and JSON pointers.
  std::vector<std::string> pointers;
  core::Result<core::Document> parsed = core::ParseDocument(text, max_bytes, now, &pointers);
  if (!parsed.ok()) {
    error->status = parsed.status();
    error->pointers = std::move(pointers);
    return std::nullopt;
  }
  core::Document& document = *parsed;
  for (const auto& [pointer, id] :
       {std::pair<const char*, const std::string&>{"/message_id", document.message_id},
        {"/consent_id", document.consent_id},
        {"/body", document.ref}}) {
    if (CarriesPersonnummer(id, now)) {
      error->status = Status(Code::kSchemaInvalid,
                             std::string(pointer) +
                                 ": looks like it contains a personnummer; ids must not carry "
                                 "personal data");
      error->pointers = {pointer};
      return std::nullopt;
    }
  }
  core::Result<core::Personnummer> number = core::ParsePersonnummer(document.personnummer12, now);
  if (!number.ok()) {
    error->status = number.status();
    error->pointers = {"/subject/personnummer"};
    return std::nullopt;
  }
  OutgoingDocument out;
  out.message_id = std::move(document.message_id);
  out.type = std::move(document.type);
  out.to = std::move(document.to);
  out.personnummer = *number;
  out.consent_id = std::move(document.consent_id);
  out.ttl_seconds = document.ttl_seconds;
  out.body = std::move(document.body);
  out.ref = std::move(document.ref);
  out.canonical = std::move(document.canonical);
  if (document.consent) out.scope = core::ToConsentScope(*document.consent);
  return out;
}

}  // namespace stafett::agent
