// The agents' FHIR side end to end: a real broker and two agents on loopback, the recipient's
// inbox in FHIR format ([inbox] format = "fhir"). A Consent and then a ServiceRequest POSTed at
// the sender's /fhir/ endpoints travel as Stafett documents and arrive as message Bundles whose
// resource equals the posted one in every element it had (the round trip ServiceRequest →
// Stafett → ServiceRequest), plus the sender and time the agents add; the bundles validate
// against HL7's FHIR R4 JSON Schema and the offline FHIR validator. What cannot be mapped is
// answered with an OperationOutcome that names the element and never the child's number.
#include <gtest/gtest.h>

#include <fstream>

#include "integration/support/agent_sandbox.h"
#include "stafett/core/fhir_mapping.h"
#include "tools/support/fhir_schema.h"

namespace stafett::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

json Endpoint(const std::string& id) {
  return {{"type", "Organization"},
          {"identifier", {{"system", core::kFhirEndpointSystem}, {"value", id}}}};
}

json Child() {
  return {{"type", "Patient"},
          {"identifier", {{"system", core::kFhirPersonnummerSystem}, {"value", kChildNumber}}}};
}

json PostedConsent() {
  return {{"resourceType", "Consent"},
          {"identifier",
           {{{"system", core::kFhirConsentIdSystem}, {"value", "c-fhir-1"}},
            {{"system", core::kFhirMessageIdSystem}, {"value", "cg-fhir-1"}}}},
          {"status", "active"},
          {"scope",
           {{"coding",
             {{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"},
               {"code", "patient-privacy"}}}}}},
          {"category", {{{"coding", {{{"system", "http://loinc.org"}, {"code", "59284-0"}}}}}}},
          {"patient", Child()},
          {"performer", {{{"type", "RelatedPerson"}, {"display", "Anna Andersson"}}}},
          {"provision",
           {{"type", "permit"},
            {"period", {{"start", "2026-01-01T00:00:00Z"}, {"end", "2031-01-01T00:00:00Z"}}},
            {"actor",
             {{{"role",
                {{"coding",
                  {{{"system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"},
                    {"code", "IRCP"}}}}}},
               {"reference", Endpoint(kSchool)}},
              {{"role",
                {{"coding",
                  {{{"system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"},
                    {"code", "IRCP"}}}}}},
               {"reference", Endpoint(kSocial)}}}},
            {"purpose", {{{"system", "urn:stafett:consent-purpose"}, {"code", "support"}}}}}}};
}

json PostedReferral() {
  return {{"resourceType", "ServiceRequest"},
          {"identifier", {{{"system", core::kFhirMessageIdSystem}, {"value", "sr-fhir-1"}}}},
          {"status", "active"},
          {"intent", "order"},
          {"code",
           {{"coding", {{{"system", core::kFhirMessageTypeSystem}, {"code", "support_request"}}}}}},
          {"orderDetail", {{{"text", "Samtal med familjen om stöd i skolan."}}}},
          {"subject", Child()},
          {"performer", {Endpoint(kSocial)}},
          {"reasonCode", {{{"text", "Frånvaro sedan tre veckor."}}}},
          {"supportingInfo",
           {{{"type", "Consent"},
             {"identifier", {{"system", core::kFhirConsentIdSystem}, {"value", "c-fhir-1"}}}}}},
          {"extension",
           {{{"url", core::kFhirBodyExtension},
             {"extension",
              {{{"url", "child_view"}, {"extension", {{{"url", "heard"}, {"valueBoolean", true}}}}},
               {{"url", "contact"},
                {"extension",
                 {{{"url", "name"}, {"valueString", "Karin Lindqvist"}},
                  {{"url", "role"}, {"valueString", "skolkurator"}}}}}}}}}}};
}

HttpResponse PostFhir(const AgentInfo& agent, const std::string& type, const json& resource) {
  return HttpRequest(agent.http, "POST", "/fhir/" + type, resource.dump(),
                     {{"Content-Type", "application/fhir+json"}});
}

