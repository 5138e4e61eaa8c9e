// The agents' documents as FHIR R4 and back: one table of where each field goes (docs/FHIR.md),
// written out once per resource kind in each direction.
#include "stafett/core/fhir_mapping.h"

#include <algorithm>
#include <map>
#include <set>

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::core {

using nlohmann::json;

namespace {

constexpr char kAssessmentSystem[] = "urn:stafett:assessment";
constexpr char kConcernOutcomeSystem[] = "urn:stafett:concern-outcome";
constexpr char kDeliveryStatusSystem[] = "urn:stafett:delivery-status";
constexpr char kErrorCodeSystem[] = "urn:stafett:error-code";
constexpr char kPurposeSystem[] = "urn:stafett:consent-purpose";
constexpr char kReceiptSystem[] = "urn:stafett:receipt";
constexpr char kConsentScopeSystem[] = "http://terminology.hl7.org/CodeSystem/consentscope";
constexpr char kLoincSystem[] = "http://loinc.org";
constexpr char kParticipationSystem[] =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
constexpr char kEndpointUrn[] = "urn:stafett:endpoint:";

// Body fields that are lists (the only ones the body extension can hold: the others have
// elements). A repeated sub-extension of such a name is one list.
const std::set<std::string>& ListFields() {
  static const std::set<std::string> fields = {"proposed_times", "parties", "purposes", "given_by"};
  return fields;
}

// referral_status's status ↔ Task.status.
const std::map<std::string, std::string>& ReferralTaskStatus() {
  static const std::map<std::string, std::string> map = {{"received", "received"},
                                                         {"accepted", "accepted"},
                                                         {"declined", "rejected"},
                                                         {"closed", "completed"},
                                                         {"withdrawn", "cancelled"}};
  return map;
}

bool IsReferralType(std::string_view type) {
  return type == "support_request" || type == "assessment_referral" || type == "sip_invitation" ||
         type == "information_request";
}

json Identifier(const std::string& system, const std::string& value) {
  return {{"system", system}, {"value", value}};
}

json EndpointReference(const std::string& endpoint) {
  return {{"type", "Organization"}, {"identifier", Identifier(kFhirEndpointSystem, endpoint)}};
}

json Concept(const std::string& system, const std::string& code) {
  return {{"coding", json::array({{{"system", system}, {"code", code}}})}};
}

json MessageReference(const std::string& resource_type, const std::string& message_id) {
  json reference = {{"identifier", Identifier(kFhirMessageIdSystem, message_id)}};
  if (!resource_type.empty()) reference["type"] = resource_type;
  return reference;
}

json ConsentReference(const std::string& consent_id) {
  return {{"type", "Consent"}, {"identifier", Identifier(kFhirConsentIdSystem, consent_id)}};
}

// The system of a personnummer as written in any of its forms: a samordningsnummer has the day
// of birth plus 60 (DOMAIN.md, "Identifiers").
std::string PersonSystem(const std::string& number) {
  std::string digits;
  for (char c : number) {
    if (c >= '0' && c <= '9') digits += c;
  }
  size_t day = digits.size() == 12 ? 6 : 4;
  bool coordination = digits.size() > day + 1 && digits[day] >= '6';
  return coordination ? kFhirSamordningsnummerSystem : kFhirPersonnummerSystem;
}

json PatientReference(const std::string& number) {
  return {{"type", "Patient"}, {"identifier", Identifier(PersonSystem(number), number)}};
}

// One JSON value as an extension named URL: objects as nested extensions (one per key, lists
// as repeated ones), scalars as value[x].
json ValueExtension(const std::string& url, const json& value);

void AppendValueExtensions(json& extensions, const std::string& url, const json& value) {
  if (value.is_array()) {
    for (const json& item : value) extensions.push_back(ValueExtension(url, item));
  } else {
    extensions.push_back(ValueExtension(url, value));
  }
}

json ValueExtension(const std::string& url, const json& value) {
  json extension = {{"url", url}};
  if (value.is_object()) {
    json nested = json::array();
    for (auto it = value.begin(); it != value.end(); ++it) {
      AppendValueExtensions(nested, it.key(), *it);
    }
    extension["extension"] = nested;
  } else if (value.is_boolean()) {
    extension["valueBoolean"] = value;
  } else if (value.is_number_integer()) {
    extension["valueInteger"] = value;
  } else {
    extension["valueString"] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return extension;
}

// The body fields no element took, as the body extension (nothing when there are none).
void AddBodyExtension(json& resource, const json& body, const std::set<std::string>& mapped) {
  json fields = json::object();
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!mapped.contains(it.key())) fields[it.key()] = *it;
  }
  if (fields.empty()) return;
  resource["extension"].push_back(ValueExtension(kFhirBodyExtension, fields));
}

void AddDocumentExtension(json& resource, const json& document) {
  json parts = json::object();
  if (document.contains("ttl_seconds")) parts["ttl_seconds"] = document["ttl_seconds"];
  if (document.contains("schema_version")) parts["schema_version"] = document["schema_version"];
  if (!parts.empty())
    resource["extension"].push_back(ValueExtension(kFhirDocumentExtension, parts));
}

std::string StringAt(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The consent a Task or Communication relied on (they have no element for it), if any.
void AddConsentExtension(json& resource, const json& document) {
  std::string consent = StringAt(document, "consent_id");
  if (consent.empty()) return;
  resource["extension"].push_back(
      {{"url", kFhirConsentExtension}, {"valueReference", ConsentReference(consent)}});
}

std::vector<std::string> Recipients(const json& document) {
  std::vector<std::string> to;
  if (document.contains("to") && document["to"].is_array()) {
    for (const json& id : document["to"]) {
      if (id.is_string()) to.push_back(id.get<std::string>());
    }
  }
  return to;
}

json EndpointReferences(const std::vector<std::string>& endpoints) {
  json list = json::array();
  for (const std::string& id : endpoints) list.push_back(EndpointReference(id));
  return list;
}

// The elements every mapped resource shares: identifier, the type's code, the child.
json Common(const std::string& resource_type, const json& document) {
  json resource = {{"resourceType", resource_type}};
  std::string message_id = StringAt(document, "message_id");
  if (!message_id.empty()) {
    resource["identifier"] = json::array({Identifier(kFhirMessageIdSystem, message_id)});
  }
  resource["extension"] = json::array();
  return resource;
}

void DropEmptyExtensions(json& resource) {
  if (resource.contains("extension") && resource["extension"].empty()) resource.erase("extension");
}

json ServiceRequestFrom(const json& document, const std::string& type, const json& body) {
  json resource = Common("ServiceRequest", document);
  resource["status"] = "active";
  // Every referral asks its recipient to act on it; the kind of referral is the code.
  resource["intent"] = "order";
  if (body.contains("assessment")) {
    resource["category"] = json::array({Concept(kAssessmentSystem, StringAt(body, "assessment"))});
  }
  resource["code"] = Concept(kFhirMessageTypeSystem, type);
  if (body.contains("requested")) {
    resource["orderDetail"] = json::array({{{"text", body["requested"]}}});
  }
  resource["subject"] = PatientReference(StringAt(document["subject"], "personnummer"));
  if (document.contains("sent_at")) resource["authoredOn"] = document["sent_at"];
  if (document.contains("from"))
    resource["requester"] = EndpointReference(StringAt(document, "from"));
  resource["performer"] = EndpointReferences(Recipients(document));
  if (body.contains("reason")) resource["reasonCode"] = json::array({{{"text", body["reason"]}}});
  std::string consent = StringAt(document, "consent_id");
  if (!consent.empty()) resource["supportingInfo"] = json::array({ConsentReference(consent)});
  AddBodyExtension(resource, body, {"reason", "requested", "assessment"});
  return resource;
}

json TaskFrom(const json& document, const std::string& type, const json& body) {
  json resource = Common("Task", document);
  std::set<std::string> mapped;
  if (type == "referral_status") {
    auto status = ReferralTaskStatus().find(StringAt(body, "status"));
    resource["status"] = status == ReferralTaskStatus().end() ? "requested" : status->second;
    if (body.contains("reason")) resource["statusReason"] = {{"text", body["reason"]}};
    mapped = {"status", "reason", "referral_message_id"};
  } else {
    resource["status"] = "completed";
    resource["businessStatus"] = Concept(kConcernOutcomeSystem, StringAt(body, "outcome"));
    mapped = {"outcome", "report_message_id"};
  }
  resource["intent"] = "order";
  resource["code"] = Concept(kFhirMessageTypeSystem, type);
  resource["focus"] =
      type == "referral_status"
          ? MessageReference("ServiceRequest", StringAt(body, "referral_message_id"))
          : MessageReference("Communication", StringAt(body, "report_message_id"));
  resource["for"] = PatientReference(StringAt(document["subject"], "personnummer"));
  if (document.contains("sent_at")) resource["authoredOn"] = document["sent_at"];
  if (document.contains("from"))
    resource["requester"] = EndpointReference(StringAt(document, "from"));
  resource["restriction"] = {{"recipient", EndpointReferences(Recipients(document))}};
  AddConsentExtension(resource, document);
  AddBodyExtension(resource, body, mapped);
  return resource;
}

json ReceiptTaskFrom(const json& receipt) {
  json resource = {{"resourceType", "Task"}};
  std::string status = StringAt(receipt, "status");
  resource["identifier"] = json::array({Identifier(
      kReceiptSystem, StringAt(receipt, "message_id") + "/" + StringAt(receipt, "recipient"))});
  resource["status"] = status == "delivered" ? "completed" : "failed";
  if (receipt.contains("code"))
    resource["statusReason"] = Concept(kErrorCodeSystem, StringAt(receipt, "code"));
  resource["businessStatus"] = Concept(kDeliveryStatusSystem, status);
  resource["intent"] = "order";
  resource["code"] = Concept(kFhirMessageTypeSystem, "delivery_receipt");
  resource["focus"] = MessageReference("", StringAt(receipt, "message_id"));
  if (receipt.contains("time")) resource["lastModified"] = receipt["time"];
  if (receipt.contains("recipient"))
    resource["owner"] = EndpointReference(StringAt(receipt, "recipient"));
  json parts = json::array();
  // seq is 64-bit; FHIR's integer is 32: decimal text, as the audit export writes it.
  if (receipt.contains("seq") && receipt["seq"].is_number_integer() && receipt["seq"] >= 0) {
    parts.push_back(
        {{"url", "seq"}, {"valueString", std::to_string(receipt["seq"].get<uint64_t>())}});
  }
  if (receipt.contains("receipt_key")) {
    parts.push_back({{"url", "receipt_key"}, {"valueString", receipt["receipt_key"]}});
  }
  if (receipt.contains("receipt_signature")) {
    parts.push_back({{"url", "receipt_signature"}, {"valueString", receipt["receipt_signature"]}});
  }
  if (!parts.empty()) {
    resource["extension"] = json::array({{{"url", kFhirReceiptExtension}, {"extension", parts}}});
  }
  return resource;
}

json ConsentFrom(const json& document, const std::string& type, const json& body) {
  json resource = {{"resourceType", "Consent"}, {"extension", json::array()}};
  json identifiers = json::array({Identifier(kFhirConsentIdSystem, StringAt(body, "consent_id"))});
  std::string message_id = StringAt(document, "message_id");
  if (!message_id.empty()) identifiers.push_back(Identifier(kFhirMessageIdSystem, message_id));
  resource["identifier"] = identifiers;
  resource["status"] = type == "consent_granted" ? "active" : "inactive";
  resource["scope"] = Concept(kConsentScopeSystem, "patient-privacy");
  resource["category"] = json::array({Concept(kLoincSystem, "59284-0")});
  resource["patient"] = PatientReference(StringAt(document["subject"], "personnummer"));
  if (document.contains("sent_at")) resource["dateTime"] = document["sent_at"];
  if (body.contains("given_by")) {
    json performers = json::array();
    for (const json& who : body["given_by"]) {
      json performer = {{"type", StringAt(who, "role") == "child" ? "Patient" : "RelatedPerson"}};
      if (who.contains("name")) performer["display"] = who["name"];
      performers.push_back(performer);
    }
    resource["performer"] = performers;
  }
  if (document.contains("from")) {
    resource["organization"] = json::array({EndpointReference(StringAt(document, "from"))});
  }
  if (type == "consent_granted") {
    json provision = {{"type", "permit"},
                      {"period", {{"start", body["valid_from"]}, {"end", body["valid_until"]}}}};
    json actors = json::array();
    for (const json& party : body["parties"]) {
      actors.push_back({{"role", Concept(kParticipationSystem, "IRCP")},
                        {"reference", EndpointReference(party.get<std::string>())}});
    }
    provision["actor"] = actors;
    json purposes = json::array();
    for (const json& purpose : body["purposes"]) {
      purposes.push_back({{"system", kPurposeSystem}, {"code", purpose}});
    }
    provision["purpose"] = purposes;
    resource["provision"] = provision;
  }
  for (const std::string& id : Recipients(document)) {
    resource["extension"].push_back(
        {{"url", kFhirRecipientExtension}, {"valueReference", EndpointReference(id)}});
  }
  AddBodyExtension(resource, body,
                   {"consent_id", "given_by", "parties", "purposes", "valid_from", "valid_until"});
  return resource;
}

json CommunicationFrom(const json& document, const std::string& type, const json& body) {
  json resource = Common("Communication", document);
  std::set<std::string> mapped;
  if (type == "information_response") {
    resource["basedOn"] =
        json::array({MessageReference("ServiceRequest", StringAt(body, "request_message_id"))});
    mapped = {"request_message_id", "content"};
  } else {
    mapped = {"description", "urgent"};
  }
  resource["status"] = "completed";
  resource["category"] = json::array({Concept(kFhirMessageTypeSystem, type)});
  if (body.contains("urgent") && body["urgent"].is_boolean()) {
    resource["priority"] = body["urgent"].get<bool>() ? "urgent" : "routine";
  }
  resource["subject"] = PatientReference(StringAt(document["subject"], "personnummer"));
  if (document.contains("sent_at")) resource["sent"] = document["sent_at"];
  resource["recipient"] = EndpointReferences(Recipients(document));
  if (document.contains("from")) resource["sender"] = EndpointReference(StringAt(document, "from"));
  const char* text = type == "information_response" ? "content" : "description";
  if (body.contains(text)) resource["payload"] = json::array({{{"contentString", body[text]}}});
  AddConsentExtension(resource, document);
  AddBodyExtension(resource, body, mapped);
  return resource;
}

// ---- FHIR → Stafett --------------------------------------------------------------------------

// Collects what is wrong with a resource: each pointer, and one message naming them all.
class Problems {
 public:
  explicit Problems(std::string resource_type) : resource_type_(std::move(resource_type)) {}
  void Add(const std::string& pointer, const std::string& why) {
    pointers_.push_back(pointer);
    messages_.push_back(pointer + ": " + why);
  }
  bool any() const { return !pointers_.empty(); }
  Status ToStatus(std::vector<std::string>* pointers) const {
    std::string message = "FHIR " + resource_type_ + " cannot be mapped (docs/FHIR.md): ";
    for (size_t i = 0; i < messages_.size(); ++i) {
      if (i > 0) message += "; ";
      message += messages_[i];
    }
    if (pointers != nullptr) *pointers = pointers_;
    return Status(Code::kSchemaInvalid, message);
  }

 private:
  std::string resource_type_;
  std::vector<std::string> pointers_;
  std::vector<std::string> messages_;
};

void OnlyElements(const json& object, const std::string& at, const std::set<std::string>& allowed,
                  Problems& problems) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    // The element's name only: a name in a FHIR resource is the specification's, not a value.
    // One that is not FHIR's could carry anything, so it is not repeated.
    if (!allowed.contains(it.key())) problems.Add(at, "an element the mapping does not carry");
  }
}

