// Broker health for operators (issue 20): a commit the store refuses is counted by its code in
// the status answer and in stafett_storage_commit_errors_total — against an in-process broker
// over RocksDB on a filesystem whose power is cut (every later write and sync fails).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "stafett/store/fault_injection_file_system.h"
#include "support/harness.h"

namespace stafett::broker::testing {
namespace {

using core::protocol::Command;

TEST(BrokerHealthTest, AFailedCommitIsCountedByItsCode) {
  TempDir dir;
  County county(dir.path() / "county");
  core::ManualClock clock(core::SystemClock::Instance().Now());
  auto file_system = std::make_shared<store::FaultInjectionFileSystem>();
  core::Result<std::unique_ptr<store::BrokerStore>> opened =
      store::OpenFaultInjectingBrokerStore(dir.path() / "db", file_system);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  BrokerConfig config = TestBrokerConfig(county, dir.path() / "db", 64);
  BrokerProcess broker(config, &clock, std::move(opened).value(), /*storage_may_fail=*/true);
  TestClient school(broker.endpoint(), county.Get("flen.school").keys, county.Get("broker").keys);
  school.Hello();
  MessageSpec spec;
  spec.message_id = "before-the-cut";
  spec.type = "concern_report";
  spec.from = "flen.school";
  spec.to = {"flen.social"};
  ASSERT_EQ(school.Publish(Seal(county, spec, clock.Now()))["command"], "ACCEPTED");
  EXPECT_NE(broker.broker().metrics().Render().find(
                "stafett_storage_commit_errors_total{code=\"IO_ERROR\"} 0\n"),
            std::string::npos);

  // The disk fails: the next commit's write or sync is refused, the publisher is not told
  // ACCEPTED, and the broker stops for a restart — having counted the error.
  file_system->CutPower();
  spec.message_id = "after-the-cut";
  nlohmann::json answer = school.Publish(Seal(county, spec, clock.Now()));
  EXPECT_EQ(answer["command"], "REFUSED") << answer.dump();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!broker.returned() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a flag, no event
  }
  ASSERT_TRUE(broker.returned()) << "the broker kept running on a failed store";
  std::string metrics = broker.broker().metrics().Render();
  EXPECT_NE(metrics.find("stafett_storage_commit_errors_total{code=\"IO_ERROR\"} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("stafett_storage_commit_errors_total{code=\"STORAGE_FULL\"} 0\n"),
            std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace stafett::broker::testing
