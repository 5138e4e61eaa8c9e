// Tests for the embedded schemas and SchemaValidator: every schema loads and matches its file,
// pointers and rules are reported, values are never echoed, odd inputs never throw, and
// validation is safe from many threads. Thread-safety: n/a (test).
#include "stafett/core/schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "stafett/schemas/schemas.h"

namespace stafett::core {
namespace {

const std::filesystem::path kSchemaDir = std::filesystem::path(STAFETT_SOURCE_DIR) / "schemas";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json Example(const std::string& name) {
  return nlohmann::json::parse(ReadFile(kSchemaDir / "examples" / "valid" / (name + ".json")));
}

std::vector<std::string> Pointers(std::string_view schema, const nlohmann::json& document,
                                  Status* status = nullptr) {
  std::vector<std::string> pointers;
  Status result = SchemaValidator::Default().Validate(schema, document, &pointers);
  if (status != nullptr) *status = result;
  return pointers;
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Every string value in DOCUMENT of at least four characters, except enum tokens such as
// "child" (lowercase words), which are schema vocabulary and may appear in pointers.
void CollectStrings(const nlohmann::json& document, std::vector<std::string>* strings) {
  if (document.is_string() && document.get<std::string>().size() >= 4 &&
      document.get<std::string>().find_first_not_of("abcdefghijklmnopqrstuvwxyz_") !=
          std::string::npos) {
    strings->push_back(document.get<std::string>());
  }
  if (document.is_structured()) {
    for (const nlohmann::json& child : document) CollectStrings(child, strings);
  }
}

void ExpectNoValuesIn(const std::string& message, const nlohmann::json& document) {
  std::vector<std::string> strings;
  CollectStrings(document, &strings);
  for (const std::string& value : strings) {
    EXPECT_EQ(message.find(value), std::string::npos) << "value echoed: " << message;
  }
}

TEST(EmbeddedSchemasTest, EverySchemaFileIsEmbeddedVerbatim) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSchemaDir)) {
    std::string file = entry.path().filename().string();
    if (!file.ends_with(".schema.json")) continue;
    ++files;
    std::string name = file.substr(0, file.size() - std::string(".schema.json").size());
    EXPECT_EQ(schemas::Find(name), ReadFile(entry.path())) << name;
    EXPECT_EQ(schemas::Find(file), schemas::Find(name)) << file;
  }
  EXPECT_EQ(schemas::Names().size(), files);
  EXPECT_TRUE(std::is_sorted(schemas::Names().begin(), schemas::Names().end()));
  EXPECT_TRUE(schemas::Find("no_such_schema").empty());
  EXPECT_TRUE(schemas::Find("").empty());
}

TEST(EmbeddedSchemasTest, EachSchemaIsDraft7WithAVersionedId) {
  for (std::string_view name : schemas::Names()) {
    nlohmann::json schema = nlohmann::json::parse(schemas::Find(name), nullptr, false);
    ASSERT_TRUE(schema.is_object()) << name;
    EXPECT_EQ(schema.value("$schema", ""), "http://json-schema.org/draft-07/schema#") << name;
    EXPECT_EQ(schema.value("$id", ""),
              "https://stafett.example/schemas/v1/" + std::string(name) + ".json");
    if (name != "definitions") {
      EXPECT_EQ(schema.value("additionalProperties", true), false) << name;
    }
  }
}

// The validator tries a '^'-anchored pattern at the start of the string only; every pattern is
// anchored at both ends so that this is exact and fast.
TEST(EmbeddedSchemasTest, EveryPatternIsAnchored) {
  size_t patterns = 0;
  for (std::string_view name : schemas::Names()) {
    nlohmann::json flat = nlohmann::json::parse(schemas::Find(name)).flatten();
    for (const auto& [path, value] : flat.items()) {
      if (!path.ends_with("/pattern") || path.ends_with("/properties/pattern")) continue;
      ++patterns;
      std::string pattern = value.get<std::string>();
      EXPECT_TRUE(pattern.starts_with("^") && pattern.ends_with("$")) << name << path;
    }
  }
  EXPECT_GT(patterns, 5u);
}

