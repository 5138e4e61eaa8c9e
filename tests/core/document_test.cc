// Tests for ParseDocument against schemas/examples (every valid example parses, every invalid
// one fails with the code and pointer of its .expect sidecar, no message echoes personal data)
// and for the pipeline's order, limits and extracted facts. Thread-safety: n/a (test).
#include "stafett/core/document.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "stafett/core/rules.h"
#include "stafett/core/schema.h"

namespace stafett::core {
namespace {

const std::filesystem::path kExamples =
    std::filesystem::path(STAFETT_SOURCE_DIR) / "schemas" / "examples";

// "Now" for these tests; the examples' children are born before it and the consents around it.
Micros Now() { return *ParseRfc3339("2026-03-01T10:00:00Z"); }

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The examples in DIR ("valid" or "invalid"), sorted by name.
std::vector<std::filesystem::path> Examples(const std::string& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples / dir)) {
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// "support_request" for "support_request-minimal.json".
std::string TypeOf(const std::filesystem::path& path) {
  std::string stem = path.stem().string();
  return stem.substr(0, stem.find('-'));
}

// Receipts and inbox documents are what agents write, not outbox documents: checked by schema.
bool IsOutboxExample(const std::filesystem::path& path) {
  return TypeOf(path) != "delivery_receipt" && TypeOf(path) != "inbox_document";
}

Result<Document> Parse(std::string_view text, std::vector<std::string>* pointers = nullptr) {
  return ParseDocument(text, kDefaultMaxDocumentBytes, Now(), pointers);
}

// No run of ten or more digits (a personnummer in any form) and no string value of TEXT's
// document, nor its personnummer's digits, appears in MESSAGE.
void ExpectNoPersonalData(const std::string& message, const std::string& text) {
  static const std::regex kDigits("[0-9]{6}[-+]?[0-9]{4}");
  EXPECT_FALSE(std::regex_search(message, kDigits)) << message;
  nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded()) return;
  std::vector<const nlohmann::json*> pending = {&document};
  while (!pending.empty()) {
    const nlohmann::json* node = pending.back();
    pending.pop_back();
    // Enum tokens such as "child" (lowercase words) are schema vocabulary, not personal data.
    if (node->is_string() && node->get<std::string>().size() >= 4 &&
        node->get<std::string>().find_first_not_of("abcdefghijklmnopqrstuvwxyz_") !=
            std::string::npos) {
      EXPECT_EQ(message.find(node->get<std::string>()), std::string::npos)
          << "value echoed: " << message;
    }
    if (node->is_structured()) {
      for (const nlohmann::json& child : *node) pending.push_back(&child);
    }
  }
}

TEST(DocumentExamplesTest, ThereAreAtLeastTwoOfEachKindPerType) {
  std::map<std::string, int> valid, invalid;
  for (const auto& path : Examples("valid")) ++valid[TypeOf(path)];
  for (const auto& path : Examples("invalid")) ++invalid[TypeOf(path)];
  for (const char* type :
       {"concern_report", "concern_feedback", "support_request", "assessment_referral",
        "sip_invitation", "information_request", "information_response", "referral_status",
        "consent_granted", "consent_revoked", "delivery_receipt", "inbox_document"}) {
    EXPECT_GE(valid[type], 2) << type;
    EXPECT_GE(invalid[type], 2) << type;
  }
}

TEST(DocumentExamplesTest, EveryValidExamplePasses) {
  for (const auto& path : Examples("valid")) {
    std::string text = ReadFile(path);
    if (IsOutboxExample(path)) {
      std::vector<std::string> pointers;
      Result<Document> document = Parse(text, &pointers);
      ASSERT_TRUE(document.ok()) << path.filename() << ": " << document.status().ToString();
      EXPECT_TRUE(pointers.empty());
      EXPECT_EQ(document->type, TypeOf(path));
      EXPECT_EQ(document->personnummer12.size(), 12u);
    } else {
      Status status =
          SchemaValidator::Default().Validate(TypeOf(path), nlohmann::json::parse(text), nullptr);
      EXPECT_TRUE(status.ok()) << path.filename() << ": " << status.ToString();
    }
  }
}

TEST(DocumentExamplesTest, EveryInvalidExampleFailsAsItsSidecarSays) {
  for (const auto& path : Examples("invalid")) {
    std::filesystem::path sidecar = path;
    sidecar.replace_extension(".expect");
    ASSERT_TRUE(std::filesystem::exists(sidecar)) << sidecar;
    nlohmann::json expect = nlohmann::json::parse(ReadFile(sidecar));
    std::string text = ReadFile(path);
    std::vector<std::string> pointers;
    Status status;
    if (IsOutboxExample(path)) {
      status = Parse(text, &pointers).status();
    } else {
      status =
          SchemaValidator::Default().Validate(TypeOf(path), nlohmann::json::parse(text), &pointers);
    }
    EXPECT_EQ(CodeName(status.code()), expect["code"].get<std::string>())
        << path.filename() << ": " << status.ToString();
    std::string pointer = expect["pointer"].get<std::string>();
    EXPECT_NE(std::find(pointers.begin(), pointers.end(), pointer), pointers.end())
        << path.filename() << " expected " << pointer << ": " << status.ToString();
    ExpectNoPersonalData(status.message(), text);
  }
}

TEST(DocumentTest, OversizeIsTooLargeBeforeAnythingElse) {
  std::string text(1025, 'x');
  Result<Document> document = ParseDocument(text, 1024, Now(), nullptr);
  EXPECT_EQ(document.status().code(), Code::kTooLarge);
  EXPECT_TRUE(ParseDocument("{}", 2, Now(), nullptr).status().code() == Code::kSchemaInvalid);
}

TEST(DocumentTest, NotJsonNamesTheByteOnly) {
  std::vector<std::string> pointers;
  Result<Document> document =
      Parse("{\"subject\": {\"personnummer\": \"20140523-2388\" ", &pointers);
  EXPECT_EQ(document.status().code(), Code::kSchemaInvalid);
  EXPECT_NE(document.status().message().find("not JSON at byte"), std::string::npos);
  EXPECT_EQ(document.status().message().find("2388"), std::string::npos);
  EXPECT_EQ(pointers, std::vector<std::string>{""});
  EXPECT_EQ(Parse("").status().code(), Code::kSchemaInvalid);
  EXPECT_EQ(Parse("[1,2]").status().code(), Code::kSchemaInvalid);
  EXPECT_EQ(Parse("\"text\"").status().code(), Code::kSchemaInvalid);
}

TEST(DocumentTest, DeepNestingIsRefusedWithoutRecursion) {
  std::string text = "{\"body\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  Result<Document> document = Parse(text);
  EXPECT_EQ(document.status().code(), Code::kSchemaInvalid);
  EXPECT_NE(document.status().message().find("nested deeper"), std::string::npos);
}

TEST(DocumentTest, ExtractsTheFactsOfAReferral) {
  Result<Document> document =
      Parse(ReadFile(kExamples / "valid" / "support_request-bridge-school-refusal.json"));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->message_id, "stenbacke-2026-017");
  EXPECT_EQ(document->to, std::vector<std::string>{"flen.social"});
  EXPECT_EQ(document->personnummer12, "201209174620");
  EXPECT_FALSE(document->coordination_number);
  EXPECT_EQ(document->consent_id, "samtycke-flen-2026-0042");
  EXPECT_EQ(document->ttl_seconds, 1209600);
  EXPECT_EQ(document->body["wellbeing"].size(), 8u);
  EXPECT_TRUE(document->ref.empty());
  EXPECT_FALSE(document->consent.has_value());
}

