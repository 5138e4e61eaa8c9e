// Storage faults under a real broker process: fsync failures (a lost write-back) and writes
// failing with ENOSPC, injected into the broker's own RocksDB files by an LD_PRELOAD shim
// (tests/fault_io/fail_io.c) while agents hand messages over. What must hold: nothing the disk
// did not take is acknowledged to a sender; once the disk behaves again every message the
// agents were given arrives exactly once, and the audit log verifies.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "integration/support/agent_sandbox.h"
#include "integration/support/fail_io_env.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

class StorageFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    control_ = sandbox_.dir() + "/fail_io.control";
    data_ = sandbox_.dir() + "/county/broker/data";
    ASSERT_TRUE(std::filesystem::is_directory(data_)) << data_;
    ASSERT_TRUE(StartBroker()) << sandbox_.LogOf("broker");
    ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
    ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  }

  // The broker, with the shim preloaded; only the broker: the agents' storage is not under test.
  bool StartBroker() {
    stafett::testing::FailIoEnvironment fail_io(control_, data_ + "/");
    return sandbox_.StartBroker();
  }

  void Inject(const std::string& fault) { ASSERT_TRUE(WriteFileByRename(control_, fault)); }
  void Heal() { std::filesystem::remove(control_); }
  // How many calls the shim has failed so far.
  size_t Failures() {
    std::string text;
    return ReadWholeFile(control_ + ".count", &text) ? text.size() : 0;
  }

  void ExpectNotAcknowledged(const std::string& message_id) {
    HttpResponse response = sandbox_.Post(kSchool, ConcernReport(message_id, kSocial));
    // Either the broker's refusal came back in time (503, retry later) or the agent kept the
    // message pending; never an acceptance the disk did not make durable.
    EXPECT_TRUE(response.status == 503 || response.status == 202) << response.body;
    EXPECT_EQ(response.body.find("\"accepted\""), std::string::npos) << response.body;
    EXPECT_NE(sandbox_.Status(kSchool, message_id), "accepted");
    EXPECT_NE(sandbox_.Status(kSchool, message_id), "delivered");
  }

  void RunFault(const std::string& fault) {
    HttpResponse before = sandbox_.Post(kSchool, ConcernReport("before", kSocial));
    ASSERT_EQ(before.status, 202) << before.body;
    EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "before", "delivered", seconds(30)));

    Inject(fault);
    for (int i = 0; i < 3; ++i) ExpectNotAcknowledged("during-" + std::to_string(i));
    EXPECT_GT(Failures(), 0u) << "the fault was never hit\n" << sandbox_.LogOf("broker");
    for (int i = 0; i < 3; ++i) {
      EXPECT_FALSE(sandbox_.WaitForStatus(kSchool, "during-" + std::to_string(i), "accepted",
                                          std::chrono::milliseconds(0)));
    }
    std::vector<std::string> inbox = sandbox_.InboxMessages(kSocial);
    EXPECT_EQ(inbox, std::vector<std::string>{"before.json"});

    if (fault == "fsync") {
      // A failed fsync cannot be resumed from: the broker stops rather than go on from a state
      // the disk may not hold (the supervisor restarts it; here, the test does).
      EXPECT_TRUE(WaitUntil([&] { return !sandbox_.BrokerRunning(); }, seconds(30)))
          << sandbox_.LogOf("broker");
      EXPECT_NE(sandbox_.LogOf("broker").find("event=storage_failed"), std::string::npos);
    }
    Heal();
    if (!sandbox_.BrokerRunning()) {
      sandbox_.StopBroker();  // reaps it
      ASSERT_TRUE(StartBroker()) << sandbox_.LogOf("broker");
    }
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(
          sandbox_.WaitForStatus(kSchool, "during-" + std::to_string(i), "delivered", seconds(90)))
          << "during-" << i << " is " << sandbox_.Status(kSchool, "during-" + std::to_string(i))
          << "\n"
          << sandbox_.LogOf("broker");
    }
    HttpResponse after = sandbox_.Post(kSchool, ConcernReport("after", kSocial));
    EXPECT_EQ(after.status, 202) << after.body;
    EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "after", "delivered", seconds(30)));
    EXPECT_EQ(sandbox_.InboxMessages(kSocial),
              (std::vector<std::string>{"after.json", "before.json", "during-0.json",
                                        "during-1.json", "during-2.json"}));
  }

  AgentSandbox sandbox_;
  std::string control_, data_;
};

TEST_F(StorageFaultTest, FailedFsyncsAreNeverAcknowledgedAndTheBrokerRecovers) {
  RunFault("fsync");
}

TEST_F(StorageFaultTest, WritesFailingWithNoSpaceAreNeverAcknowledgedAndTheBrokerRecovers) {
  RunFault("enospc");
}

}  // namespace
}  // namespace stafett::testing
