// Agent retention, end to end (docs/PRIVACY.md, "At the agents"): `stafett-agent purge --before`
// with the agent stopped (it opens the journal itself) and while it runs (through the agent's
// API), on real processes — finished messages and their files go, a message still waiting for
// its receipt and the received ids the broker could still deliver again stay.
#include <gtest/gtest.h>

#include "integration/support/agent_sandbox.h"
#include "stafett/core/clock.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr int64_t kDayMicros = 86400LL * 1'000'000;

class AgentRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  }
  // Runs the purge command for agent ID; its exit status, ANSWER the JSON it printed.
  int Purge(const std::string& id, const std::string& before, nlohmann::json* answer) {
    std::string output;
    int status =
        RunProgram(std::string(STAFETT_BIN_DIR) + "/agents/stafett-agent",
                   {"--config", sandbox_.agent(id).config, "purge", "--before", before}, &output);
    *answer = nlohmann::json();
    size_t start = 0;
    while (start < output.size()) {
      size_t end = output.find('\n', start);
      if (end == std::string::npos) end = output.size();
      std::string line = output.substr(start, end - start);
      if (line.starts_with("{\"")) *answer = nlohmann::json::parse(line, nullptr, false);
      start = end + 1;
    }
    last_output_ = output;
    return status;
  }
  static std::string Tomorrow() {
    return core::FormatRfc3339(core::SystemClock::Instance().Now() + kDayMicros);
  }

  AgentSandbox sandbox_;
  std::string last_output_;
};

TEST_F(AgentRetentionTest, PurgeRemovesWhatIsFinishedWithTheAgentStoppedAndRunning) {
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  const AgentInfo& school = sandbox_.agent(kSchool);
  ASSERT_TRUE(sandbox_.Drop(kSchool, "report.json", ConcernReport("cr-ret-1", kSocial).dump()));
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "cr-ret-1", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool);
  ASSERT_TRUE(sandbox_.Drop(kSchool, "bad.json", "{}"));
  ASSERT_TRUE(
      WaitUntil([&] { return ListNames(school.outbox + "/rejected").size() == 2; }, seconds(30)));
  ASSERT_TRUE(
      WaitUntil([&] { return ListNames(school.outbox + "/sent").size() == 1; }, seconds(30)));
  // A message waiting for its receipt: the recipient is offline.
  ASSERT_EQ(sandbox_.StopAgent(kSocial), 0);
  ASSERT_EQ(sandbox_.Post(kSchool, ConcernReport("cr-ret-wait", kSocial)).status, 202);
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "cr-ret-wait", "accepted", seconds(30)));

  // The agent stopped: the command opens the journal itself.
  ASSERT_EQ(sandbox_.StopAgent(kSchool), 0);
  nlohmann::json answer;
  ASSERT_EQ(Purge(kSchool, Tomorrow(), &answer), 0) << last_output_;
  EXPECT_EQ(answer.value("via", ""), "journal") << answer;
  EXPECT_EQ(answer.value("outgoing_record", -1), 1) << answer;
  EXPECT_EQ(answer.value("sent_file", -1), 1) << answer;
  EXPECT_EQ(answer.value("rejected_file", -1), 2) << answer;  // the file and its error file
  EXPECT_EQ(answer.value("inbox_file", -1), 0) << answer;
  EXPECT_TRUE(ListNames(school.outbox + "/sent").empty());
  EXPECT_TRUE(ListNames(school.outbox + "/rejected").empty());

  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  EXPECT_EQ(sandbox_.Status(kSchool, "cr-ret-1"), "");  // 404: removed
  EXPECT_EQ(sandbox_.Status(kSchool, "cr-ret-wait"), "accepted");
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "cr-ret-wait", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool);

  // Running: the data_dir is locked, so the command goes through the agent's API.
  ASSERT_EQ(Purge(kSchool, Tomorrow(), &answer), 0) << last_output_;
  EXPECT_EQ(answer.value("via", ""), "agent_api") << answer;
  EXPECT_EQ(answer.value("outgoing_record", -1), 1) << answer;
  EXPECT_EQ(sandbox_.Status(kSchool, "cr-ret-wait"), "");
  HttpResponse metrics = HttpRequest(school.http, "GET", "/metrics", "", {}, 5000);
  EXPECT_NE(metrics.body.find("stafett_agent_retention_removed_total{what=\"outgoing_record\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(sandbox_.LogOf(kSchool).find("event=purge"), std::string::npos);

  // The recipient: its received ids stay while the broker could deliver them again (they
  // expire in a week), and so do its inbox files (the local system's unless opted in).
  ASSERT_EQ(Purge(kSocial, Tomorrow(), &answer), 0) << last_output_;
  EXPECT_EQ(answer.value("via", ""), "agent_api") << answer;
  EXPECT_EQ(answer.value("received_record", -1), 0) << answer;
  EXPECT_EQ(sandbox_.InboxMessages(kSocial),
            (std::vector<std::string>{"cr-ret-1.json", "cr-ret-wait.json"}));

  EXPECT_EQ(Purge(kSchool, "last week", &answer), 2) << last_output_;
  // Nothing of the child in the logs.
  EXPECT_EQ(sandbox_.LogOf(kSchool).find("1212"), std::string::npos);
}

}  // namespace
}  // namespace stafett::testing