std::string StringElement(const json& object, const char* key, const std::string& at,
                          Problems& problems, bool required = true) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required) problems.Add(at + "/" + key, "required");
    return "";
  }
  if (!it->is_string() || it->get<std::string>().empty()) {
    problems.Add(at + "/" + key, "must be a non-empty string");
    return "";
  }
  return it->get<std::string>();
}

// A Reference by identifier {type?, identifier {system, value}}: the value, when the system is
// SYSTEM and the type (if given) TYPE.
std::string IdentifiedReference(const json& reference, const std::string& at, const char* system,
                                const std::string& type, Problems& problems) {
  if (!reference.is_object()) {
    problems.Add(at, "must be a Reference");
    return "";
  }
  OnlyElements(reference, at, {"type", "identifier", "display"}, problems);
  if (reference.contains("type") && !type.empty() && reference["type"] != type) {
    problems.Add(at + "/type", "must be " + type);
  }
  auto identifier = reference.find("identifier");
  if (identifier == reference.end() || !identifier->is_object()) {
    problems.Add(at + "/identifier", std::string("required, with system ") + system);
    return "";
  }
  OnlyElements(*identifier, at + "/identifier", {"system", "value"}, problems);
  if (StringAt(*identifier, "system") != system) {
    problems.Add(at + "/identifier/system", std::string("must be ") + system);
    return "";
  }
  return StringElement(*identifier, "value", at + "/identifier", problems);
}