TEST(DocumentTest, DefaultsAndNormalises) {
  // The examples carry message ids (they are the sandbox tour); without one the agent makes one.
  nlohmann::json minimal =
      nlohmann::json::parse(ReadFile(kExamples / "valid" / "support_request-minimal.json"));
  minimal.erase("message_id");
  Result<Document> document = Parse(minimal.dump());
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_TRUE(document->message_id.empty());
  EXPECT_EQ(document->ttl_seconds, kDefaultTtlSeconds);
  EXPECT_EQ(document->personnummer12, "201709684524");  // a coordination number, twelve digits

  document = Parse(ReadFile(kExamples / "valid" / "concern_report-bvc-urgent.json"));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->personnummer12, "202004152639");  // from the ten-digit form
  EXPECT_TRUE(document->consent_id.empty());            // a report of concern needs no consent

  document = Parse(ReadFile(kExamples / "valid" / "sip_invitation-coordination-number.json"));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_TRUE(document->coordination_number);
}

TEST(DocumentTest, NullConsentIdIsAbsent) {
  nlohmann::json json =
      nlohmann::json::parse(ReadFile(kExamples / "valid" / "concern_report-school-absence.json"));
  json["consent_id"] = nullptr;
  Result<Document> document = Parse(json.dump());
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_TRUE(document->consent_id.empty());
  json["type"] = "support_request";
  json["body"] = {{"reason", "Bron"}};
  EXPECT_EQ(Parse(json.dump()).status().code(), Code::kConsentRequired);
}

