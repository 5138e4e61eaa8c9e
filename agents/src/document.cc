// Document: field-by-field validation of hand-off documents (CONTRACT.md table of types).
#include "document.h"

#include <set>

#include "stafett/core/ids.h"
#include "stafett/core/rules.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {

constexpr size_t kMaxTextBytes = 1024 * 1024;  // one free-text field

bool IsNonEmptyString(const nlohmann::json& object, const char* key) {
  return object.contains(key) && object[key].is_string() &&
         !object[key].get<std::string>().empty() &&
         object[key].get<std::string>().size() <= kMaxTextBytes;
}

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

Status ValidateBody(const std::string& type, const nlohmann::json& body, const std::string& prefix,
                    std::vector<std::string>* pointers) {
  size_t before = pointers->size();
  if (!body.is_object()) {
    pointers->push_back(prefix);
    return Status(Code::kSchemaInvalid, "body must be an object");
  }
  if (type == "concern_report") {
    if (!IsNonEmptyString(body, "description")) pointers->push_back(prefix + "/description");
  } else if (type == "concern_feedback") {
    if (!IsIdField(body, "report_message_id")) pointers->push_back(prefix + "/report_message_id");
    if (!IsOneOf(body, "outcome", {"investigation_opened", "not_opened", "already_ongoing"})) {
      pointers->push_back(prefix + "/outcome");
    }
  } else if (type == "support_request" || type == "assessment_referral" ||
             type == "sip_invitation" || type == "information_request") {
    if (!IsNonEmptyString(body, "reason")) pointers->push_back(prefix + "/reason");
  } else if (type == "information_response") {
    if (!IsIdField(body, "request_message_id")) pointers->push_back(prefix + "/request_message_id");
    if (!IsNonEmptyString(body, "content")) pointers->push_back(prefix + "/content");
  } else if (type == "referral_status") {
    if (!IsIdField(body, "referral_message_id")) {
      pointers->push_back(prefix + "/referral_message_id");
    }
    if (!IsOneOf(body, "status", {"received", "accepted", "declined", "closed", "withdrawn"})) {
      pointers->push_back(prefix + "/status");
    }
  } else if (type == "consent_granted") {
    CheckConsentGrantedBody(body, prefix, pointers);
  } else if (type == "consent_revoked") {
    if (!IsIdField(body, "consent_id")) pointers->push_back(prefix + "/consent_id");
  } else {
    return Status(Code::kSchemaInvalid, "unknown message type");
  }
  if (pointers->size() != before) {
    return Status(Code::kSchemaInvalid, "the body does not match the schema of " + type);
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
  auto fail = [&](Code code, std::string message, std::vector<std::string> pointers = {}) {
    error->status = Status(code, std::move(message));
    error->pointers = std::move(pointers);
    return std::nullopt;
  };
  if (text.size() > max_bytes) {
    return fail(Code::kTooLarge, "the document exceeds " + std::to_string(max_bytes) + " bytes");
  }
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return fail(Code::kSchemaInvalid, "the document is not JSON");
  if (!json.is_object())
    return fail(Code::kSchemaInvalid, "the document is not a JSON object", {""});
  OutgoingDocument document;
  std::vector<std::string> pointers;
  if (json.contains("message_id")) {
    if (IsIdField(json, "message_id")) {
      document.message_id = json["message_id"].get<std::string>();
    } else {
      pointers.push_back("/message_id");
    }
  }
  if (json.contains("type") && json["type"].is_string() &&
      core::FindRule(json["type"].get<std::string>()) != nullptr) {
    document.type = json["type"].get<std::string>();
  } else {
    pointers.push_back("/type");
  }
  bool to_ok = json.contains("to") && json["to"].is_array() && !json["to"].empty() &&
               json["to"].size() <= core::kMaxRecipients;
  if (to_ok) {
    std::set<std::string> seen;
    for (const nlohmann::json& recipient : json["to"]) {
      to_ok = to_ok && recipient.is_string() &&
              core::IsValidEndpointId(recipient.get<std::string>()) &&
              seen.insert(recipient.get<std::string>()).second;
      if (to_ok) document.to.push_back(recipient.get<std::string>());
    }
  }
  if (!to_ok) pointers.push_back("/to");
  const nlohmann::json* number = nullptr;
  if (json.contains("subject") && json["subject"].is_object() &&
      json["subject"].contains("personnummer") && json["subject"]["personnummer"].is_string()) {
    number = &json["subject"]["personnummer"];
  }
  if (number == nullptr) {
    pointers.push_back("/subject/personnummer");
  } else {
    core::Result<core::Personnummer> parsed =
        core::ParsePersonnummer(number->get<std::string>(), now);
    if (parsed.ok()) {
      document.personnummer = *parsed;
    } else {
      pointers.push_back("/subject/personnummer");
    }
  }
  if (json.contains("consent_id") && !json["consent_id"].is_null()) {
    if (IsIdField(json, "consent_id")) {
      document.consent_id = json["consent_id"].get<std::string>();
    } else {
      pointers.push_back("/consent_id");
    }
  }
  if (json.contains("ttl_seconds")) {
    if (json["ttl_seconds"].is_number_integer() && json["ttl_seconds"].get<int64_t>() >= 60 &&
        json["ttl_seconds"].get<int64_t>() <= 366LL * 86400) {
      document.ttl_seconds = json["ttl_seconds"].get<int64_t>();
    } else {
      pointers.push_back("/ttl_seconds");
    }
  }
  if (json.contains("body")) {
    document.body = json["body"];
    if (!document.type.empty()) ValidateBody(document.type, document.body, "/body", &pointers).ok();
  } else {
    pointers.push_back("/body");
  }
  if (!pointers.empty()) {
    return fail(Code::kSchemaInvalid, "the document does not match its schema", pointers);
  }
  if (core::IsConsentEvent(document.type)) {
    std::string body_consent = document.body["consent_id"].get<std::string>();
    if (!document.consent_id.empty() && document.consent_id != body_consent) {
      return fail(Code::kSchemaInvalid, "consent_id differs from the body's consent_id",
                  {"/consent_id"});
    }
    document.consent_id = body_consent;
  }
  if (document.type == "consent_granted") document.scope = ScopeFromBody(document.body);
  document.ref = RefFromBody(document.body);
  return document;
}

}  // namespace stafett::agent
