// The audit log as FHIR R4 (tools/src/fhir_audit.h): every kind of audit record maps to the
// BALP AuditEvents docs/FHIR.md names, the bundle validates against HL7's FHIR R4 JSON Schema,
// every event's inclusion extension proves its record under the signed root, and an altered
// record or proof does not.
#include "fhir_audit.h"

#include <gtest/gtest.h>

#include "stafett/core/encoding.h"
#include "stafett/core/merkle.h"
#include "tools/support/fhir_schema.h"

namespace stafett::tools {
namespace {

using nlohmann::json;

constexpr char kPseudonym[] = "4f1c2a9e0b7d3e6f8a5c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a";

// One record of each event the broker writes, in the canonical form (keys sorted, compact).
std::vector<std::string> SampleLeaves() {
  std::vector<json> records = {
      {{"event", "consent_granted"},
       {"from", "flen.social"},
       {"subject", kPseudonym},
       {"consent_id", "c-1"}},
      {{"event", "accepted"},
       {"from", "flen.school"},
       {"to", {"flen.social"}},
       {"type", "referral"},
       {"message_id", "m-1"},
       {"subject", kPseudonym},
       {"consent_id", "c-1"}},
      {{"event", "accepted"},
       {"from", "flen.school"},
       {"to", {"flen.social"}},
       {"type", "concern_report"},
       {"message_id", "m-2"},
       {"subject", kPseudonym},
       {"consent_id", ""}},
      {{"event", "delivered"},
       {"from", "flen.school"},
       {"to", {"flen.social"}},
       {"type", "referral"},
       {"message_id", "m-1"},
       {"subject", kPseudonym},
       {"consent_id", "c-1"}},
      {{"event", "refused"},
       {"from", "flen.school"},
       {"to", {"region.health"}},
       {"type", "referral"},
       {"message_id", "m-3"},
       {"subject", kPseudonym},
       {"consent_id", ""},
       {"code", "CONSENT_REQUIRED"}},
      {{"event", "refused"},
       {"from", "flen.school"},
       {"to", {"flen.social"}},
       {"type", "referral"},
       {"message_id", "m-4"},
       {"subject", kPseudonym},
       {"consent_id", ""},
       {"code", "NOT_ALLOWED"}},
      {{"event", "withheld"},
       {"from", "flen.school"},
       {"to", {"flen.social"}},
       {"type", "referral"},
       {"message_id", "m-5"},
       {"subject", kPseudonym},
       {"consent_id", "c-1"},
       {"code", "CONSENT_REVOKED"}},
      {{"event", "expired"},
       {"from", "flen.school"},
       {"to", {"flen.social"}},
       {"type", "referral"},
       {"message_id", "m-6"},
       {"subject", kPseudonym},
       {"consent_id", "c-1"},
       {"code", "EXPIRED"}},
      {{"event", "consent_revoked"},
       {"from", "flen.social"},
       {"subject", kPseudonym},
       {"consent_id", "c-1"}},
      {{"event", "audit_query"},
       {"actor", "auditor"},
       {"subject", kPseudonym},
       {"query", {{"subject", kPseudonym}}}},
  };
  std::vector<std::string> leaves;
  for (size_t i = 0; i < records.size(); ++i) {
    records[i]["seq"] = i;
    records[i]["time"] = "2026-11-30T10:00:0" + std::to_string(i) + ".250Z";
    leaves.push_back(records[i].dump());  // nlohmann sorts keys: canonical
  }
  return leaves;
}

class FhirAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leaves_ = SampleLeaves();
    for (const std::string& leaf : leaves_) log_.Append(leaf);
    root_ = core::HashToHex(log_.Root());
    for (uint64_t seq = 0; seq < leaves_.size(); ++seq) {
      FhirLogPosition position{seq, leaves_[seq], {}, leaves_.size(), root_};
      core::Result<std::vector<core::Hash>> proof = core::InclusionProof(seq, leaves_.size(), log_);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      for (const core::Hash& hash : *proof) position.proof.push_back(core::HashToHex(hash));
      core::Result<std::vector<json>> mapped = FhirAuditEvents(position);
      ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
      for (json& event : *mapped) events_.push_back(std::move(event));
    }
  }