std::vector<std::string> EndpointList(const json& resource, const char* key, const std::string& at,
                                      Problems& problems) {
  std::vector<std::string> endpoints;
  auto it = resource.find(key);
  if (it == resource.end()) return endpoints;
  if (!it->is_array()) {
    problems.Add(at, "must be a list of Organization references");
    return endpoints;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    std::string id = IdentifiedReference((*it)[i], at + "/" + std::to_string(i),
                                         kFhirEndpointSystem, "Organization", problems);
    if (!id.empty()) endpoints.push_back(id);
  }
  return endpoints;
}

std::string Endpoint(const json& resource, const char* key, Problems& problems) {
  auto it = resource.find(key);
  if (it == resource.end()) return "";
  return IdentifiedReference(*it, std::string("/") + key, kFhirEndpointSystem, "Organization",
                             problems);
}

std::string ChildNumber(const json& resource, const char* key, Problems& problems) {
  std::string at = std::string("/") + key;
  auto it = resource.find(key);
  if (it == resource.end() || !it->is_object() || !it->contains("identifier")) {
    problems.Add(at, "required: the child, identified by personnummer or samordningsnummer");
    return "";
  }
  const json& identifier = (*it)["identifier"];
  std::string system = identifier.is_object() ? StringAt(identifier, "system") : "";
  if (system != kFhirPersonnummerSystem && system != kFhirSamordningsnummerSystem) {
    problems.Add(at + "/identifier/system", std::string("must be ") + kFhirPersonnummerSystem +
                                                " or " + kFhirSamordningsnummerSystem);
    return "";
  }
  std::string number = IdentifiedReference(*it, at, system.c_str(), "Patient", problems);
  if (!number.empty() && PersonSystem(number) != system) {
    problems.Add(at + "/identifier/system", "does not match the kind of number");
  }
  return number;
}

