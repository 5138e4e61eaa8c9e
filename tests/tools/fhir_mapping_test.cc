// The agents' documents as FHIR R4 and back (core/fhir_mapping.h, docs/FHIR.md): every document
// type of the examples maps to the resource the table names and back to the same document;
// inbox documents and receipts become message Bundles whose resource maps back to them; what
// is produced validates against HL7's FHIR R4 JSON Schema and (a sample) the offline FHIR
// validator; what the mapping cannot carry is refused naming the element, never its value.
// Here rather than in tests/core because the schema helper is tools' test support.
#include "stafett/core/fhir_mapping.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tools/support/fhir_schema.h"

namespace stafett::testing {
namespace {

using nlohmann::json;

std::string ExamplesDir() { return std::string(STAFETT_SOURCE_DIR) + "/schemas/examples/valid"; }

json ReadJson(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// Every valid example of NAME_PREFIX's kind: outbox documents, inbox documents or receipts.
std::map<std::string, json> Examples(const std::string& kind) {
  std::map<std::string, json> out;
  for (const auto& entry : std::filesystem::directory_iterator(ExamplesDir())) {
    std::string name = entry.path().filename().string();
    bool inbox = name.starts_with("inbox_document-");
    bool receipt = name.starts_with("delivery_receipt-");
    bool wanted = kind == "inbox" ? inbox : kind == "receipt" ? receipt : !inbox && !receipt;
    if (wanted && name.ends_with(".json")) out[name] = ReadJson(entry.path());
  }
  return out;
}

// The outbox document as the mapping gives it back: consent_id null is absent, and a consent
// event names its consent at the top level too (as ParseDocument takes it from the body).
json Normalised(json document) {
  if (document.contains("consent_id") && document["consent_id"].is_null()) {
    document.erase("consent_id");
  }
  std::string type = document.value("type", "");
  if ((type == "consent_granted" || type == "consent_revoked") &&
      !document.contains("consent_id")) {
    document["consent_id"] = document["body"]["consent_id"];
  }
  return document;
}

// The outbox part of an inbox document.
json OutboxPart(const json& inbox) {
  json document = {{"message_id", inbox["message_id"]},
                   {"type", inbox["type"]},
                   {"to", inbox["to"]},
                   {"subject", {{"personnummer", inbox["subject"]["personnummer"]}}},
                   {"consent_id", inbox["consent_id"]},
                   {"body", inbox["body"]}};
  return Normalised(document);
}

bool SchemaAvailable() {
  if (FhirSchemaInstalled()) return true;
  if (FhirSchemaRequired()) ADD_FAILURE() << "CI=true but no " << FhirSchemaPath();
  return false;
}

std::string ResourceTypeOf(const std::string& type) {
  return std::string(core::FhirResourceTypeFor(type));
}

TEST(FhirMappingTest, EveryDocumentTypeMapsToItsResourceAndBackLosslessly) {
  std::map<std::string, json> examples = Examples("outbox");
  ASSERT_GE(examples.size(), 20u);
  std::set<std::string> types;
  for (const auto& [name, document] : examples) {
    SCOPED_TRACE(name);
    std::string type = document["type"];
    types.insert(type);
    core::Result<json> resource = core::FhirFromDocument(document);
    ASSERT_TRUE(resource.ok()) << resource.status().message();
    EXPECT_EQ((*resource)["resourceType"], ResourceTypeOf(type));
    if (SchemaAvailable()) {
      EXPECT_EQ(FhirSchemaErrors(*resource), "") << resource->dump(2);
    }
    std::vector<std::string> pointers;
    core::Result<core::FhirMappedDocument> back = core::DocumentFromFhir(*resource, &pointers);
    ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << resource->dump(2);
    EXPECT_EQ(back->document, Normalised(document)) << resource->dump(2);
    EXPECT_EQ(back->from, "") << "an outbox document has no sender yet";
  }
  EXPECT_EQ(types, (std::set<std::string>{"concern_report", "concern_feedback", "support_request",
                                          "assessment_referral", "sip_invitation",
                                          "information_request", "information_response",
                                          "referral_status", "consent_granted", "consent_revoked"}))
      << "every type of CONTRACT.md has an example";
}

TEST(FhirMappingTest, TheTableSaysWhereTheFieldsGo) {
  json referral = ReadJson(ExamplesDir() + "/assessment_referral-npf-bup.json");
  json sr = *core::FhirFromDocument(referral);
  EXPECT_EQ(sr["status"], "active");
  EXPECT_EQ(sr["intent"], "order");
  EXPECT_EQ(sr["code"]["coding"][0]["system"], core::kFhirMessageTypeSystem);
  EXPECT_EQ(sr["code"]["coding"][0]["code"], "assessment_referral");
  EXPECT_EQ(sr["identifier"][0]["system"], core::kFhirMessageIdSystem);
  EXPECT_EQ(sr["identifier"][0]["value"], referral["message_id"]);
  EXPECT_EQ(sr["subject"]["identifier"]["system"], core::kFhirPersonnummerSystem);
  EXPECT_EQ(sr["subject"]["identifier"]["value"], referral["subject"]["personnummer"]);
  EXPECT_EQ(sr["performer"][0]["identifier"]["system"], core::kFhirEndpointSystem);
  EXPECT_EQ(sr["performer"][0]["identifier"]["value"], referral["to"][0]);
  EXPECT_EQ(sr["reasonCode"][0]["text"], referral["body"]["reason"]);
  EXPECT_EQ(sr["supportingInfo"][0]["identifier"]["value"], referral["consent_id"]);
  EXPECT_EQ(sr["category"][0]["coding"][0]["code"], referral["body"]["assessment"]);

  json coordination = ReadJson(ExamplesDir() + "/sip_invitation-coordination-number.json");
  json sip = *core::FhirFromDocument(coordination);
  EXPECT_EQ(sip["subject"]["identifier"]["system"], core::kFhirSamordningsnummerSystem);
  bool meeting_in_body_extension = false;
  for (const json& extension : sip["extension"]) {
    if (extension["url"] != core::kFhirBodyExtension) continue;
    for (const json& field : extension["extension"]) {
      if (field["url"] == "meeting") meeting_in_body_extension = true;
    }
  }
  EXPECT_TRUE(meeting_in_body_extension) << "a field without an element, in the body extension";

  json status = *core::FhirFromDocument(
      ReadJson(ExamplesDir() + "/referral_status-declined-with-reason.json"));
  EXPECT_EQ(status["resourceType"], "Task");
  EXPECT_EQ(status["status"], "rejected");
  EXPECT_EQ(status["focus"]["type"], "ServiceRequest");

  json grant = ReadJson(ExamplesDir() + "/consent_granted-joint-custody.json");
  json consent = *core::FhirFromDocument(grant);
  EXPECT_EQ(consent["status"], "active");
  EXPECT_EQ(consent["provision"]["period"]["start"], grant["body"]["valid_from"]);
  EXPECT_EQ(consent["provision"]["actor"].size(), grant["body"]["parties"].size());
  EXPECT_EQ(consent["provision"]["purpose"].size(), grant["body"]["purposes"].size());
  EXPECT_EQ(consent["performer"].size(), grant["body"]["given_by"].size());
  json revoke = *core::FhirFromDocument(ReadJson(ExamplesDir() + "/consent_revoked-minimal.json"));
  EXPECT_EQ(revoke["status"], "inactive");
  EXPECT_FALSE(revoke.contains("provision"));

  json report =
      *core::FhirFromDocument(ReadJson(ExamplesDir() + "/concern_report-bvc-urgent.json"));
  EXPECT_EQ(report["resourceType"], "Communication");
  EXPECT_EQ(report["priority"], "urgent");
  EXPECT_TRUE(report["payload"][0].contains("contentString"));
}

TEST(FhirMappingTest, AnInboxDocumentIsAMessageBundleWhoseResourceMapsBack) {
  std::map<std::string, json> examples = Examples("inbox");
  ASSERT_FALSE(examples.empty());
  for (auto [name, inbox] : examples) {
    SCOPED_TRACE(name);
    // What the agent adds beside the schema's fields: the signed header and the seq.
    inbox["stafett"] = {
        {"header", "aGVhZGVy"}, {"signature", "c2ln"}, {"key_id", "k1"}, {"seq", 42}};
    core::Result<json> bundle = core::FhirInboxBundle(inbox);
    ASSERT_TRUE(bundle.ok()) << bundle.status().message();
    EXPECT_EQ((*bundle)["type"], "message");
    EXPECT_EQ((*bundle)["timestamp"], inbox["received_at"]);
    ASSERT_EQ((*bundle)["entry"].size(), 2u);
    const json& header = (*bundle)["entry"][0]["resource"];
    const json& resource = (*bundle)["entry"][1]["resource"];
    EXPECT_EQ(header["resourceType"], "MessageHeader");
    EXPECT_EQ(header["focus"][0]["reference"], (*bundle)["entry"][1]["fullUrl"]);
    EXPECT_EQ(header["sender"]["identifier"]["value"], inbox["from"]);
    std::map<std::string, json> envelope;
    for (const json& part : header["extension"][0]["extension"]) {
      for (auto it = part.begin(); it != part.end(); ++it) {
        if (it.key() != "url") envelope[part["url"]] = *it;
      }
    }
    EXPECT_EQ(envelope["received_at"], inbox["received_at"]);
    if (inbox["subject"].contains("pseudonym")) {
      EXPECT_EQ(envelope["pseudonym"], inbox["subject"]["pseudonym"]);
    } else {
      EXPECT_FALSE(envelope.contains("pseudonym"));
    }
    EXPECT_EQ(envelope["header"], "aGVhZGVy");
    EXPECT_EQ(envelope["seq"], "42");
    EXPECT_EQ(core::FhirInboxBundle(inbox)->dump(), bundle->dump()) << "deterministic";
    if (SchemaAvailable()) {
      EXPECT_EQ(FhirSchemaErrors(*bundle), "") << bundle->dump(2);
    }

    core::Result<core::FhirMappedDocument> back = core::DocumentFromFhir(resource, nullptr);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->document, OutboxPart(inbox));
    EXPECT_EQ(back->from, inbox["from"]);
    EXPECT_EQ(back->sent_at, inbox["sent_at"]);
  }
}

TEST(FhirMappingTest, AReceiptIsATaskAndMapsBack) {
  std::map<std::string, json> examples = Examples("receipt");
  ASSERT_FALSE(examples.empty());
  for (auto [name, receipt] : examples) {
    SCOPED_TRACE(name);
    receipt["seq"] = 12345678901ULL;  // beyond FHIR's 32-bit integer
    core::Result<json> bundle = core::FhirInboxBundle(receipt);
    ASSERT_TRUE(bundle.ok()) << bundle.status().message();
    const json& task = (*bundle)["entry"][1]["resource"];
    EXPECT_EQ(task["resourceType"], "Task");
    EXPECT_EQ(task["status"], receipt["status"] == "delivered" ? "completed" : "failed");
    if (SchemaAvailable()) {
      EXPECT_EQ(FhirSchemaErrors(*bundle), "") << bundle->dump(2);
    }
    core::Result<core::FhirMappedDocument> back = core::DocumentFromFhir(task, nullptr);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->document, receipt);
  }
}

// A ServiceRequest a health system might send, with the child's number and free text.
json HealthSystemReferral() {
  return {
      {"resourceType", "ServiceRequest"},
      {"status", "active"},
      {"intent", "order"},
      {"code",
       {{"coding", {{{"system", core::kFhirMessageTypeSystem}, {"code", "support_request"}}}}}},
      {"subject",
       {{"identifier", {{"system", core::kFhirPersonnummerSystem}, {"value", "19121212-1212"}}}}},
      {"performer",
       {{{"identifier", {{"system", core::kFhirEndpointSystem}, {"value", "flen.social"}}}}}},
      {"reasonCode", {{{"text", "Behöver stöd i skolan."}}}},
      {"supportingInfo",
       {{{"type", "Consent"},
         {"identifier", {{"system", core::kFhirConsentIdSystem}, {"value", "c-1"}}}}}}};
}

// Refused naming POINTER, and never echoing the number or the text.
void ExpectRefused(const json& resource, const std::string& pointer) {
  std::vector<std::string> pointers;
  core::Result<core::FhirMappedDocument> mapped = core::DocumentFromFhir(resource, &pointers);
  ASSERT_FALSE(mapped.ok()) << resource.dump();
  EXPECT_EQ(mapped.status().code(), core::Code::kSchemaInvalid);
  EXPECT_NE(std::find(pointers.begin(), pointers.end(), pointer), pointers.end())
      << mapped.status().message();
  EXPECT_NE(mapped.status().message().find(pointer), std::string::npos)
      << mapped.status().message();
  for (const char* secret : {"19121212-1212", "1212121212", "Behöver", "Hemligt", "Anna"}) {
    EXPECT_EQ(mapped.status().message().find(secret), std::string::npos)
        << "echoes a value: " << mapped.status().message();
  }
}

TEST(FhirMappingTest, AHealthSystemsServiceRequestMapsToASupportRequest) {
  core::Result<core::FhirMappedDocument> mapped =
      core::DocumentFromFhir(HealthSystemReferral(), nullptr);
  ASSERT_TRUE(mapped.ok()) << mapped.status().message();
  EXPECT_EQ(mapped->document, json({{"type", "support_request"},
                                    {"to", {"flen.social"}},
                                    {"subject", {{"personnummer", "19121212-1212"}}},
                                    {"consent_id", "c-1"},
                                    {"body", {{"reason", "Behöver stöd i skolan."}}}}));
}

TEST(FhirMappingTest, WhatTheMappingCannotCarryIsRefusedByElement) {
  json referral = HealthSystemReferral();

  json note = referral;
  note["note"] = {{{"text", "Hemligt: 19121212-1212"}}};
  ExpectRefused(note, "");  // an element the mapping does not define, at the top

  json by_reference = referral;
  by_reference["subject"] = {{"reference", "Patient/123"}};
  ExpectRefused(by_reference, "/subject");

  json other_system = referral;
  other_system["subject"]["identifier"]["system"] = "urn:oid:1.2.752.129.2.1.3.1";
  ExpectRefused(other_system, "/subject/identifier/system");

  json wrong_kind = referral;
  wrong_kind["subject"]["identifier"]["system"] = core::kFhirSamordningsnummerSystem;
  ExpectRefused(wrong_kind, "/subject/identifier/system");

  json foreign_identifier = referral;
  foreign_identifier["identifier"] = {{{"system", "urn:oid:1.2.3"}, {"value", "19121212-1212"}}};
  ExpectRefused(foreign_identifier, "/identifier/0/system");

  json unknown_extension = referral;
  unknown_extension["extension"] = {{{"url", "http://example.org/x"}, {"valueString", "Anna"}}};
  ExpectRefused(unknown_extension, "/extension/0/url");

  json no_type = referral;
  no_type.erase("code");
  ExpectRefused(no_type, "/code");

  json not_a_referral = referral;
  not_a_referral["code"]["coding"][0]["code"] = "consent_granted";
  ExpectRefused(not_a_referral, "/code");

  json draft = referral;
  draft["status"] = "draft";
  ExpectRefused(draft, "/status");

  json performer = referral;
  performer["performer"][0]["identifier"]["system"] = "urn:oid:1.2.3";
  ExpectRefused(performer, "/performer/0/identifier/system");

  json body_clash = referral;
  body_clash["extension"] = {
      {{"url", core::kFhirBodyExtension},
       {"extension", {{{"url", "reason"}, {"valueString", "Behöver mer"}}}}}};
  ExpectRefused(body_clash, "/extension/0");

  json both = referral;
  both["extension"] = {
      {{"url", core::kFhirBodyExtension},
       {"extension", {{{"url", "requested"}, {"valueString", "Anna"}, {"valueBoolean", true}}}}}};
  ExpectRefused(both, "/extension/0/extension/0");

  json consent = {
      {"resourceType", "Consent"},
      {"status", "inactive"},
      {"patient",
       {{"identifier", {{"system", core::kFhirPersonnummerSystem}, {"value", "19121212-1212"}}}}}};
  ExpectRefused(consent, "/identifier");
  consent["status"] = "proposed";
  ExpectRefused(consent, "/status");

  std::vector<std::string> pointers;
  EXPECT_FALSE(core::DocumentFromFhir(json{{"resourceType", "Patient"}}, &pointers).ok());
  EXPECT_EQ(pointers, std::vector<std::string>{"/resourceType"});
  EXPECT_FALSE(core::DocumentFromFhir(json::array(), nullptr).ok());
}

TEST(FhirMappingTest, TheOperationOutcomeNamesTheElementsAsFhirPaths) {
  std::vector<std::string> pointers;
  json referral = HealthSystemReferral();
  referral["performer"][0]["identifier"]["system"] = "urn:oid:1.2.3";
  core::Result<core::FhirMappedDocument> mapped = core::DocumentFromFhir(referral, &pointers);
  ASSERT_FALSE(mapped.ok());
  json outcome = core::FhirOperationOutcome(mapped.status(), pointers, "ServiceRequest");
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_EQ(outcome["issue"][0]["details"]["coding"][0]["code"], "SCHEMA_INVALID");
  EXPECT_EQ(outcome["issue"][0]["expression"][0], "ServiceRequest.performer[0].identifier.system");
  if (SchemaAvailable()) {
    EXPECT_EQ(FhirSchemaErrors(outcome), "");
  }
}

TEST(FhirMappingTest, TheSchemaCheckDoesRejectABrokenResource) {
  if (!SchemaAvailable())
    GTEST_SKIP() << "the FHIR R4 schema is not installed (npm ci in tests/fhir)";
  json resource =
      *core::FhirFromDocument(ReadJson(ExamplesDir() + "/support_request-minimal.json"));
  resource["status"] = 7;
  EXPECT_NE(FhirSchemaErrors(resource), "");
}

// The offline FHIR validator (StructureDefinitions, FHIRPath invariants) on one bundle of each
// resource kind, and it does reject a resource that breaks an invariant.
TEST(FhirMappingTest, ASampleOfEachKindPassesTheFhirValidator) {
  if (!FhirValidatorInstalled()) {
    if (FhirSchemaRequired()) FAIL() << "CI=true but the FHIR validator is not installed";
    GTEST_SKIP() << "the FHIR validator is not installed (npm ci in tests/fhir)";
  }
  std::vector<json> samples;
  std::set<std::string> kinds;
  for (auto [name, document] : Examples("outbox")) {
    std::string kind = ResourceTypeOf(document["type"]);
    if (!kinds.insert(kind).second) continue;
    document["from"] = "flen.school";
    document["sent_at"] = "2026-03-02T08:15:00.120Z";
    document["received_at"] = "2026-03-02T08:15:03.402Z";
    samples.push_back(*core::FhirInboxBundle(document));
  }
  samples.push_back(*core::FhirInboxBundle(Examples("receipt").begin()->second));
  EXPECT_EQ(kinds.size(), 4u);
  EXPECT_EQ(FhirValidatorErrors(samples), "");

  json broken = *core::FhirFromDocument(ReadJson(ExamplesDir() + "/support_request-minimal.json"));
  broken["extension"] = {{{"url", core::kFhirBodyExtension}}};  // ext-1: a value or extensions
  EXPECT_NE(FhirValidatorErrors({broken}), "");
}

}  // namespace
}  // namespace stafett::testing
