// The `stafett` CLI as a process, against a county whose broker is not running (AgentSandbox
// creates the county; nothing listens on its broker port): every command that asks the broker
// says it is waiting and fails within its --timeout (5 s by default) with one error line, where
// it used to wait 30 s; and usage errors are one line naming what was wrong.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct CliRun {
  int status = -1;
  std::string output;
  double seconds = 0;
};

CliRun Stafett(const std::vector<std::string>& args) {
  CliRun run;
  Clock::time_point start = Clock::now();
  run.status = RunStafett(args, &run.output, 60000);
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

int CountLines(const std::string& text) {
  std::istringstream lines(text);
  int count = 0;
  for (std::string line; std::getline(lines, line);) count += line.empty() ? 0 : 1;
  return count;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sandbox_.ok()) << sandbox_.error(); }
  std::string Operator() const { return sandbox_.dir() + "/county/operator/operator.toml"; }
  std::string Auditor() const { return sandbox_.dir() + "/county/auditor/auditor.toml"; }

  AgentSandbox sandbox_;
};

// Regression: with the broker down, `status` waited 30 s in silence.
TEST_F(CliTest, BrokerDownFailsWithinTheTimeoutSayingItWaits) {
  const std::vector<std::vector<std::string>> commands = {
      {"status", "--config", Operator()},
      {"track", "m-1", "--config", Operator()},
      {"audit", "trail", "--config", Auditor(), "--endpoint", "flen.school"},
      {"audit", "verify", "--config", Auditor()},
      {"audit", "export", "--config", Auditor()},
      {"audit", "prove", "--config", Auditor(), "--seq", "0"},
  };
  for (std::vector<std::string> command : commands) {
    command.insert(command.end(), {"--timeout", "1"});
    CliRun run = Stafett(command);
    SCOPED_TRACE(command[0] + " " + command[1] + ": " + run.output);
    EXPECT_NE(run.status, 0);
    EXPECT_GE(run.seconds, 0.9);
    EXPECT_LT(run.seconds, 4.0);
    EXPECT_NE(run.output.find("waiting for the broker at tcp://127.0.0.1:"), std::string::npos);
    EXPECT_NE(run.output.find("(timeout 1 s)"), std::string::npos);
    EXPECT_NE(run.output.find("no answer from the broker"), std::string::npos);
    EXPECT_EQ(CountLines(run.output), 2);  // the waiting line and the error
  }
}

TEST_F(CliTest, TheDefaultTimeoutIsFiveSeconds) {
  CliRun run = Stafett({"status", "--config", Operator(), "--format", "json"});
  EXPECT_NE(run.status, 0) << run.output;
  EXPECT_GE(run.seconds, 4.9) << run.output;
  EXPECT_LT(run.seconds, 10.0) << run.output;
  EXPECT_NE(run.output.find("(timeout 5 s)"), std::string::npos) << run.output;
}

TEST_F(CliTest, ABadTimeoutIsAUsageError) {
  CliRun run = Stafett({"status", "--config", Operator(), "--timeout", "-3"});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_EQ(CountLines(run.output), 1) << run.output;
  EXPECT_NE(run.output.find("--timeout"), std::string::npos) << run.output;
}

// Regression: CLI11 said "A subcommand is required" for a word that names no subcommand.
TEST_F(CliTest, AnUnknownSubcommandIsNamed) {
  CliRun top = Stafett({"frobnicate"});
  EXPECT_EQ(top.status, 2);
  EXPECT_EQ(top.output, "stafett: unknown subcommand frobnicate (see --help)\n");
  CliRun nested = Stafett({"audit", "frobnicate", "--config", Auditor()});
  EXPECT_EQ(nested.status, 2);
  EXPECT_EQ(nested.output, "stafett audit: unknown subcommand frobnicate (see --help)\n");
  CliRun missing = Stafett({"keys"});  // no word at all: CLI11's own message stands
  EXPECT_EQ(missing.status, 2);
  EXPECT_EQ(CountLines(missing.output), 1) << missing.output;
}

// Regression: `audit trail --from yesterday` went to the broker (and waited for it) before the
// time was looked at; `audit export` asked the broker for the signed head first.
TEST_F(CliTest, ABadTimeIsRefusedBeforeTheBrokerIsAsked) {
  const std::vector<std::vector<std::string>> commands = {
      {"audit", "trail", "--config", Auditor(), "--endpoint", "flen.school", "--from", "yesterday"},
      {"audit", "trail", "--config", Auditor(), "--endpoint", "flen.school", "--to", "2026-13-01"},
      {"audit", "export", "--config", Auditor(), "--from", "yesterday"},
  };
  for (const std::vector<std::string>& command : commands) {
    CliRun run = Stafett(command);
    SCOPED_TRACE(command[1] + ": " + run.output);
    EXPECT_EQ(run.status, 2);
    EXPECT_LT(run.seconds, 0.5 + 2.0);  // never the broker timeout
    EXPECT_EQ(CountLines(run.output), 1);
    EXPECT_NE(run.output.find("RFC 3339"), std::string::npos);
    EXPECT_EQ(run.output.find("waiting for the broker"), std::string::npos);
  }
}

}  // namespace
}  // namespace stafett::testing