// The one coding of CONCEPT in SYSTEM: its code.
std::string CodeIn(const json& codeable, const std::string& at, const char* system,
                   Problems& problems) {
  if (!codeable.is_object() || !codeable.contains("coding") || !codeable["coding"].is_array() ||
      codeable["coding"].size() != 1) {
    problems.Add(at, std::string("must have one coding of ") + system);
    return "";
  }
  OnlyElements(codeable, at, {"coding"}, problems);
  const json& coding = codeable["coding"][0];
  std::string where = at + "/coding/0";
  if (!coding.is_object() || StringAt(coding, "system") != system) {
    problems.Add(where + "/system", std::string("must be ") + system);
    return "";
  }
  OnlyElements(coding, where, {"system", "code", "display"}, problems);
  return StringElement(coding, "code", where, problems);
}

// A list of exactly one {"text": …} (reasonCode, orderDetail) or a single one (statusReason).
std::string TextOf(const json& value, const std::string& at, Problems& problems) {
  const json* codeable = &value;
  std::string where = at;
  if (value.is_array()) {
    if (value.size() != 1) {
      problems.Add(at, "must hold one entry");
      return "";
    }
    codeable = &value[0];
    where += "/0";
  }
  if (!codeable->is_object()) {
    problems.Add(where, "must be an object with text");
    return "";
  }
  OnlyElements(*codeable, where, {"text"}, problems);
  return StringElement(*codeable, "text", where, problems);
}

Result<json> ExtensionValue(const json& extension, const std::string& at, Problems& problems);

// Nested extensions as an object: one key per url, list fields collected into lists.
json ExtensionObject(const json& extensions, const std::string& at, Problems& problems) {
  json object = json::object();
  if (!extensions.is_array()) {
    problems.Add(at, "must be a list of extensions");
    return object;
  }
  for (size_t i = 0; i < extensions.size(); ++i) {
    std::string where = at + "/" + std::to_string(i);
    const json& extension = extensions[i];
    std::string url = extension.is_object() ? StringAt(extension, "url") : "";
    if (url.empty()) {
      problems.Add(where + "/url", "required");
      continue;
    }
    Result<json> value = ExtensionValue(extension, where, problems);
    if (!value.ok()) continue;
    if (ListFields().contains(url)) {
      object[url].push_back(*value);
    } else if (object.contains(url)) {
      problems.Add(where, "repeats a field that is not a list");
    } else {
      object[url] = *value;
    }
  }
  return object;
}

Result<json> ExtensionValue(const json& extension, const std::string& at, Problems& problems) {
  json value;
  int values = 0;
  for (auto it = extension.begin(); it != extension.end(); ++it) {
    const std::string& key = it.key();
    if (key == "url") continue;
    ++values;
    if (key == "extension") {
      value = ExtensionObject(*it, at + "/extension", problems);
    } else if ((key == "valueString" && it->is_string()) ||
               (key == "valueBoolean" && it->is_boolean()) ||
               (key == "valueInteger" && it->is_number_integer())) {
      value = *it;
    } else {
      problems.Add(at, "value types are valueString, valueBoolean, valueInteger or extension");
      return Status(Code::kSchemaInvalid, "");
    }
  }
  if (values != 1) {
    problems.Add(at, "must have one value or nested extensions");
    return Status(Code::kSchemaInvalid, "");
  }
  return value;
}

// What the resource's extensions say: the body fields (merged into BODY, none of them one an
// element already gave), the document's, the consent reference, the recipients.
struct Extensions {
  std::string consent_id;
  std::vector<std::string> recipients;
};

Extensions ReadExtensions(const json& resource, json& body, json& document, Problems& problems) {
  Extensions out;
  auto it = resource.find("extension");
  if (it == resource.end()) return out;
  if (!it->is_array()) {
    problems.Add("/extension", "must be a list");
    return out;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& extension = (*it)[i];
    std::string at = "/extension/" + std::to_string(i);
    std::string url = extension.is_object() ? StringAt(extension, "url") : "";
    if (url == kFhirBodyExtension || url == kFhirDocumentExtension) {
      if (!extension.contains("extension")) {
        problems.Add(at, "must hold nested extensions");
        continue;
      }
      OnlyElements(extension, at, {"url", "extension"}, problems);
      json fields = ExtensionObject(extension["extension"], at + "/extension", problems);
      json& into = url == kFhirBodyExtension ? body : document;
      for (auto field = fields.begin(); field != fields.end(); ++field) {
        if (url == kFhirDocumentExtension && field.key() != "ttl_seconds" &&
            field.key() != "schema_version") {
          problems.Add(at, "holds ttl_seconds and schema_version only");
        } else if (into.contains(field.key())) {
          problems.Add(at, "repeats a field an element already gives");
        } else {
          into[field.key()] = *field;
        }
      }
    } else if (url == kFhirConsentExtension && extension.contains("valueReference")) {
      OnlyElements(extension, at, {"url", "valueReference"}, problems);
      out.consent_id = IdentifiedReference(extension["valueReference"], at + "/valueReference",
                                           kFhirConsentIdSystem, "Consent", problems);
    } else if (url == kFhirRecipientExtension && extension.contains("valueReference")) {
      OnlyElements(extension, at, {"url", "valueReference"}, problems);
      std::string id = IdentifiedReference(extension["valueReference"], at + "/valueReference",
                                           kFhirEndpointSystem, "Organization", problems);
      if (!id.empty()) out.recipients.push_back(id);
    } else {
      problems.Add(at + "/url", "an extension the mapping does not define");
    }
  }
  return out;
}

// identifier: only Stafett's message id (and, on a Consent, its consent id).
void ReadIdentifiers(const json& resource, json& document, std::string* consent_id,
                     Problems& problems) {
  auto it = resource.find("identifier");
  if (it == resource.end()) return;
  if (!it->is_array()) {
    problems.Add("/identifier", "must be a list");
    return;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    std::string at = "/identifier/" + std::to_string(i);
    const json& identifier = (*it)[i];
    if (!identifier.is_object()) {
      problems.Add(at, "must be an Identifier");
      continue;
    }
    OnlyElements(identifier, at, {"system", "value", "use"}, problems);
    std::string system = StringAt(identifier, "system");
    if (system == kFhirMessageIdSystem && !document.contains("message_id")) {
      document["message_id"] = StringElement(identifier, "value", at, problems);
    } else if (system == kFhirConsentIdSystem && consent_id != nullptr && consent_id->empty()) {
      *consent_id = StringElement(identifier, "value", at, problems);
    } else {
      problems.Add(at + "/system", std::string("only ") + kFhirMessageIdSystem +
                                       (consent_id != nullptr ? " and " : "") +
                                       (consent_id != nullptr ? kFhirConsentIdSystem : "") +
                                       ", once each");
    }
  }
}

