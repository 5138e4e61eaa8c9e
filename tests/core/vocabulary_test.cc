// The domain's words are defined once in core and the schemas say the same: message types and
// consent purposes (core/rules.h against schemas/definitions.schema.json), receipt statuses
// (core/records/queue_entry.h against schemas/delivery_receipt.schema.json).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "stafett/core/records/queue_entry.h"
#include "stafett/core/rules.h"

namespace stafett::core {
namespace {

nlohmann::json Schema(const std::string& name) {
  std::ifstream in(std::filesystem::path(STAFETT_SOURCE_DIR) / "schemas" / name);
  EXPECT_TRUE(in) << name;
  return nlohmann::json::parse(in, nullptr, false);
}

std::set<std::string> Enum(const nlohmann::json& node) {
  std::set<std::string> values;
  for (const nlohmann::json& value : node.at("enum")) values.insert(value.get<std::string>());
  return values;
}

TEST(VocabularyTest, TheRulesCoverExactlyTheSchemasMessageTypes) {
  std::set<std::string> types;
  for (const MessageRule& rule : RulesTable()) types.insert(std::string(rule.type));
  nlohmann::json definitions = Schema("definitions.schema.json");
  EXPECT_EQ(types, Enum(definitions["definitions"]["message_type"]));
}

TEST(VocabularyTest, EveryPurposeTheRulesNeedIsASchemaPurposeAndEveryOneIsUsed) {
  std::set<std::string> needed;
  for (const MessageRule& rule : RulesTable()) {
    if (!rule.purpose.empty()) needed.insert(std::string(rule.purpose));
  }
  nlohmann::json definitions = Schema("definitions.schema.json");
  EXPECT_EQ(needed, Enum(definitions["definitions"]["purpose"]));
}

TEST(VocabularyTest, ReceiptStatusesAreTheReceiptSchemas) {
  std::set<std::string> names;
  for (ReceiptStatus status :
       {ReceiptStatus::kDelivered, ReceiptStatus::kWithheld, ReceiptStatus::kExpired}) {
    names.insert(std::string(ReceiptStatusName(status)));
    EXPECT_EQ(ReceiptStatusFromName(ReceiptStatusName(status)), status);
  }
  nlohmann::json receipt = Schema("delivery_receipt.schema.json");
  EXPECT_EQ(names, Enum(receipt["properties"]["status"]));
  EXPECT_FALSE(ReceiptStatusFromName("rejected").has_value());
}

}  // namespace
}  // namespace stafett::core