TEST(SchemaValidatorTest, LoadsEverySchema) {
  const SchemaValidator& validator = SchemaValidator::Default();
  ASSERT_TRUE(validator.load_status().ok()) << validator.load_status().ToString();
  for (const char* name :
       {"document", "inbox_document", "delivery_receipt", "concern_report", "concern_feedback",
        "support_request", "assessment_referral", "sip_invitation", "information_request",
        "information_response", "referral_status", "consent_granted", "consent_revoked"}) {
    EXPECT_TRUE(validator.Has(name)) << name;
  }
  EXPECT_FALSE(validator.Has("definitions"));
  EXPECT_EQ(validator.Names().size(), 13u);
}

TEST(SchemaValidatorTest, UnknownSchemaIsAnInternalError) {
  Status status = SchemaValidator::Default().Validate("gossip", nlohmann::json::object(), nullptr);
  EXPECT_EQ(status.code(), Code::kInternal);
}

TEST(SchemaValidatorTest, AcceptsAValidDocumentAndItsBody) {
  nlohmann::json document = Example("support_request-bridge-school-refusal");
  EXPECT_TRUE(SchemaValidator::Default().Validate("document", document, nullptr).ok());
  EXPECT_TRUE(
      SchemaValidator::Default().Validate("support_request", document["body"], nullptr).ok());
}

TEST(SchemaValidatorTest, NamesTheMissingPropertyAtItsOwnPointer) {
  nlohmann::json document = Example("support_request-minimal");
  document["body"].erase("reason");
  document.erase("to");
  Status status;
  std::vector<std::string> pointers = Pointers("document", document, &status);
  EXPECT_EQ(status.code(), Code::kSchemaInvalid);
  EXPECT_TRUE(Contains(pointers, "/body/reason")) << status.message();
  EXPECT_TRUE(Contains(pointers, "/to")) << status.message();
  EXPECT_NE(status.message().find("/body/reason: required"), std::string::npos) << status.message();
}