std::string MessageType(const json& codeable, const std::string& at, Problems& problems) {
  return CodeIn(codeable, at, kFhirMessageTypeSystem, problems);
}

void RequireValue(const json& resource, const char* key, const std::set<std::string>& allowed,
                  Problems& problems) {
  std::string value = StringAt(resource, key);
  if (!allowed.contains(value)) {
    std::string list;
    for (const std::string& v : allowed) list += (list.empty() ? "" : ", ") + v;
    problems.Add(std::string("/") + key, "must be " + list);
  }
}

Result<FhirMappedDocument> Finish(FhirMappedDocument mapped, const json& body,
                                  const Problems& problems, std::vector<std::string>* pointers) {
  if (problems.any()) return problems.ToStatus(pointers);
  mapped.document["body"] = body;
  return mapped;
}

// Where a Task or a Communication names its sender and its time.
struct SenderElements {
  const char* sender;
  const char* sent;
};

// A Task's or Communication's sender, time and extensions (the consent in kFhirConsentExtension;
// recipients have an element), then the document.
Result<FhirMappedDocument> FinishMessage(FhirMappedDocument mapped, const json& resource,
                                         json& body, SenderElements elements, Problems& problems,
                                         std::vector<std::string>* pointers) {
  mapped.from = Endpoint(resource, elements.sender, problems);
  mapped.sent_at = StringAt(resource, elements.sent);
  Extensions extensions = ReadExtensions(resource, body, mapped.document, problems);
  if (!extensions.consent_id.empty()) mapped.document["consent_id"] = extensions.consent_id;
  if (!extensions.recipients.empty()) {
    problems.Add("/extension", "the recipient extension is a Consent's only");
  }
  return Finish(std::move(mapped), body, problems, pointers);
}

Result<FhirMappedDocument> FromServiceRequest(const json& resource,
                                              std::vector<std::string>* pointers) {
  Problems problems("ServiceRequest");
  OnlyElements(resource, "",
               {"resourceType", "id", "meta", "identifier", "status", "intent", "category", "code",
                "orderDetail", "subject", "authoredOn", "requester", "performer", "reasonCode",
                "supportingInfo", "extension"},
               problems);
  FhirMappedDocument mapped;
  json& document = mapped.document;
  json body = json::object();
  RequireValue(resource, "status", {"active"}, problems);
  RequireValue(resource, "intent", {"order", "proposal"}, problems);
  ReadIdentifiers(resource, document, nullptr, problems);
  std::string type;
  if (!resource.contains("code")) {
    problems.Add("/code",
                 std::string("required: the referral's type in ") + kFhirMessageTypeSystem);
  } else {
    type = MessageType(resource["code"], "/code", problems);
    if (!type.empty() && !IsReferralType(type)) {
      problems.Add("/code",
                   "must be support_request, assessment_referral, sip_invitation or "
                   "information_request");
    }
  }
  document["type"] = type;
  document["to"] = EndpointList(resource, "performer", "/performer", problems);
  document["subject"] = {{"personnummer", ChildNumber(resource, "subject", problems)}};
  if (resource.contains("category")) {
    const json& category = resource["category"];
    if (type != "assessment_referral" || !category.is_array() || category.size() != 1) {
      problems.Add("/category", "only an assessment_referral's one kind of assessment");
    } else {
      body["assessment"] = CodeIn(category[0], "/category/0", kAssessmentSystem, problems);
    }
  }
  if (resource.contains("reasonCode")) {
    body["reason"] = TextOf(resource["reasonCode"], "/reasonCode", problems);
  }
  if (resource.contains("orderDetail")) {
    body["requested"] = TextOf(resource["orderDetail"], "/orderDetail", problems);
  }
  if (resource.contains("supportingInfo")) {
    const json& info = resource["supportingInfo"];
    if (!info.is_array() || info.size() != 1) {
      problems.Add("/supportingInfo", "only the one Consent the referral relies on");
    } else {
      document["consent_id"] = IdentifiedReference(info[0], "/supportingInfo/0",
                                                   kFhirConsentIdSystem, "Consent", problems);
    }
  }
  mapped.from = Endpoint(resource, "requester", problems);
  mapped.sent_at = StringAt(resource, "authoredOn");
  Extensions extensions = ReadExtensions(resource, body, document, problems);
  if (!extensions.consent_id.empty() || !extensions.recipients.empty()) {
    problems.Add("/extension",
                 "a ServiceRequest names its consent in supportingInfo and its "
                 "recipients as performer");
  }
  return Finish(std::move(mapped), body, problems, pointers);
}

Result<FhirMappedDocument> FromReceiptTask(const json& resource, Problems& problems,
                                           std::vector<std::string>* pointers) {
  OnlyElements(resource, "",
               {"resourceType", "id", "meta", "identifier", "status", "statusReason",
                "businessStatus", "intent", "code", "focus", "lastModified", "owner", "extension"},
               problems);
  FhirMappedDocument mapped;
  json& receipt = mapped.document;
  receipt["type"] = "delivery_receipt";
  std::string message_id;
  if (resource.contains("focus")) {
    message_id =
        IdentifiedReference(resource["focus"], "/focus", kFhirMessageIdSystem, "", problems);
  } else {
    problems.Add("/focus", "required: the message the receipt is about");
  }
  receipt["message_id"] = message_id;
  std::string recipient = Endpoint(resource, "owner", problems);
  if (!recipient.empty()) receipt["recipient"] = recipient;
  std::string status;
  if (resource.contains("businessStatus")) {
    status = CodeIn(resource["businessStatus"], "/businessStatus", kDeliveryStatusSystem, problems);
  } else {
    problems.Add("/businessStatus", "required: delivered, expired or withheld");
  }
  receipt["status"] = status;
  if ((status == "delivered") != (StringAt(resource, "status") == "completed")) {
    problems.Add("/status", "must be completed for delivered, failed otherwise");
  }
  if (resource.contains("statusReason")) {
    receipt["code"] = CodeIn(resource["statusReason"], "/statusReason", kErrorCodeSystem, problems);
  }
  std::string time = StringAt(resource, "lastModified");
  if (!time.empty()) receipt["time"] = time;
  if (resource.contains("extension")) {
    const json& extensions = resource["extension"];
    if (!extensions.is_array() || extensions.size() != 1 ||
        StringAt(extensions[0], "url") != kFhirReceiptExtension ||
        !extensions[0].contains("extension")) {
      problems.Add("/extension", std::string("only ") + kFhirReceiptExtension);
    } else {
      json parts = ExtensionObject(extensions[0]["extension"], "/extension/0/extension", problems);
      for (auto it = parts.begin(); it != parts.end(); ++it) {
        if (it.key() == "seq" && it->is_string()) {
          std::string digits = it->get<std::string>();
          if (digits.empty() || digits.size() > 20 ||
              !std::all_of(digits.begin(), digits.end(),
                           [](char c) { return c >= '0' && c <= '9'; })) {
            problems.Add("/extension/0", "seq must be decimal");
          } else {
            receipt["seq"] = std::stoull(digits);
          }
        } else if ((it.key() == "receipt_key" || it.key() == "receipt_signature") &&
                   it->is_string()) {
          receipt[it.key()] = *it;
        } else {
          problems.Add("/extension/0", "holds seq, receipt_key and receipt_signature only");
        }
      }
    }
  }
  if (problems.any()) return problems.ToStatus(pointers);
  return mapped;
}