// The inbox file of MESSAGE_ID at agent ID, once it is there.
json InboxFile(const AgentSandbox& sandbox, const std::string& id, const std::string& message_id) {
  std::string text;
  std::string path = sandbox.agent(id).inbox + "/" + message_id + ".json";
  WaitUntil([&] { return ReadWholeFile(path, &text); }, seconds(30));
  return json::parse(text, nullptr, false);
}

// POSTED's every element is in RECEIVED as posted; RECEIVED adds only ADDED.
void ExpectSameMappedElements(const json& posted, const json& received,
                              const std::set<std::string>& added) {
  for (auto it = posted.begin(); it != posted.end(); ++it) {
    EXPECT_EQ(received.value(it.key(), json()), *it) << it.key();
  }
  for (auto it = received.begin(); it != received.end(); ++it) {
    if (!posted.contains(it.key())) {
      EXPECT_TRUE(added.contains(it.key())) << it.key();
    }
  }
}

void ExpectValidFhir(const std::vector<json>& resources) {
  if (!FhirSchemaInstalled() || !FhirValidatorInstalled()) {
    if (FhirSchemaRequired()) FAIL() << "CI=true but the FHIR schema or validator is missing";
    GTEST_SKIP() << "the FHIR R4 schema and validator are not installed (npm ci in tests/fhir)";
  }
  for (const json& resource : resources) EXPECT_EQ(FhirSchemaErrors(resource), "");
  EXPECT_EQ(FhirValidatorErrors(resources), "");
}

