// ParseDocument: the outbox document pipeline step (size, JSON, depth, schema, personnummer,
// semantic checks) shared by the agent's file drop and its HTTP API.
// Thread-safety: pure functions; the SchemaValidator they use is immutable.
#include "stafett/core/document.h"

#include <algorithm>
#include <utility>

#include "stafett/core/personnummer.h"
#include "stafett/core/schema.h"

namespace stafett::core {
namespace {

// Consent purposes by type: the same rows as RulesTable() (core/src/rules/rules.cc), which this
// library does not link; document_test keeps the two in step.
constexpr std::string_view kTypesNeedingConsent[] = {"support_request", "assessment_referral",
                                                     "sip_invitation", "information_request",
                                                     "information_response"};

Status Fail(std::vector<std::string>* failing_pointers, Code code, std::string message,
            std::vector<std::string> pointers) {
  if (failing_pointers != nullptr) {
    failing_pointers->insert(failing_pointers->end(), pointers.begin(), pointers.end());
  }
  return Status(code, std::move(message));
}

// The deepest nesting of arrays and objects, without recursion (the input is untrusted).
int NestingDepth(const nlohmann::json& root) {
  std::vector<std::pair<const nlohmann::json*, int>> pending = {{&root, 1}};
  int deepest = 0;
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth);
    if (depth > kMaxDocumentDepth) return depth;
    for (const nlohmann::json& child : *node) pending.emplace_back(&child, depth + 1);
  }
  return deepest;
}

std::string StringOr(const nlohmann::json& object, const char* key, std::string fallback = "") {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : fallback;
}

// "; the document names schema 1.3, this release reads 1.0" when a newer minor version may
// explain the refusal (a field this release does not know yet).
std::string NewerMinorHint(const nlohmann::json& document) {
  std::string version = StringOr(document, "schema_version");
  size_t dot = version.find('.');
  if (dot == std::string::npos || version.substr(0, dot) != std::to_string(kSchemaVersionMajor)) {
    return "";
  }
  std::string minor = version.substr(dot + 1);
  if (minor.empty() || minor.size() > 4 ||
      minor.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(minor) <= kSchemaVersionMinor) {
    return "";
  }
  return "; the document names schema " + version + ", this release reads " +
         std::string(kSchemaVersion);
}

// The facts of a consent_granted body that already matched its schema.
ConsentGrantFacts GrantFacts(const nlohmann::json& body) {
  ConsentGrantFacts facts;
  facts.consent_id = body["consent_id"].get<std::string>();
  facts.parties = body["parties"].get<std::vector<std::string>>();
  facts.purposes = body["purposes"].get<std::vector<std::string>>();
  facts.valid_from = ParseRfc3339(body["valid_from"].get<std::string>()).value_or(0);
  facts.valid_until = ParseRfc3339(body["valid_until"].get<std::string>()).value_or(0);
  return facts;
}

std::string RefOf(const nlohmann::json& body) {
  for (const char* key : {"report_message_id", "referral_message_id", "request_message_id"}) {
    std::string ref = StringOr(body, key);
    if (!ref.empty()) return ref;
  }
  return "";
}

}  // namespace

ConsentScope ToConsentScope(const ConsentGrantFacts& facts) {
  ConsentScope scope;
  scope.parties = facts.parties;
  scope.purposes = facts.purposes;
  scope.valid_from = facts.valid_from - facts.valid_from % 1000;
  scope.valid_until = facts.valid_until - facts.valid_until % 1000;
  return scope;
}

nlohmann::json DocumentErrorJson(const DocumentError& error) {
  nlohmann::json json = {{"code", CodeName(error.status.code())},
                         {"message", error.status.message()}};
  if (!error.pointers.empty()) json["pointers"] = error.pointers;
  return json;
}

bool TypeNeedsConsent(std::string_view type) {
  for (std::string_view needing : kTypesNeedingConsent) {
    if (type == needing) return true;
  }
  return false;
}

Result<Document> ParseDocument(std::string_view json_text, size_t max_bytes, Micros now,
                               std::vector<std::string>* failing_pointers) {
  if (json_text.size() > max_bytes) {
    return Fail(failing_pointers, Code::kTooLarge,
                "the document has " + std::to_string(json_text.size()) +
                    " bytes, over the limit of " + std::to_string(max_bytes),
                {""});
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& error) {
    // error.what() quotes the text near the error; only the position is reported.
    return Fail(failing_pointers, Code::kSchemaInvalid,
                "not JSON at byte " + std::to_string(error.byte), {""});
  } catch (const std::exception&) {
    return Fail(failing_pointers, Code::kSchemaInvalid, "not JSON", {""});
  }
  if (NestingDepth(json) > kMaxDocumentDepth) {
    return Fail(failing_pointers, Code::kSchemaInvalid,
                "nested deeper than " + std::to_string(kMaxDocumentDepth) + " levels", {""});
  }

  // Another major version is refused before its fields are judged by this version's rules.
  if (json.is_object() && json.contains("schema_version")) {
    std::string version = StringOr(json, "schema_version");
    if (version.rfind(std::to_string(kSchemaVersionMajor) + ".", 0) != 0) {
      return Fail(failing_pointers, Code::kSchemaInvalid,
                  "/schema_version: this release reads schema " +
                      std::to_string(kSchemaVersionMajor) + ".x only",
                  {"/schema_version"});
    }
  }

  std::vector<std::string> pointers;
  Status valid = SchemaValidator::Default().Validate("document", json, &pointers);
  if (!valid.ok()) {
    return Fail(failing_pointers, valid.code(), valid.message() + NewerMinorHint(json),
                std::move(pointers));
  }

  Document document;
  document.canonical = json.dump();
  Result<Personnummer> number =
      ParsePersonnummer(json["subject"]["personnummer"].get<std::string>(), now);
  if (!number.ok()) {
    return Fail(failing_pointers, Code::kSchemaInvalid,
                "/subject/personnummer: " + number.status().message(), {"/subject/personnummer"});
  }
  document.personnummer12 = number->digits12;
  document.coordination_number = number->coordination;
  document.message_id = StringOr(json, "message_id");
  document.type = json["type"].get<std::string>();
  document.to = json["to"].get<std::vector<std::string>>();
  document.consent_id = StringOr(json, "consent_id");  // null counts as absent
  if (json.contains("ttl_seconds")) document.ttl_seconds = json["ttl_seconds"].get<int64_t>();
  document.body = std::move(json["body"]);
  document.ref = RefOf(document.body);

  if (document.type == "consent_granted" || document.type == "consent_revoked") {
    std::string body_consent = document.body["consent_id"].get<std::string>();
    if (!document.consent_id.empty() && document.consent_id != body_consent) {
      return Fail(failing_pointers, Code::kSchemaInvalid,
                  "/consent_id: differs from /body/consent_id", {"/consent_id"});
    }
    document.consent_id = body_consent;
  }
  if (document.type == "consent_granted") {
    ConsentGrantFacts facts = GrantFacts(document.body);
    if (facts.valid_from >= facts.valid_until) {
      return Fail(failing_pointers, Code::kSchemaInvalid,
                  "/body/valid_until: must be after /body/valid_from", {"/body/valid_until"});
    }
    document.consent = std::move(facts);
  }
  if (TypeNeedsConsent(document.type) && document.consent_id.empty()) {
    return Fail(failing_pointers, Code::kConsentRequired,
                "/consent_id: " + document.type + " needs a consent_id", {"/consent_id"});
  }
  return document;
}

}  // namespace stafett::core
