// `stafett audit export --format fhir` end to end: a real broker and agents on loopback hand
// over a consent, a support request relying on it and one refused for want of consent; the
// auditor's export is a FHIR R4 Bundle that validates against HL7's FHIR R4 JSON Schema, holds
// the BALP events of those hand-offs, proves every event's record under the broker's signed
// head carried in the bundle, and never contains the child's personnummer.
#include <gtest/gtest.h>

#include "fhir_audit.h"
#include "integration/support/agent_sandbox.h"
#include "stafett/core/encoding.h"
#include "tools/support/fhir_schema.h"

namespace stafett::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

TEST(FhirExportTest, TheAuditLogAsAValidVerifiableBundleOfAuditEvents) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  ASSERT_EQ(
      sandbox.Post(kSchool, ConsentGranted("cg-1", "c-1", {kSchool, kSocial}, kSocial)).status,
      202);
  ASSERT_TRUE(sandbox.WaitForStatus(kSchool, "cg-1", "delivered", seconds(30)));
  ASSERT_EQ(sandbox.Post(kSchool, SupportRequest("sr-1", "c-1", kSocial)).status, 202);
  ASSERT_TRUE(sandbox.WaitForStatus(kSchool, "sr-1", "delivered", seconds(30)));
  // Refused by the broker (so in its log), answered at once: 422 with the message id.
  HttpResponse refused =
      sandbox.Post(kSchool, SupportRequest("sr-none", "no-such-consent", kSocial));
  ASSERT_EQ(refused.status, 422) << refused.body;
  json refusal = json::parse(refused.body, nullptr, false);
  ASSERT_TRUE(refusal.is_object()) << refused.body;
  EXPECT_EQ(refusal.value("code", ""), "CONSENT_REQUIRED") << refused.body;
  EXPECT_EQ(refusal.value("message_id", ""), "sr-none") << "refused by the broker, not the agent";

  std::string auditor = sandbox.county_dir() + "/auditor/auditor.toml";
  std::string output;
  ASSERT_EQ(
      RunStafett({"audit", "trail", "--config", auditor, "--subject-pnr", kChildNumber}, &output),
      0)
      << output;
  // Export once a signed head covers the whole log (the broker signs within seconds of growth):
  // until then the newest records are not yet under a head and the bundle lacks them.
  json bundle;
  auto has_query = [&] {
    for (const json& entry : bundle["entry"]) {
      if (entry["resource"]["subtype"][0]["code"] == "search") return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        if (RunStafett({"audit", "export", "--config", auditor, "--format", "fhir"}, &output) != 0)
          return false;
        bundle = json::parse(output, nullptr, false);
        return bundle.is_object() && has_query();
      },
      seconds(30)))
      << output;
  EXPECT_EQ(output.find(kChildNumber), std::string::npos) << "pseudonyms only";
  EXPECT_EQ(output.find("191212121212"), std::string::npos);
  EXPECT_EQ(output.find("1212121212"), std::string::npos);

  EXPECT_EQ(bundle["resourceType"], "Bundle");
  EXPECT_EQ(bundle["type"], "collection");
  // The signed head travels in the bundle's signature; its root is the one every event proves
  // against.
  json head = json::parse(*core::FromBase64(bundle["signature"]["data"].get<std::string>()));
  uint64_t tree_size = head["tree_size"];
  std::string root = head["root_hash"];
  EXPECT_EQ(bundle["identifier"]["value"], std::to_string(tree_size) + ":" + root);

  std::map<std::string, int> seen;
  for (const json& entry : bundle["entry"]) {
    const json& event = entry["resource"];
    EXPECT_TRUE(tools::VerifyFhirAuditEvent(event, tree_size, root).ok()) << event["id"];
    std::string key = event["type"]["code"].get<std::string>() + "/" +
                      event["subtype"][0]["code"].get<std::string>() + "/" +
                      event.value("outcome", "");
    ++seen[key];
  }
  // The consent event is logged as consent_granted (a create), the request as accepted.
  EXPECT_EQ(seen["110106/disclose/0"], 1) << "the support request left";
  EXPECT_EQ(seen["110107/disclose/0"], 2) << "the consent event and the request were received";
  EXPECT_EQ(seen["110106/disclose/4"], 1) << "the refused request";
  EXPECT_EQ(seen["110113/AuthZ-Consent/0"], 1) << "the permit for sr-1 under c-1";
  EXPECT_EQ(seen["110113/AuthZ-Consent/4"], 1) << "the deny for sr-none (an unknown consent)";
  EXPECT_EQ(seen["rest/create/0"], 1) << "consent c-1 recorded";
  EXPECT_EQ(seen["rest/search/0"], 1) << "the trail query";

  if (!FhirSchemaInstalled()) {
    if (FhirSchemaRequired()) FAIL() << "CI=true but no " << FhirSchemaPath();
    GTEST_SKIP() << "the FHIR R4 schema is not installed (npm ci in tests/fhir)";
  }
  EXPECT_EQ(FhirSchemaErrors(bundle), "");
}

}  // namespace
}  // namespace stafett::testing