TEST(DocumentTest, TakesTheReferenceFromTheBody) {
  for (const auto& [file, ref] : std::vector<std::pair<std::string, std::string>>{
           {"concern_feedback-already-ongoing", "bvc-flen-2026-0311"},
           {"information_response-minimal", "ifo-flen-ir-2026-009"},
           {"referral_status-accepted", "stenbacke-2026-017"}}) {
    Result<Document> document = Parse(ReadFile(kExamples / "valid" / (file + ".json")));
    ASSERT_TRUE(document.ok()) << file << ": " << document.status().ToString();
    EXPECT_EQ(document->ref, ref) << file;
  }
}

TEST(DocumentTest, ConsentGrantedCarriesItsScope) {
  Result<Document> document =
      Parse(ReadFile(kExamples / "valid" / "consent_granted-youth-alone.json"));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->consent_id, "vc-sam-2026-112");  // from the body
  ASSERT_TRUE(document->consent.has_value());
  const ConsentGrantFacts& facts = *document->consent;
  EXPECT_EQ(facts.consent_id, "vc-sam-2026-112");
  EXPECT_EQ(facts.parties, (std::vector<std::string>{"region.health", "flen.school"}));
  EXPECT_EQ(facts.purposes, std::vector<std::string>{"information_exchange"});
  EXPECT_EQ(facts.valid_from, *ParseRfc3339("2026-03-01T08:00:00Z"));
  EXPECT_EQ(facts.valid_until, *ParseRfc3339("2031-09-01T00:00:00Z"));

  ConsentGrantFacts precise = facts;
  precise.valid_from += 1234;
  ConsentScope scope = ToConsentScope(precise);
  EXPECT_EQ(scope.valid_from, facts.valid_from + 1000);
  EXPECT_EQ(scope.parties, facts.parties);
}

TEST(DocumentTest, ConsentRevokedTakesItsConsentIdFromTheBody) {
  Result<Document> document = Parse(ReadFile(kExamples / "valid" / "consent_revoked-minimal.json"));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->consent_id, "vc-sam-2026-112");
}

TEST(DocumentTest, TheTypesNeedingConsentAreTheRulesTablesTypesWithAPurpose) {
  for (const MessageRule& rule : RulesTable()) {
    EXPECT_EQ(TypeNeedsConsent(rule.type), !rule.purpose.empty()) << rule.type;
  }
  EXPECT_FALSE(TypeNeedsConsent("gossip"));
}

TEST(DocumentTest, ANewerMinorVersionIsNamedInTheRefusal) {
  nlohmann::json json =
      nlohmann::json::parse(ReadFile(kExamples / "valid" / "support_request-minimal.json"));
  json["schema_version"] = "1.3";
  EXPECT_TRUE(Parse(json.dump()).ok());  // a 1.x document using only 1.0 fields is read
  json["body"]["urgency"] = "high";      // a field of a later minor version
  Result<Document> document = Parse(json.dump());
  EXPECT_EQ(document.status().code(), Code::kSchemaInvalid);
  EXPECT_NE(document.status().message().find("names schema 1.3, this release reads 1.0"),
            std::string::npos)
      << document.status().message();
  json["schema_version"] = "2.0";
  std::vector<std::string> pointers;
  document = Parse(json.dump(), &pointers);
  EXPECT_EQ(document.status().code(), Code::kSchemaInvalid);
  EXPECT_EQ(pointers, std::vector<std::string>{"/schema_version"});
  EXPECT_NE(document.status().message().find("reads schema 1.x only"), std::string::npos);
  json["schema_version"] = 1;
  pointers.clear();
  EXPECT_EQ(Parse(json.dump(), &pointers).status().code(), Code::kSchemaInvalid);
  EXPECT_EQ(pointers, std::vector<std::string>{"/schema_version"});
}

TEST(DocumentTest, ErrorJsonCarriesCodeMessageAndPointers) {
  std::vector<std::string> pointers;
  Result<Document> document =
      Parse(ReadFile(kExamples / "invalid" / "concern_report-missing-description.json"), &pointers);
  nlohmann::json json = DocumentErrorJson(DocumentError{document.status(), pointers});
  EXPECT_EQ(json["code"], "SCHEMA_INVALID");
  EXPECT_EQ(json["pointers"], nlohmann::json::array({"/body/description"}));
  EXPECT_EQ(
      DocumentErrorJson(DocumentError{Status(Code::kTooLarge, "big"), {}}).contains("pointers"),
      false);
}

}  // namespace
}  // namespace stafett::core
