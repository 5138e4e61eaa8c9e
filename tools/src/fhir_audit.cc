#include "fhir_audit.h"

#include <charconv>
#include <optional>

#include "audit_verifier.h"
#include "stafett/core/encoding.h"
#include "stafett/core/merkle.h"

namespace stafett::tools {
namespace {

using core::Code;
using core::Status;
using nlohmann::json;

// Code systems (docs/FHIR.md, "Codes").
constexpr char kDicom[] = "http://dicom.nema.org/resources/ontology/DCM";
constexpr char kLifecycle[] = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle";
constexpr char kAuthZSubtype[] = "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType";
constexpr char kEventType[] = "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr char kRestful[] = "http://hl7.org/fhir/restful-interaction";
constexpr char kSourceType[] = "http://terminology.hl7.org/CodeSystem/security-source-type";
constexpr char kEntityType[] = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr char kObjectRole[] = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr char kBalpProfile[] = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";
// Stafett's own identifier systems: an endpoint id of the trust directory, a child's
// pseudonym (never a personnummer), a message id, a consent id.
constexpr char kEndpointSystem[] = "urn:stafett:endpoint";
constexpr char kPseudonymSystem[] = "urn:stafett:pseudonym";
constexpr char kMessageSystem[] = "urn:stafett:message-id";
constexpr char kConsentSystem[] = "urn:stafett:consent-id";

json Coding(const char* system, const std::string& code, const std::string& display) {
  return {{"system", system}, {"code", code}, {"display", display}};
}

json IdentifierReference(const char* system, const std::string& value) {
  return {{"identifier", {{"system", system}, {"value", value}}}, {"display", value}};
}

std::string Text(const json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// RECORD's array under KEY; an empty one when RECORD is not an object or KEY not an array.
const json& Items(const json& record, const char* key) {
  static const json kNone = json::array();
  if (!record.is_object()) return kNone;
  auto it = record.find(key);
  return it != record.end() && it->is_array() ? *it : kNone;
}

std::vector<std::string> Recipients(const json& record) {
  std::vector<std::string> out;
  auto it = record.find("to");
  if (it == record.end()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const json& item : *it) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
  }
  return out;
}

json Agent(const std::string& endpoint, const char* role_code, const char* role_display,
           bool requestor) {
  json agent = {{"who", IdentifierReference(kEndpointSystem, endpoint)}, {"requestor", requestor}};
  if (role_code != nullptr) {
    agent["type"] = {{"coding", json::array({Coding(kDicom, role_code, role_display)})}};
  }
  return agent;
}

json PatientEntity(const std::string& pseudonym) {
  return {{"what", IdentifierReference(kPseudonymSystem, pseudonym)},
          {"type", Coding(kEntityType, "1", "Person")},
          {"role", Coding(kObjectRole, "1", "Patient")}};
}

json MessageEntity(const std::string& message_id, const std::string& type) {
  json entity = {{"what", IdentifierReference(kMessageSystem, message_id)},
                 {"type", Coding(kEntityType, "2", "System Object")}};
  if (!type.empty()) {
    entity["detail"] = json::array({{{"type", "message-type"}, {"valueString", type}}});
  }
  return entity;
}

json ConsentEntity(const std::string& consent_id) {
  return {{"what", IdentifierReference(kConsentSystem, consent_id)},
          {"type", Coding(kEntityType, "2", "System Object")}};
}

json InclusionExtension(const FhirLogPosition& position) {
  json parts = json::array({
      {{"url", "seq"}, {"valueString", std::to_string(position.seq)}},
      {{"url", "leaf"}, {"valueBase64Binary", core::ToBase64(position.leaf)}},
      {{"url", "treeSize"}, {"valueString", std::to_string(position.tree_size)}},
      {{"url", "rootHash"}, {"valueString", position.root_hex}},
  });
  for (const std::string& hash : position.proof) {
    parts.push_back({{"url", "proof"}, {"valueString", hash}});
  }
  return {{"url", kFhirInclusionExtension}, {"extension", parts}};
}

bool IsConsentCode(const std::string& name) {
  std::optional<Code> code = core::CodeFromName(name);
  return code == Code::kConsentRequired || code == Code::kConsentScope ||
         code == Code::kConsentRevoked || code == Code::kConsentExpired;
}

// The parts every event of this record shares: id, recorded, source, the inclusion proof.
json Base(const FhirLogPosition& position, const json& record, const std::string& suffix) {
  return {{"resourceType", "AuditEvent"},
          {"id", "seq-" + std::to_string(position.seq) + suffix},
          {"extension", json::array({InclusionExtension(position)})},
          {"recorded", Text(record, "time")},
          {"agent", json::array()},
          {"source",
           {{"observer", {{"display", "Stafett broker"}}},
            {"type", json::array({Coding(kSourceType, "4", "Application Server")})}}},
          {"entity", json::array()}};
}

void Claim(json& event, const char* profile) {
  event["meta"] = {{"profile", json::array({std::string(kBalpProfile) + profile})}};
}

void Outcome(json& event, const std::string& code) {
  if (code.empty()) {
    event["outcome"] = "0";
  } else {
    event["outcome"] = "4";
    event["outcomeDesc"] = code;
  }
}

// A hand-off at the broker: from the sender towards the recipients (accepted, refused,
// expired, withheld) or into a recipient (delivered).
json Disclosure(const FhirLogPosition& position, const json& record, bool at_recipient) {
  json event = Base(position, record, "");
  const std::string event_name = Text(record, "event");
  const std::string code = Text(record, "code");
  if (at_recipient) {
    event["type"] = Coding(kDicom, "110107", "Import");
    event["action"] = "C";
  } else {
    event["type"] = Coding(kDicom, "110106", "Export");
    event["action"] = "R";
  }
  event["subtype"] =
      json::array({Coding(kLifecycle, "disclose", "Disclose Record Lifecycle Event")});
  // An accepted hand-off, or one a recipient received: a disclosure that happened.
  if (event_name == "accepted") Claim(event, "IHE.BasicAudit.PrivacyDisclosure.Source");
  if (event_name == "delivered") Claim(event, "IHE.BasicAudit.PrivacyDisclosure.Recipient");
  // Expired and withheld: an accepted hand-off that did not reach its recipient.
  if (event_name == "expired" || event_name == "withheld") {
    event["outcome"] = "8";
    event["outcomeDesc"] = code.empty() ? event_name : code;
  } else {
    Outcome(event, code);
  }
  const std::string from = Text(record, "from");
  if (!from.empty()) event["agent"].push_back(Agent(from, "110153", "Source Role ID", true));
  for (const std::string& to : Recipients(record)) {
    event["agent"].push_back(Agent(to, "110152", "Destination Role ID", false));
  }
  const std::string subject = Text(record, "subject");
  if (!subject.empty()) event["entity"].push_back(PatientEntity(subject));
  const std::string message_id = Text(record, "message_id");
  if (!message_id.empty()) {
    event["entity"].push_back(MessageEntity(message_id, Text(record, "type")));
  }
  const std::string consent_id = Text(record, "consent_id");
  if (!consent_id.empty()) event["entity"].push_back(ConsentEntity(consent_id));
  return event;
}

// The broker's consent decision on a publish: a permit (accepted under a consent) or a deny
// (refused for a consent reason).
json ConsentDecision(const FhirLogPosition& position, const json& record) {
  json event = Base(position, record, "-consent");
  const std::string code = Text(record, "code");
  event["type"] = Coding(kDicom, "110113", "Security Alert");
  event["subtype"] = json::array(
      {Coding(kAuthZSubtype, "AuthZ-Consent", "Authorization Decision using Roles and Consent")});
  event["action"] = "E";
  Outcome(event, code);
  // BALP's AuthZconsent pattern is the permit; a deny keeps the codes, not the claim.
  if (code.empty()) Claim(event, "IHE.BasicAudit.AuthZconsent");
  const std::string from = Text(record, "from");
  if (!from.empty()) event["agent"].push_back(Agent(from, nullptr, "", true));
  const std::string subject = Text(record, "subject");
  if (!subject.empty()) event["entity"].push_back(PatientEntity(subject));
  const std::string consent_id = Text(record, "consent_id");
  if (!consent_id.empty()) event["entity"].push_back(ConsentEntity(consent_id));
  return event;
}

// A consent granted or revoked, recorded by the party that sent the consent event.
json ConsentChange(const FhirLogPosition& position, const json& record, bool granted) {
  json event = Base(position, record, "");
  event["type"] = Coding(kEventType, "rest", "RESTful Operation");
  event["subtype"] = json::array(
      {granted ? Coding(kRestful, "create", "create") : Coding(kRestful, "update", "update")});
  event["action"] = granted ? "C" : "U";
  event["outcome"] = "0";
  const std::string from = Text(record, "from");
  if (!from.empty()) event["agent"].push_back(Agent(from, nullptr, "", true));
  const std::string subject = Text(record, "subject");
  if (!subject.empty()) event["entity"].push_back(PatientEntity(subject));
  const std::string consent_id = Text(record, "consent_id");
  if (!consent_id.empty()) event["entity"].push_back(ConsentEntity(consent_id));
  return event;
}

// An auditor's search of the log (itself audited).
json AuditQuery(const FhirLogPosition& position, const json& record) {
  json event = Base(position, record, "");
  event["type"] = Coding(kEventType, "rest", "RESTful Operation");
  event["subtype"] = json::array({Coding(kRestful, "search", "search")});
  event["action"] = "E";
  event["outcome"] = "0";
  const std::string actor = Text(record, "actor");
  if (!actor.empty()) event["agent"].push_back(Agent(actor, nullptr, "", true));
  const std::string subject = Text(record, "subject");
  if (!subject.empty()) event["entity"].push_back(PatientEntity(subject));
  auto query = record.find("query");
  if (query != record.end() && !query->is_null()) {
    event["entity"].push_back({{"type", Coding(kEntityType, "2", "System Object")},
                               {"role", Coding(kObjectRole, "24", "Query")},
                               {"query", core::ToBase64(query->dump())}});
  }
  return event;
}

// The retention policy removed finished messages' states at the broker (docs/PRIVACY.md): a
// deletion by the system itself, what and how many in the entity's detail.
json Retention(const FhirLogPosition& position, const json& record) {
  json event = Base(position, record, "");
  event["type"] = Coding(kEventType, "rest", "RESTful Operation");
  event["subtype"] =
      json::array({Coding(kRestful, "delete", "delete"),
                   Coding(kLifecycle, "destroy", "Destroy/Delete Record Lifecycle Event")});
  event["action"] = "D";
  event["outcome"] = "0";
  event["agent"].push_back(
      {{"who", {{"display", "Stafett broker, retention policy"}}}, {"requestor", false}});
  json detail = json::array();
  auto retention = record.find("retention");
  if (retention != record.end() && retention->is_object()) {
    for (const auto& [key, value] : retention->items()) {
      detail.push_back(
          {{"type", key},
           {"valueString", value.is_string() ? value.get<std::string>() : value.dump()}});
    }
  }
  event["entity"].push_back({{"type", Coding(kEntityType, "2", "System Object")},
                             {"what", {{"display", "message states of finished messages"}}},
                             {"detail", detail}});
  return event;
}

std::optional<uint64_t> Unsigned(const std::string& text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

core::Result<std::vector<json>> FhirAuditEvents(const FhirLogPosition& position) {
  json record = json::parse(position.leaf, nullptr, false);
  if (!record.is_object()) {
    return Status(Code::kSchemaInvalid,
                  "audit record " + std::to_string(position.seq) + " is not a JSON object");
  }
  const std::string event = Text(record, "event");
  if (Text(record, "time").empty()) {
    return Status(Code::kSchemaInvalid,
                  "audit record " + std::to_string(position.seq) + " has no time");
  }
  std::vector<json> out;
  if (event == "accepted" || event == "refused" || event == "expired" || event == "withheld") {
    out.push_back(Disclosure(position, record, false));
    const std::string code = Text(record, "code");
    bool decided_on_consent = event == "accepted" ? !Text(record, "consent_id").empty()
                                                  : event == "refused" && IsConsentCode(code);
    if (decided_on_consent) out.push_back(ConsentDecision(position, record));
  } else if (event == "delivered") {
    out.push_back(Disclosure(position, record, true));
  } else if (event == "consent_granted" || event == "consent_revoked") {
    out.push_back(ConsentChange(position, record, event == "consent_granted"));
  } else if (event == "audit_query") {
    out.push_back(AuditQuery(position, record));
  } else if (event == "retention") {
    out.push_back(Retention(position, record));
  } else {
    return Status(Code::kSchemaInvalid,
                  "audit record " + std::to_string(position.seq) + " has an unknown event");
  }
  return out;
}

json FhirAuditBundle(std::vector<json> events, const json& head_json, const std::string& head_time,
                     uint64_t tree_size, const std::string& root_hex) {
  json entries = json::array();
  for (json& event : events) entries.push_back({{"resource", std::move(event)}});
  json who = {{"display", "Stafett broker"}};
  if (head_json.contains("key_id") && head_json["key_id"].is_string()) {
    who["identifier"] = {{"system", "urn:stafett:key-id"}, {"value", head_json["key_id"]}};
  }
  return {{"resourceType", "Bundle"},
          {"identifier",
           {{"system", "urn:stafett:tree-head"},
            {"value", std::to_string(tree_size) + ":" + root_hex}}},
          {"type", "collection"},
          {"timestamp", head_time},
          {"entry", entries},
          // The broker's signed tree head, as the `head` query returned it: the root every
          // inclusion extension proves against, signed with the broker's key.
          {"signature",
           {{"type", json::array({{{"system", "urn:iso-astm:E1762-95:2013"},
                                   {"code", "1.2.840.10065.1.12.1.14"},
                                   {"display", "Source Signature"}}})},
            {"when", head_time},
            {"who", who},
            {"sigFormat", "application/json"},
            {"data", core::ToBase64(head_json.dump())}}}};
}

Status VerifyFhirAuditEvent(const json& event, uint64_t tree_size, const std::string& root_hex) {
  std::optional<uint64_t> seq, size;
  std::optional<std::string> leaf, root;
  json proof = json::array();
  // A hostile bundle may put anything anywhere: only arrays are walked and only strings read.
  for (const json& extension : Items(event, "extension")) {
    if (Text(extension, "url") != kFhirInclusionExtension) continue;
    for (const json& part : Items(extension, "extension")) {
      const std::string url = Text(part, "url");
      if (url == "seq") seq = Unsigned(Text(part, "valueString"));
      if (url == "treeSize") size = Unsigned(Text(part, "valueString"));
      if (url == "rootHash") root = Text(part, "valueString");
      if (url == "leaf") leaf = core::FromBase64(Text(part, "valueBase64Binary"));
      if (url == "proof") proof.push_back(Text(part, "valueString"));
    }
  }
  if (!seq || !size || !leaf || !root) {
    return Status(Code::kCorruption, "the AuditEvent has no complete inclusion extension");
  }
  if (*size != tree_size || *root != root_hex) {
    return Status(Code::kCorruption, "the inclusion extension names another tree head");
  }
  std::optional<core::Hash> root_hash = HashFromHex(root_hex);
  if (!root_hash) return Status(Code::kCorruption, "the root hash is not 32 bytes of hex");
  core::Result<std::vector<core::Hash>> hashes = HashesFromJson(proof);
  if (!hashes.ok()) return hashes.status();
  return core::VerifyInclusion(*seq, tree_size, core::LeafHash(*leaf), *hashes, *root_hash);
}

}  // namespace stafett::tools
