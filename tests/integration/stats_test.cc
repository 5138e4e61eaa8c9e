// `stafett stats` end to end: real broker and agents on loopback; six concern reports and five
// feedbacks, then the auditor's CLI as a process. The counts are the ones sent, the small cell is
// suppressed, and neither the personnummer nor the child's pseudonym is in any output.
#include <gtest/gtest.h>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

TEST(StatsIntegrationTest, CountsFromTheVerifiedLogWithoutThePersonnummer) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  std::vector<std::string> reports = sandbox.PostConcernReports(kSchool, kSocial, "stats", 6);
  for (const std::string& id : reports) {
    ASSERT_TRUE(sandbox.WaitForStatus(kSchool, id, "delivered", seconds(30)));
  }
  for (int i = 0; i < 5; ++i) {
    std::string id = "feedback-" + std::to_string(i);
    nlohmann::json feedback = {
        {"message_id", id},
        {"type", "concern_feedback"},
        {"to", {kSchool}},
        {"subject", {{"personnummer", kChildNumber}}},
        {"body", {{"report_message_id", reports[i]}, {"outcome", "investigation_opened"}}}};
    ASSERT_EQ(sandbox.Post(kSocial, feedback).status, 202);
    ASSERT_TRUE(sandbox.WaitForStatus(kSocial, id, "delivered", seconds(30)));
  }
  std::string auditor = sandbox.dir() + "/county/auditor/auditor.toml";
  std::string output;
  nlohmann::json stats;
  // The broker signs a head within seconds of growth; poll until one covers all eleven.
  auto handoffs = [&](const nlohmann::json& row) { return row["counts"]["handoffs"]["count"]; };
  ASSERT_TRUE(WaitUntil(
      [&] {
        if (RunStafett(
                {"stats", "--config", auditor, "--by", "type,municipality", "--format", "json"},
                &output) != 0) {
          return false;
        }
        stats = nlohmann::json::parse(output, nullptr, false);
        return stats.is_object() && handoffs(stats["rows"].back()) == 11;
      },
      seconds(30)))
      << output;
  std::map<std::string, nlohmann::json> by_type;
  for (const nlohmann::json& row : stats["rows"]) by_type[row["key"].value("type", "")] = row;
  ASSERT_TRUE(by_type.count("concern_report")) << output;
  EXPECT_EQ(by_type["concern_report"]["key"]["municipality"], "flen");
  EXPECT_EQ(handoffs(by_type["concern_report"]), 6);
  EXPECT_EQ(handoffs(by_type["concern_feedback"]), 5);
  EXPECT_EQ(by_type["concern_report"]["counts"]["concern_feedback_n"]["count"], 5) << output;
  EXPECT_TRUE(by_type["concern_report"]["concern_feedback"]["median_seconds"].is_number());

  // The child's pseudonym, to check it is in no output.
  ASSERT_EQ(
      RunStafett({"audit", "trail", "--config", auditor, "--subject-pnr", kChildNumber}, &output),
      0)
      << output;
  std::string pseudonym =
      nlohmann::json::parse(output.substr(0, output.find('\n')))["subject"].get<std::string>();
  ASSERT_FALSE(pseudonym.empty());
  for (const char* format : {"table", "csv", "json"}) {
    ASSERT_EQ(RunStafett({"stats", "--config", auditor, "--by", "month,municipality,type,route",
                          "--min-cell", "6", "--format", format},
                         &output),
              0)
        << output;
    EXPECT_NE(output.find("school->social"), std::string::npos) << output;
    // The five feedbacks: "<6", in json a null count marked suppressed.
    EXPECT_NE(output.find(std::string(format) == "json" ? "\"suppressed\": true" : "<6"),
              std::string::npos)
        << output;
    EXPECT_EQ(output.find(pseudonym), std::string::npos) << output;
    for (const char* number : {"19121212-1212", "191212121212", "121212-1212", "1212121212"}) {
      EXPECT_EQ(output.find(number), std::string::npos) << output;
    }
  }
  EXPECT_NE(RunStafett({"stats", "--config", auditor, "--by", "child"}, &output), 0);
  EXPECT_NE(output.find("--by"), std::string::npos) << output;
}

}  // namespace
}  // namespace stafett::testing