TEST(SchemaValidatorTest, UnknownPropertyIsReportedAtItsParentWithoutItsName) {
  nlohmann::json document = Example("concern_feedback-investigation-opened");
  document["body"]["Anna Svensson 20140523-2388"] = "extra";
  Status status;
  std::vector<std::string> pointers = Pointers("document", document, &status);
  EXPECT_EQ(pointers, std::vector<std::string>{"/body"}) << status.message();
  EXPECT_NE(status.message().find("additionalProperties"), std::string::npos);
  EXPECT_EQ(status.message().find("Anna"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("2388"), std::string::npos) << status.message();
}

TEST(SchemaValidatorTest, ReportsRulesForArraysAndEnums) {
  nlohmann::json document = Example("consent_granted-joint-custody");
  document["body"]["parties"] = {"flen.school", "flen.school"};
  document["body"]["purposes"] = {"support", "marketing"};
  document["body"]["given_by"] = nlohmann::json::array();
  Status status;
  std::vector<std::string> pointers = Pointers("document", document, &status);
  EXPECT_TRUE(Contains(pointers, "/body/parties")) << status.message();
  EXPECT_TRUE(Contains(pointers, "/body/purposes/1")) << status.message();
  EXPECT_TRUE(Contains(pointers, "/body/given_by")) << status.message();
  EXPECT_NE(status.message().find("uniqueItems"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("enum"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("minItems"), std::string::npos) << status.message();
  ExpectNoValuesIn(status.message(), document);
}

TEST(SchemaValidatorTest, ChecksDateTimesWithRfc3339) {
  nlohmann::json document = Example("consent_granted-youth-alone");
  for (const char* bad : {"2026-02-30T00:00:00Z", "12026-01-01T00:00:00Z", "2026-03-01",
                          "2026-03-01T08:00:00", "2026-03-01T08:00:00+0100", "tomorrow"}) {
    document["body"]["valid_from"] = bad;
    Status status;
    EXPECT_EQ(Pointers("document", document, &status), std::vector<std::string>{"/body/valid_from"})
        << bad << ": " << status.message();
    EXPECT_NE(status.message().find("format date-time"), std::string::npos) << status.message();
  }
  for (const char* good : {"2026-03-01T08:00:00Z", "2026-03-01T09:00:00.5+01:00",
                           "2026-03-01t08:00:00z", "2028-02-29T00:00:00Z"}) {
    document["body"]["valid_from"] = good;
    EXPECT_TRUE(Pointers("document", document).empty()) << good;
  }
}

TEST(SchemaValidatorTest, ADateTimeOfTheWrongTypeIsATypeErrorNotACrash) {
  nlohmann::json document = Example("consent_granted-youth-alone");
  document["body"]["valid_from"] = 1772352000;
  document["body"]["valid_until"] = nlohmann::json::array({1, 2});
  Status status;
  std::vector<std::string> pointers = Pointers("document", document, &status);
  EXPECT_TRUE(Contains(pointers, "/body/valid_from")) << status.message();
  EXPECT_TRUE(Contains(pointers, "/body/valid_until")) << status.message();
  EXPECT_NE(status.message().find("type"), std::string::npos) << status.message();
}

TEST(SchemaValidatorTest, InterpreterNeedNamesTheLanguage) {
  nlohmann::json body = Example("support_request-minimal")["body"];
  body["interpreter"] = {{"needed", true}};
  EXPECT_EQ(Pointers("support_request", body), std::vector<std::string>{"/interpreter/language"});
  body["interpreter"] = {{"needed", false}};
  EXPECT_TRUE(Pointers("support_request", body).empty());
}

TEST(SchemaValidatorTest, LimitsTextLength) {
  nlohmann::json body = Example("support_request-minimal")["body"];
  body["reason"] = std::string(100000, 'a');
  EXPECT_TRUE(Pointers("support_request", body).empty());
  body["reason"] = std::string(100001, 'a');
  Status status;
  EXPECT_EQ(Pointers("support_request", body, &status), std::vector<std::string>{"/reason"});
  EXPECT_NE(status.message().find("maxLength"), std::string::npos) << status.message();
  body["reason"] = "\u00e5\u00e4\u00f6" + std::string(99997, 'x');  // counted in characters
  EXPECT_TRUE(Pointers("support_request", body).empty());
}

TEST(SchemaValidatorTest, HugeIdentifiersFailQuickly) {
  nlohmann::json document = Example("support_request-minimal");
  document["message_id"] = std::string(4 << 20, 'a');
  document["to"] = {std::string(2 << 20, 'b') + ".social"};
  auto start = std::chrono::steady_clock::now();
  Status status;
  std::vector<std::string> pointers = Pointers("document", document, &status);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(Contains(pointers, "/message_id")) << status.message();
  EXPECT_TRUE(Contains(pointers, "/to/0")) << status.message();
  EXPECT_LT(seconds, 2.0);  // generous: sanitizer builds are slow; it takes milliseconds
}

TEST(SchemaValidatorTest, WrongTypesAnywhereNeverThrowOrEchoValues) {
  const nlohmann::json replacements[] = {nullptr,
                                         true,
                                         7,
                                         -1.5,
                                         "",
                                         "x",
                                         nlohmann::json::array(),
                                         nlohmann::json::object(),
                                         nlohmann::json::array({1})};
  for (const char* name : {"sip_invitation-three-parties", "consent_granted-joint-custody",
                           "support_request-bridge-school-refusal"}) {
    nlohmann::json original = Example(name);
    nlohmann::json flat = original.flatten();
    for (const auto& [path, leaf] : flat.items()) {
      // Every leaf and every parent of a leaf.
      for (nlohmann::json::json_pointer pointer(path); !pointer.empty();
           pointer = pointer.parent_pointer()) {
        for (const nlohmann::json& replacement : replacements) {
          nlohmann::json document = original;
          document[pointer] = replacement;
          Status status;
          EXPECT_NO_THROW(Pointers("document", document, &status)) << pointer.to_string();
          EXPECT_TRUE(status.ok() || status.code() == Code::kSchemaInvalid) << status.ToString();
          ExpectNoValuesIn(status.message(), original);
        }
      }
    }
  }
}

TEST(SchemaValidatorTest, IsSafeFromManyThreads) {
  nlohmann::json good = Example("sip_invitation-three-parties");
  nlohmann::json bad = good;
  bad["body"]["meeting"]["proposed_times"][0] = "2026-13-01T00:00:00Z";
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        std::vector<std::string> pointers;
        if (!SchemaValidator::Default().Validate("document", good, nullptr).ok()) ++failures;
        Status status = SchemaValidator::Default().Validate("document", bad, &pointers);
        if (pointers != std::vector<std::string>{"/body/meeting/proposed_times/0"}) ++failures;
        if (status.ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace stafett::core
