// Agent integration: two agents with one endpoint's keys (regression test for issue 14 item 7).
// A second stafett-agent run for 4 s with flen.social's keys cut the real agent off: the broker
// kept delivering to the intruder's connection, dead once it exited, while the real agent's
// heartbeats were still answered, so it reported broker_connected and received nothing. Now the
// newest HELLO wins, the connection it replaces is told SESSION_REPLACED and reconnects after a
// backoff, each takeover is logged and counted, and once the intruder has gone the real agent
// is served again (docs/PROTOCOL.md, "Session").
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <sstream>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr char kIntruder[] = "flen.social.twin";  // a second agent with flen.social's keys

// The value of SERIES (a name with its labels as exported) scraped from HTTP's /metrics; NaN
// when it is absent or the scrape fails.
double Scraped(const std::string& http, const std::string& series) {
  HttpResponse response = HttpRequest(http, "GET", "/metrics", "", {}, 5000);
  if (response.status != 200) return std::numeric_limits<double>::quiet_NaN();
  std::istringstream lines(response.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::strtod(line.c_str() + series.size(), nullptr);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

nlohmann::json Health(const AgentInfo& agent) {
  HttpResponse response = HttpRequest(agent.http, "GET", "/healthz", "", {}, 2000);
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  return body.is_object() ? body : nlohmann::json::object();
}

// flen.social's row of `stafett status --format json`, or null.
nlohmann::json StatusRow(const AgentSandbox& sandbox) {
  std::string output;
  if (RunStafett({"status", "--config", sandbox.dir() + "/county/operator/operator.toml",
                  "--format", "json"},
                 &output) != 0) {
    return nullptr;
  }
  nlohmann::json rows = nlohmann::json::parse(output, nullptr, false);
  if (!rows.is_array()) return nullptr;
  for (const nlohmann::json& row : rows) {
    if (row.value("id", "") == kSocial) return row;
  }
  return nullptr;
}

TEST(SessionTakeoverTest, AnIntruderWithTheSameKeysIsSeenAndTheRealAgentIsServedAfterIt) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.AddTwin(kSocial, kIntruder));
  const std::string replaced_series = "stafett_sessions_replaced_total{endpoint=\"flen.social\"}";
  const std::string agent_series = "stafett_agent_sessions_replaced_total";

  ASSERT_EQ(sandbox.Post(kSchool, ConcernReport("takeover-before", kSocial)).status, 202);
  ASSERT_TRUE(WaitUntil([&] { return sandbox.InboxMessages(kSocial).size() == 1; }, seconds(30)))
      << sandbox.LogOf(kSocial);
  EXPECT_EQ(Scraped(sandbox.agent(kSocial).http, agent_series), 0);

  // The intruder says HELLO with flen.social's key; the real agent is told and takes the
  // session back after its backoff, and so on: both are told, in turn, and the broker counts
  // every takeover.
  ASSERT_TRUE(sandbox.StartAgent(kIntruder, /*wait_connected=*/false)) << sandbox.LogOf(kIntruder);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Scraped(sandbox.agent(kSocial).http, agent_series) >= 1 &&
               Scraped(sandbox.agent(kIntruder).http, agent_series) >= 1 &&
               Scraped(sandbox.broker_http(), replaced_series) >= 2;
      },
      seconds(30)))
      << "real agent " << Scraped(sandbox.agent(kSocial).http, agent_series) << ", intruder "
      << Scraped(sandbox.agent(kIntruder).http, agent_series) << ", broker "
      << Scraped(sandbox.broker_http(), replaced_series);
  nlohmann::json during = StatusRow(sandbox);
  ASSERT_TRUE(during.is_object());
  EXPECT_GE(during.value("sessions_replaced", 0), 2);
  EXPECT_NE(during["warnings"].dump().find("session taken over"), std::string::npos)
      << during.dump();

  // The intruder exits (whichever of the two held the session last). A message sent after
  // that reaches the real agent within its reconnect backoff and the heartbeat time.
  EXPECT_EQ(sandbox.StopAgent(kIntruder), 0);
  ASSERT_EQ(sandbox.Post(kSchool, ConcernReport("takeover-after", kSocial)).status, 202);
  EXPECT_TRUE(WaitUntil([&] { return sandbox.InboxMessages(kSocial).size() == 2; }, seconds(30)))
      << sandbox.LogOf("broker") << sandbox.LogOf(kSocial);
  EXPECT_TRUE(sandbox.WaitForStatus(kSchool, "takeover-after", "delivered", seconds(30)));
  EXPECT_TRUE(sandbox.InboxMessages(kIntruder).empty());

  // The real agent's /healthz and the broker's status agree: connected.
  EXPECT_TRUE(WaitUntil(
      [&] {
        nlohmann::json row = StatusRow(sandbox);
        return Health(sandbox.agent(kSocial)).value("broker_connected", false) && row.is_object() &&
               row.value("connected", false);
      },
      seconds(30)));
  EXPECT_GE(Health(sandbox.agent(kSocial)).value("sessions_replaced", 0), 1);

  // Visible in the logs, with nothing personal in them.
  std::string broker_log = sandbox.LogOf("broker");
  EXPECT_NE(broker_log.find("event=session_replaced endpoint=flen.social"), std::string::npos)
      << broker_log;
  EXPECT_NE(sandbox.LogOf(kSocial).find("event=session_replaced"), std::string::npos);
  EXPECT_NE(sandbox.LogOf(kIntruder).find("event=session_replaced"), std::string::npos);
  for (const std::string& log : {broker_log, sandbox.LogOf(kSocial), sandbox.LogOf(kIntruder)}) {
    EXPECT_EQ(log.find(kChildNumber), std::string::npos);
    EXPECT_EQ(log.find("19121212"), std::string::npos);
  }
}

// An agent that restarts (its old connection closed) takes its session at once and is not
// counted as a takeover: the alert is for two live connections, not for reconnects.
TEST(SessionTakeoverTest, ARestartedAgentIsNotCountedAsATakeover) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  EXPECT_EQ(sandbox.StopAgent(kSocial), 0);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  sandbox.KillAgent(kSocial);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  ASSERT_EQ(sandbox.Post(kSchool, ConcernReport("restart-after", kSocial)).status, 202);
  EXPECT_TRUE(sandbox.WaitForStatus(kSchool, "restart-after", "delivered", seconds(30)));
  EXPECT_EQ(
      Scraped(sandbox.broker_http(), "stafett_sessions_replaced_total{endpoint=\"flen.social\"}"),
      0);
  EXPECT_EQ(sandbox.LogOf("broker").find("event=session_replaced"), std::string::npos);
}

}  // namespace
}  // namespace stafett::testing