Result<FhirMappedDocument> FromTask(const json& resource, std::vector<std::string>* pointers) {
  Problems problems("Task");
  std::string type;
  if (!resource.contains("code")) {
    problems.Add("/code", std::string("required: the type in ") + kFhirMessageTypeSystem);
    return problems.ToStatus(pointers);
  }
  type = MessageType(resource["code"], "/code", problems);
  if (type == "delivery_receipt") return FromReceiptTask(resource, problems, pointers);
  if (!type.empty() && type != "referral_status" && type != "concern_feedback") {
    problems.Add("/code", "must be referral_status, concern_feedback or delivery_receipt");
  }
  OnlyElements(
      resource, "",
      {"resourceType", "id", "meta", "identifier", "status", "statusReason", "businessStatus",
       "intent", "code", "focus", "for", "authoredOn", "requester", "restriction", "extension"},
      problems);
  RequireValue(resource, "intent", {"order"}, problems);
  FhirMappedDocument mapped;
  json& document = mapped.document;
  json body = json::object();
  ReadIdentifiers(resource, document, nullptr, problems);
  document["type"] = type;
  std::vector<std::string> to;
  if (resource.contains("restriction")) {
    const json& restriction = resource["restriction"];
    if (!restriction.is_object()) {
      problems.Add("/restriction", "must be an object");
    } else {
      OnlyElements(restriction, "/restriction", {"recipient"}, problems);
      to = EndpointList(restriction, "recipient", "/restriction/recipient", problems);
    }
  }
  document["to"] = to;
  document["subject"] = {{"personnummer", ChildNumber(resource, "for", problems)}};
  std::string status = StringAt(resource, "status");
  if (type == "referral_status") {
    std::string stafett;
    for (const auto& [ours, theirs] : ReferralTaskStatus()) {
      if (theirs == status) stafett = ours;
    }
    if (stafett.empty()) {
      problems.Add("/status", "must be received, accepted, rejected, completed or cancelled");
    }
    body["status"] = stafett;
    if (resource.contains("statusReason")) {
      body["reason"] = TextOf(resource["statusReason"], "/statusReason", problems);
    }
    if (resource.contains("businessStatus")) {
      problems.Add("/businessStatus", "a referral_status has none");
    }
  } else if (type == "concern_feedback") {
    RequireValue(resource, "status", {"completed"}, problems);
    if (resource.contains("businessStatus")) {
      body["outcome"] =
          CodeIn(resource["businessStatus"], "/businessStatus", kConcernOutcomeSystem, problems);
    } else {
      problems.Add("/businessStatus", "required: the outcome");
    }
    if (resource.contains("statusReason")) problems.Add("/statusReason", "feedback has none");
  }
  if (resource.contains("focus")) {
    std::string focus_type = type == "referral_status" ? "ServiceRequest" : "Communication";
    std::string ref = IdentifiedReference(resource["focus"], "/focus", kFhirMessageIdSystem,
                                          focus_type, problems);
    body[type == "referral_status" ? "referral_message_id" : "report_message_id"] = ref;
  } else {
    problems.Add("/focus", "required: the message this one is about");
  }
  return FinishMessage(std::move(mapped), resource, body, {"requester", "authoredOn"}, problems,
                       pointers);
}

Result<FhirMappedDocument> FromCommunication(const json& resource,
                                             std::vector<std::string>* pointers) {
  Problems problems("Communication");
  OnlyElements(resource, "",
               {"resourceType", "id", "meta", "identifier", "basedOn", "status", "category",
                "priority", "subject", "sent", "recipient", "sender", "payload", "extension"},
               problems);
  RequireValue(resource, "status", {"completed"}, problems);
  FhirMappedDocument mapped;
  json& document = mapped.document;
  json body = json::object();
  ReadIdentifiers(resource, document, nullptr, problems);
  std::string type;
  const json& category = resource.contains("category") ? resource["category"] : json();
  if (!category.is_array() || category.size() != 1) {
    problems.Add("/category", std::string("required: one, the type in ") + kFhirMessageTypeSystem);
  } else {
    type = MessageType(category[0], "/category/0", problems);
    if (!type.empty() && type != "concern_report" && type != "information_response") {
      problems.Add("/category/0", "must be concern_report or information_response");
    }
  }
  document["type"] = type;
  document["to"] = EndpointList(resource, "recipient", "/recipient", problems);
  document["subject"] = {{"personnummer", ChildNumber(resource, "subject", problems)}};
  if (resource.contains("priority")) {
    std::string priority = StringAt(resource, "priority");
    if (type != "concern_report" || (priority != "urgent" && priority != "routine")) {
      problems.Add("/priority", "only a concern_report's: urgent or routine");
    } else {
      body["urgent"] = priority == "urgent";
    }
  }
  if (resource.contains("basedOn")) {
    const json& based = resource["basedOn"];
    if (type != "information_response" || !based.is_array() || based.size() != 1) {
      problems.Add("/basedOn", "only an information_response's one request");
    } else {
      body["request_message_id"] = IdentifiedReference(based[0], "/basedOn/0", kFhirMessageIdSystem,
                                                       "ServiceRequest", problems);
    }
  }
  if (resource.contains("payload")) {
    const json& payload = resource["payload"];
    if (!payload.is_array() || payload.size() != 1 || !payload[0].is_object()) {
      problems.Add("/payload", "must hold one contentString");
    } else {
      OnlyElements(payload[0], "/payload/0", {"contentString"}, problems);
      body[type == "information_response" ? "content" : "description"] =
          StringElement(payload[0], "contentString", "/payload/0", problems);
    }
  }
  return FinishMessage(std::move(mapped), resource, body, {"sender", "sent"}, problems, pointers);
}

