// Agent integration: never lose, never duplicate — the sending agent is killed with SIGKILL
// while 300 dropped files are in flight, restarted, and every file arrives exactly once.
#include <gtest/gtest.h>

#include <set>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr int kMessages = 300;

TEST(AgentResilienceTest, SenderKilledMidFlightDeliversEachFileExactlyOnce) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  const AgentInfo& school = sandbox.agent(kSchool);
  // No message ids: the agent assigns them, keyed by file name and content, before sending.
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(sandbox.Drop(kSchool, "m" + std::to_string(i) + ".json",
                             ConcernReport("", kSocial, "case " + std::to_string(i)).dump()));
  }
  // Kill while some are sent and others are not.
  EXPECT_TRUE(
      WaitUntil([&] { return ListNames(school.outbox + "/sent").size() >= 20; }, seconds(60)));
  sandbox.KillAgent(kSchool);
  size_t sent_at_kill = ListNames(school.outbox + "/sent").size();
  EXPECT_LT(sent_at_kill, static_cast<size_t>(kMessages));  // really killed mid-flight
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  EXPECT_TRUE(WaitUntil([&] { return ListNames(school.outbox + "/sent").size() == kMessages; },
                        seconds(120)))
      << "sent at kill " << sent_at_kill << ", now " << ListNames(school.outbox + "/sent").size();
  EXPECT_TRUE(
      WaitUntil([&] { return sandbox.InboxMessages(kSocial).size() >= kMessages; }, seconds(120)));
  // Every input exactly once, and nothing left behind.
  std::vector<std::string> inbox = sandbox.InboxMessages(kSocial);
  EXPECT_EQ(inbox.size(), static_cast<size_t>(kMessages));
  std::set<std::string> cases;
  for (const std::string& name : inbox) {
    std::string text;
    ASSERT_TRUE(ReadWholeFile(sandbox.agent(kSocial).inbox + "/" + name, &text));
    cases.insert(nlohmann::json::parse(text)["body"]["description"].get<std::string>());
  }
  EXPECT_EQ(cases.size(), static_cast<size_t>(kMessages));
  std::vector<std::string> left;
  for (const std::string& name : ListNames(school.outbox)) {
    if (name.ends_with(".json")) left.push_back(name);
  }
  EXPECT_TRUE(left.empty());
  EXPECT_TRUE(ListNames(school.outbox + "/rejected").empty());
}

}  // namespace
}  // namespace stafett::testing