  const json* Event(const std::string& id) const {
    for (const json& event : events_) {
      if (event["id"] == id) return &event;
    }
    return nullptr;
  }

  std::vector<std::string> leaves_;
  core::MemoryNodeStore log_;
  std::string root_;
  std::vector<json> events_;
};

std::string Profile(const json& event) {
  if (!event.contains("meta")) return "";
  return event["meta"]["profile"][0].get<std::string>();
}

TEST_F(FhirAuditTest, EachEventMapsToItsBalpPattern) {
  // Ten records; the accepted under a consent and the consent refusal also give a decision.
  EXPECT_EQ(events_.size(), 12u);
  const json* source = Event("seq-1");
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->at("type")["code"], "110106");
  EXPECT_EQ(source->at("subtype")[0]["code"], "disclose");
  EXPECT_EQ(source->at("outcome"), "0");
  EXPECT_TRUE(Profile(*source).ends_with("PrivacyDisclosure.Source"));
  EXPECT_EQ(source->at("agent").size(), 2u);
  EXPECT_EQ(source->at("agent")[0]["type"]["coding"][0]["code"], "110153");
  EXPECT_EQ(source->at("agent")[1]["type"]["coding"][0]["code"], "110152");
  EXPECT_EQ(source->at("agent")[1]["who"]["identifier"]["value"], "flen.social");

  const json* permit = Event("seq-1-consent");
  ASSERT_NE(permit, nullptr);
  EXPECT_EQ(permit->at("type")["code"], "110113");
  EXPECT_EQ(permit->at("subtype")[0]["code"], "AuthZ-Consent");
  EXPECT_TRUE(Profile(*permit).ends_with("AuthZconsent"));
  EXPECT_EQ(Event("seq-2-consent"), nullptr) << "no consent, no consent decision";

  const json* recipient = Event("seq-3");
  ASSERT_NE(recipient, nullptr);
  EXPECT_EQ(recipient->at("type")["code"], "110107");
  EXPECT_TRUE(Profile(*recipient).ends_with("PrivacyDisclosure.Recipient"));

  const json* deny = Event("seq-4-consent");
  ASSERT_NE(deny, nullptr);
  EXPECT_EQ(deny->at("outcome"), "4");
  EXPECT_EQ(deny->at("outcomeDesc"), "CONSENT_REQUIRED");
  EXPECT_EQ(Profile(*deny), "") << "BALP's AuthZconsent is the permit only";
  EXPECT_EQ(Event("seq-5-consent"), nullptr) << "NOT_ALLOWED is no consent decision";
  EXPECT_EQ(Event("seq-4")->at("outcome"), "4");

  EXPECT_EQ(Event("seq-6")->at("outcome"), "8");
  EXPECT_EQ(Event("seq-6")->at("outcomeDesc"), "CONSENT_REVOKED");
  EXPECT_EQ(Event("seq-7")->at("outcomeDesc"), "EXPIRED");

  EXPECT_EQ(Event("seq-0")->at("subtype")[0]["code"], "create");
  EXPECT_EQ(Event("seq-8")->at("subtype")[0]["code"], "update");
  const json* query = Event("seq-9");
  EXPECT_EQ(query->at("subtype")[0]["code"], "search");
  EXPECT_EQ(query->at("agent")[0]["who"]["identifier"]["value"], "auditor");

  // The child is the pseudonym, as the patient entity, in every event naming one.
  for (const json& event : events_) {
    const json& patient = event["entity"][0];
    EXPECT_EQ(patient["what"]["identifier"]["value"], kPseudonym) << event["id"];
    EXPECT_EQ(patient["role"]["code"], "1") << event["id"];
  }
}