Result<FhirMappedDocument> FromConsent(const json& resource, std::vector<std::string>* pointers) {
  Problems problems("Consent");
  OnlyElements(resource, "",
               {"resourceType", "id", "meta", "identifier", "status", "scope", "category",
                "patient", "dateTime", "performer", "organization", "provision", "extension"},
               problems);
  RequireValue(resource, "status", {"active", "inactive"}, problems);
  FhirMappedDocument mapped;
  json& document = mapped.document;
  json body = json::object();
  std::string consent_id;
  ReadIdentifiers(resource, document, &consent_id, problems);
  if (consent_id.empty()) {
    problems.Add("/identifier", std::string("required: the consent id in ") + kFhirConsentIdSystem);
  }
  bool granted = StringAt(resource, "status") == "active";
  std::string type = granted ? "consent_granted" : "consent_revoked";
  document["type"] = type;
  document["subject"] = {{"personnummer", ChildNumber(resource, "patient", problems)}};
  document["consent_id"] = consent_id;
  body["consent_id"] = consent_id;
  if (resource.contains("performer")) {
    const json& performers = resource["performer"];
    if (!granted || !performers.is_array()) {
      problems.Add("/performer", "only a granted consent's: who gave it");
    } else {
      json given_by = json::array();
      for (size_t i = 0; i < performers.size(); ++i) {
        std::string at = "/performer/" + std::to_string(i);
        const json& performer = performers[i];
        if (!performer.is_object()) {
          problems.Add(at, "must be a Reference");
          continue;
        }
        OnlyElements(performer, at, {"type", "display"}, problems);
        std::string role = StringAt(performer, "type");
        if (role != "RelatedPerson" && role != "Patient") {
          problems.Add(at + "/type", "must be RelatedPerson (a guardian) or Patient (the child)");
        }
        json who = {{"role", role == "Patient" ? "child" : "guardian"}};
        if (performer.contains("display")) who["name"] = performer["display"];
        given_by.push_back(who);
      }
      body["given_by"] = given_by;
    }
  }
  if (resource.contains("organization")) {
    const json& organization = resource["organization"];
    if (!organization.is_array() || organization.size() != 1) {
      problems.Add("/organization", "must name the one recording endpoint");
    } else {
      mapped.from = IdentifiedReference(organization[0], "/organization/0", kFhirEndpointSystem,
                                        "Organization", problems);
    }
  }
  if (resource.contains("provision")) {
    const json& provision = resource["provision"];
    if (!provision.is_object()) {
      problems.Add("/provision", "must be an object");
    } else {
      OnlyElements(provision, "/provision", {"type", "period", "actor", "purpose"}, problems);
      if (provision.contains("type") && provision["type"] != "permit") {
        problems.Add("/provision/type", "must be permit");
      }
      json parties = json::array();
      if (provision.contains("actor") && provision["actor"].is_array()) {
        for (size_t i = 0; i < provision["actor"].size(); ++i) {
          std::string at = "/provision/actor/" + std::to_string(i);
          const json& actor = provision["actor"][i];
          if (!actor.is_object() || !actor.contains("reference")) {
            problems.Add(at + "/reference", "required");
            continue;
          }
          OnlyElements(actor, at, {"role", "reference"}, problems);
          std::string id = IdentifiedReference(actor["reference"], at + "/reference",
                                               kFhirEndpointSystem, "Organization", problems);
          if (!id.empty()) {
            parties.push_back(id);
            mapped.parties.push_back(id);
          }
        }
      }
      if (granted) {
        body["parties"] = parties;
        json purposes = json::array();
        if (provision.contains("purpose") && provision["purpose"].is_array()) {
          for (size_t i = 0; i < provision["purpose"].size(); ++i) {
            std::string at = "/provision/purpose/" + std::to_string(i);
            const json& coding = provision["purpose"][i];
            if (!coding.is_object() || StringAt(coding, "system") != kPurposeSystem) {
              problems.Add(at + "/system", std::string("must be ") + kPurposeSystem);
              continue;
            }
            OnlyElements(coding, at, {"system", "code", "display"}, problems);
            purposes.push_back(StringElement(coding, "code", at, problems));
          }
        }
        body["purposes"] = purposes;
        const json& period = provision.contains("period") ? provision["period"] : json();
        if (!period.is_object()) {
          problems.Add("/provision/period", "required: valid from and until");
        } else {
          OnlyElements(period, "/provision/period", {"start", "end"}, problems);
          body["valid_from"] = StringElement(period, "start", "/provision/period", problems);
          body["valid_until"] = StringElement(period, "end", "/provision/period", problems);
        }
      }
    }
  } else if (granted) {
    problems.Add("/provision", "required: parties, purposes and period");
  }
  mapped.sent_at = StringAt(resource, "dateTime");
  Extensions extensions = ReadExtensions(resource, body, document, problems);
  if (!extensions.consent_id.empty()) {
    problems.Add("/extension", "a Consent is identified by its identifier");
  }
  document["to"] = extensions.recipients;
  return Finish(std::move(mapped), body, problems, pointers);
}