TEST(FhirAgentTest, PostedConsentAndServiceRequestArriveAsTheSameResourcesInAFhirInbox) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  {
    std::ofstream config(sandbox.agent(kSocial).config, std::ios::app);
    config << "\n[inbox]\nformat = \"fhir\"\n";
  }
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  const AgentInfo& school = sandbox.agent(kSchool);

  // The consent first: it names the parties, and the event goes to every other one.
  HttpResponse consent = PostFhir(school, "Consent", PostedConsent());
  ASSERT_EQ(consent.status, 202) << consent.body;
  EXPECT_EQ(json::parse(consent.body).value("message_id", ""), "cg-fhir-1");
  ASSERT_TRUE(sandbox.WaitForStatus(kSchool, "cg-fhir-1", "delivered", seconds(30)))
      << sandbox.LogOf(kSocial);
  HttpResponse referral = PostFhir(school, "ServiceRequest", PostedReferral());
  ASSERT_EQ(referral.status, 202) << referral.body;
  ASSERT_TRUE(sandbox.WaitForStatus(kSchool, "sr-fhir-1", "delivered", seconds(30)))
      << sandbox.LogOf(kSocial);

  json consent_bundle = InboxFile(sandbox, kSocial, "cg-fhir-1");
  json referral_bundle = InboxFile(sandbox, kSocial, "sr-fhir-1");
  for (const json* bundle : {&consent_bundle, &referral_bundle}) {
    ASSERT_TRUE(bundle->is_object());
    EXPECT_EQ((*bundle)["resourceType"], "Bundle");
    EXPECT_EQ((*bundle)["type"], "message");
    ASSERT_EQ((*bundle)["entry"].size(), 2u);
    const json& header = (*bundle)["entry"][0]["resource"];
    EXPECT_EQ(header["resourceType"], "MessageHeader");
    EXPECT_EQ(header["sender"]["identifier"]["value"], kSchool);
    EXPECT_EQ(header["destination"][0]["receiver"]["identifier"]["value"], kSocial);
    // The envelope's facts: the signed header and the sender's signature travel with it.
    std::set<std::string> parts;
    for (const json& part : header["extension"][0]["extension"]) parts.insert(part["url"]);
    for (const char* part : {"received_at", "pseudonym", "header", "signature", "key_id", "seq"}) {
      EXPECT_TRUE(parts.contains(part)) << part;
    }
  }
  // Round trips: what the health system posted is what the other side's system reads, plus
  // who sent it and when (and, for a Consent, whom it was sent to).
  const json& received_consent = consent_bundle["entry"][1]["resource"];
  EXPECT_EQ(received_consent["resourceType"], "Consent");
  ExpectSameMappedElements(PostedConsent(), received_consent,
                           {"organization", "dateTime", "extension"});
  EXPECT_EQ(received_consent["organization"][0]["identifier"]["value"], kSchool);
  EXPECT_EQ(received_consent["extension"][0]["url"], core::kFhirRecipientExtension);
  EXPECT_EQ(received_consent["extension"][0]["valueReference"]["identifier"]["value"], kSocial);
  const json& received_referral = referral_bundle["entry"][1]["resource"];
  EXPECT_EQ(received_referral["resourceType"], "ServiceRequest");
  ExpectSameMappedElements(PostedReferral(), received_referral, {"requester", "authoredOn"});
  EXPECT_EQ(received_referral["requester"]["identifier"]["value"], kSchool);

  // The sender's own inbox keeps the Stafett format (its receipts).
  std::string receipt;
  EXPECT_TRUE(ReadWholeFile(school.inbox + "/receipt-sr-fhir-1-flen.social.json", &receipt));
  EXPECT_EQ(json::parse(receipt, nullptr, false).value("type", ""), "delivery_receipt");

  // Refusals: an OperationOutcome naming the element, never the number.
  json by_reference = PostedReferral();
  by_reference["identifier"][0]["value"] = "sr-fhir-2";
  by_reference["subject"] = {{"reference", "Patient/123"}};
  HttpResponse refused = PostFhir(school, "ServiceRequest", by_reference);
  EXPECT_EQ(refused.status, 400) << refused.body;
  json outcome = json::parse(refused.body, nullptr, false);
  EXPECT_EQ(outcome.value("resourceType", ""), "OperationOutcome") << refused.body;
  EXPECT_EQ(outcome["issue"][0]["expression"][0], "ServiceRequest.subject") << refused.body;

  json bad_number = PostedReferral();
  bad_number["identifier"][0]["value"] = "sr-fhir-3";
  bad_number["subject"]["identifier"]["value"] = "19121212-1213";  // Luhn fails
  refused = PostFhir(school, "ServiceRequest", bad_number);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(json::parse(refused.body, nullptr, false)["issue"][0]["details"]["coding"][0]["code"],
            "SCHEMA_INVALID")
      << refused.body;
  EXPECT_EQ(refused.body.find("1212121213"), std::string::npos);
  EXPECT_EQ(refused.body.find("19121212-1213"), std::string::npos);

  refused = PostFhir(school, "Consent", PostedReferral());
  EXPECT_EQ(refused.status, 400) << "a ServiceRequest on /fhir/Consent";
  refused = HttpRequest(school.http, "POST", "/fhir/ServiceRequest", PostedReferral().dump(),
                        {{"Content-Type", "application/fhir+json"},
                         {"Authorization", "Bearer not-the-token-at-all"}});
  EXPECT_EQ(refused.status, 401);
  refused = HttpRequest(school.http, "POST", "/fhir/ServiceRequest", PostedReferral().dump(),
                        {{"Content-Type", "text/plain"}});
  EXPECT_EQ(refused.status, 415);

  // Neither agent's log holds the child's number or any text of the documents.
  for (const char* agent : {kSchool, kSocial}) {
    std::string log = sandbox.LogOf(agent);
    EXPECT_EQ(log.find(kChildNumber), std::string::npos) << agent;
    EXPECT_EQ(log.find("1212121212"), std::string::npos) << agent;
    EXPECT_EQ(log.find("Frånvaro"), std::string::npos) << agent;
  }

  ExpectValidFhir({consent_bundle, referral_bundle, outcome});
}

}  // namespace
}  // namespace stafett::testing