TEST_F(FhirAuditTest, EveryEventProvesItsRecordUnderTheRoot) {
  for (const json& event : events_) {
    EXPECT_TRUE(VerifyFhirAuditEvent(event, leaves_.size(), root_).ok()) << event["id"];
  }
  // An altered record no longer proves.
  json altered = *Event("seq-3");
  for (json& part : altered["extension"][0]["extension"]) {
    if (part["url"] == "leaf") {
      std::string leaf = *core::FromBase64(part["valueBase64Binary"].get<std::string>());
      leaf.replace(leaf.find("flen.social"), 11, "flen.health");
      part["valueBase64Binary"] = core::ToBase64(leaf);
    }
  }
  EXPECT_FALSE(VerifyFhirAuditEvent(altered, leaves_.size(), root_).ok());
  // Nor one whose proof lost a hash, nor one checked against another root.
  json shortened = *Event("seq-3");
  json& parts = shortened["extension"][0]["extension"];
  parts.erase(parts.end() - 1);
  EXPECT_FALSE(VerifyFhirAuditEvent(shortened, leaves_.size(), root_).ok());
  EXPECT_FALSE(VerifyFhirAuditEvent(*Event("seq-3"), leaves_.size(),
                                    core::HashToHex(core::LeafHash("another tree")))
                   .ok());
  json bare = *Event("seq-3");
  bare.erase("extension");
  EXPECT_FALSE(VerifyFhirAuditEvent(bare, leaves_.size(), root_).ok());
}

TEST_F(FhirAuditTest, AHostileEventIsAnErrorNotAThrow) {
  // Values of the wrong JSON type wherever the check looks: each is refused with a status.
  for (const char* text :
       {R"("not an object")", R"({"extension": "x"})", R"({"extension": [5]})",
        R"({"extension": [{"url": 5}]})",
        R"({"extension": [{"url": "urn:stafett:fhir:StructureDefinition:merkle-inclusion",
                            "extension": [{"url": "seq", "valueString": 3},
                                          {"url": "leaf", "valueBase64Binary": []},
                                          {"url": "proof", "valueString": {}}]}]})"}) {
    nlohmann::json event = nlohmann::json::parse(text);
    core::Status status;
    EXPECT_NO_THROW(status = VerifyFhirAuditEvent(event, leaves_.size(), root_)) << text;
    EXPECT_FALSE(status.ok()) << text;
  }
}

TEST_F(FhirAuditTest, BundleValidatesAgainstTheFhirR4Schema) {
  if (!testing::FhirSchemaInstalled()) {
    if (testing::FhirSchemaRequired()) FAIL() << "CI=true but no " << testing::FhirSchemaPath();
    GTEST_SKIP() << "the FHIR R4 schema is not installed (npm ci in tests/fhir)";
  }
  json head = {{"tree_size", leaves_.size()}, {"root_hash", root_}, {"key_id", "0123456789abcdef"}};
  json bundle = FhirAuditBundle(events_, head, "2026-11-30T10:00:10Z", leaves_.size(), root_);
  EXPECT_EQ(bundle["type"], "collection");
  EXPECT_EQ(bundle["entry"].size(), events_.size());
  EXPECT_EQ(testing::FhirSchemaErrors(bundle), "");
  // The validator does reject what is not FHIR: an AuditEvent without its required type, and
  // an outcome outside the code list.
  json broken = bundle;
  broken["entry"][0]["resource"].erase("type");
  EXPECT_NE(testing::FhirSchemaErrors(broken), "");
  broken = bundle;
  broken["entry"][1]["resource"]["outcome"] = "maybe";
  EXPECT_NE(testing::FhirSchemaErrors(broken), "");
}

TEST(FhirAuditRecordTest, ARecordThatIsNotAnAuditRecordIsAnError) {
  FhirLogPosition position{0, "not json", {}, 1, std::string(64, '0')};
  EXPECT_EQ(FhirAuditEvents(position).status().code(), core::Code::kSchemaInvalid);
  position.leaf = R"({"event":"accepted"})";
  EXPECT_EQ(FhirAuditEvents(position).status().code(), core::Code::kSchemaInvalid);
  position.leaf = R"({"event":"teleported","time":"2026-11-30T10:00:00.000Z"})";
  EXPECT_EQ(FhirAuditEvents(position).status().code(), core::Code::kSchemaInvalid);
}

}  // namespace
}  // namespace stafett::tools