// A urn:uuid for WHAT of the message ID: the same document always gives the same bundle.
std::string DerivedUuid(const std::string& id, const std::string& what) {
  std::string hex = ToHex(Sha256("stafett-fhir-bundle\n" + id + "\n" + what)).substr(0, 32);
  hex[12] = '5';  // a name-based UUID (RFC 9562 §5.5), its variant bits 10
  hex[16] = "89ab"[hex[16] % 4];
  return "urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace

std::string_view FhirResourceTypeFor(std::string_view type) {
  if (IsReferralType(type)) return "ServiceRequest";
  if (type == "referral_status" || type == "concern_feedback" || type == "delivery_receipt") {
    return "Task";
  }
  if (type == "consent_granted" || type == "consent_revoked") return "Consent";
  if (type == "concern_report" || type == "information_response") return "Communication";
  return "";
}

Result<json> FhirFromDocument(const json& document) {
  if (!document.is_object()) return Status(Code::kSchemaInvalid, "the document is not an object");
  std::string type = StringAt(document, "type");
  std::string_view resource_type = FhirResourceTypeFor(type);
  if (resource_type.empty()) {
    return Status(Code::kSchemaInvalid, "/type: not a Stafett document type");
  }
  if (type == "delivery_receipt") return ReceiptTaskFrom(document);
  if (!document.contains("subject") || !document["subject"].is_object() ||
      StringAt(document["subject"], "personnummer").empty()) {
    return Status(Code::kSchemaInvalid, "/subject/personnummer: required");
  }
  if (!document.contains("body") || !document["body"].is_object()) {
    return Status(Code::kSchemaInvalid, "/body: required, an object");
  }
  const json& body = document["body"];
  json resource;
  if (resource_type == "ServiceRequest") {
    resource = ServiceRequestFrom(document, type, body);
  } else if (resource_type == "Task") {
    resource = TaskFrom(document, type, body);
  } else if (resource_type == "Consent") {
    resource = ConsentFrom(document, type, body);
  } else {
    resource = CommunicationFrom(document, type, body);
  }
  AddDocumentExtension(resource, document);
  DropEmptyExtensions(resource);
  return resource;
}

Result<json> FhirInboxBundle(const json& document) {
  Result<json> resource = FhirFromDocument(document);
  if (!resource.ok()) return resource.status();
  std::string type = StringAt(document, "type");
  bool receipt = type == "delivery_receipt";
  std::string id = receipt ? "receipt/" + StringAt(document, "message_id") + "/" +
                                 StringAt(document, "recipient")
                           : StringAt(document, "message_id");
  std::string resource_url = DerivedUuid(id, "resource");
  json header = {{"resourceType", "MessageHeader"},
                 {"eventCoding", {{"system", kFhirMessageTypeSystem}, {"code", type}}}};
  std::string from = StringAt(document, "from");
  // A receipt comes from the broker, which relays the recipient's signed statement.
  header["source"] = {
      {"name", receipt ? "stafett-broker" : "stafett-agent"},
      {"endpoint", receipt ? std::string("urn:stafett:broker") : kEndpointUrn + from}};
  if (!from.empty()) header["sender"] = EndpointReference(from);
  json destinations = json::array();
  for (const std::string& to : Recipients(document)) {
    destinations.push_back({{"endpoint", kEndpointUrn + to}, {"receiver", EndpointReference(to)}});
  }
  if (!destinations.empty()) header["destination"] = destinations;
  header["focus"] = json::array({{{"reference", resource_url}}});
  // What lets the recipient prove who sent what (stafett verify-inbox reads the same facts from
  // a Stafett-format inbox document), and the envelope's times.
  json parts = json::array();
  auto part = [&](const char* url, const char* value_type, const json& value) {
    parts.push_back({{"url", url}, {value_type, value}});
  };
  if (document.contains("received_at"))
    part("received_at", "valueDateTime", document["received_at"]);
  if (document.contains("expires_at")) part("expires_at", "valueDateTime", document["expires_at"]);
  if (document.contains("subject") && document["subject"].is_object()) {
    std::string pseudonym = StringAt(document["subject"], "pseudonym");
    if (!pseudonym.empty()) part("pseudonym", "valueString", pseudonym);
  }
  if (document.contains("stafett") && document["stafett"].is_object()) {
    const json& stafett = document["stafett"];
    if (stafett.contains("header")) part("header", "valueBase64Binary", stafett["header"]);
    if (stafett.contains("signature")) part("signature", "valueBase64Binary", stafett["signature"]);
    if (stafett.contains("key_id")) part("key_id", "valueString", stafett["key_id"]);
    if (stafett.contains("seq") && stafett["seq"].is_number_integer() && stafett["seq"] >= 0) {
      part("seq", "valueString", std::to_string(stafett["seq"].get<uint64_t>()));
    }
  }
  if (!parts.empty()) {
    header["extension"] = json::array({{{"url", kFhirEnvelopeExtension}, {"extension", parts}}});
  }
  json bundle = {{"resourceType", "Bundle"},
                 {"identifier", Identifier(receipt ? kReceiptSystem : kFhirMessageIdSystem,
                                           receipt ? id.substr(8) : id)},
                 {"type", "message"}};
  std::string timestamp = StringAt(document, receipt ? "time" : "received_at");
  if (!timestamp.empty()) bundle["timestamp"] = timestamp;
  bundle["entry"] = json::array({{{"fullUrl", DerivedUuid(id, "header")}, {"resource", header}},
                                 {{"fullUrl", resource_url}, {"resource", *resource}}});
  return bundle;
}

Result<FhirMappedDocument> DocumentFromFhir(const json& resource,
                                            std::vector<std::string>* pointers) {
  if (!resource.is_object()) {
    if (pointers != nullptr) *pointers = {""};
    return Status(Code::kSchemaInvalid, "a FHIR resource is a JSON object");
  }
  std::string type = StringAt(resource, "resourceType");
  if (type == "ServiceRequest") return FromServiceRequest(resource, pointers);
  if (type == "Task") return FromTask(resource, pointers);
  if (type == "Consent") return FromConsent(resource, pointers);
  if (type == "Communication") return FromCommunication(resource, pointers);
  if (pointers != nullptr) *pointers = {"/resourceType"};
  return Status(Code::kSchemaInvalid,
                "/resourceType: must be ServiceRequest, Task, Consent or Communication");
}

std::string FhirPathOf(const std::string& pointer, const std::string& resource_type) {
  std::string path = resource_type;
  size_t at = 0;
  while (at < pointer.size()) {
    size_t next = pointer.find('/', at + 1);
    std::string part =
        pointer.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
    bool index = !part.empty() &&
                 std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (index) {
      path += "[" + part + "]";
    } else {
      path += (path.empty() ? "" : ".") + part;
    }
    at = next == std::string::npos ? pointer.size() : next;
  }
  return path;
}

json FhirOperationOutcome(const Status& status, const std::vector<std::string>& pointers,
                          const std::string& resource_type) {
  json issue = {{"severity", "error"},
                {"code", status.code() == Code::kSchemaInvalid ? "invalid" : "processing"},
                {"details",
                 {{"coding", json::array({{{"system", kErrorCodeSystem},
                                           {"code", std::string(CodeName(status.code()))}}})},
                  {"text", status.message()}}}};
  json expression = json::array();
  for (const std::string& pointer : pointers) {
    std::string path = FhirPathOf(pointer, resource_type);
    if (!path.empty()) expression.push_back(path);
  }
  if (!expression.empty()) issue["expression"] = expression;
  return {{"resourceType", "OperationOutcome"}, {"issue", json::array({issue})}};
}

}  // namespace stafett::core
