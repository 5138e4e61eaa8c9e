// Crash test: the real stafett-broker process is killed with SIGKILL again and again while
// thousands of messages flow, and restarted each time. Every message acknowledged to the
// sender must reach the recipient, and the recipient (deduplicating by message id, as agents
// do) sees each exactly once; nothing it receives was never published.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "support/child_process.h"
#include "support/harness.h"

namespace stafett::broker::testing {
namespace {

using core::protocol::Command;
using namespace std::chrono_literals;

constexpr int kMessages = 2000;
constexpr int kKills = 6;
constexpr size_t kWindow = 128;

std::string WriteConfig(const County& county, const std::filesystem::path& dir, int port) {
  std::filesystem::path file = dir / "broker.toml";
  std::ofstream out(file);
  out << "[broker]\nzmq_bind = \"tcp://127.0.0.1:" << port << "\"\nhttp_bind = \"\"\n"
      << "data_dir = \"" << (dir / "data").string() << "\"\n"
      << "keys_dir = \"" << county.keys_dir("broker").string() << "\"\n"
      << "trust_directory = \"" << county.directory_file().string() << "\"\n"
      << "min_free_bytes = 0\n[delivery]\nredeliver_after_seconds = 2\n";
  return file.string();
}

int PortOf(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

struct Ledger {
  std::mutex mutex;
  std::set<std::string> accepted;   // acknowledged to the sender
  std::set<std::string> delivered;  // distinct ids the recipient took
  uint64_t deliveries = 0;          // DELIVER frames, duplicates included
  std::set<std::string> published;
};

TEST(BrokerCrashTest, EveryAcknowledgedMessageArrivesExactlyOnceAcrossKills) {
  TempDir dir;
  County county(dir.path() / "county");
  core::ManualClock unused(0);
  std::string endpoint;
  {
    // Borrow the harness's free-port logic by starting and stopping an in-process broker.
    BrokerProcess probe(county, dir.path() / "probe", &unused);
    endpoint = probe.endpoint();
  }
  std::string config = WriteConfig(county, dir.path(), PortOf(endpoint));
  std::string binary = std::string(STAFETT_BIN_DIR) + "/broker/stafett-broker";
  std::string log = (dir.path() / "broker.log").string();
  stafett::testing::ChildProcess broker;
  ASSERT_TRUE(broker.Start(binary, {"--config", config}, log));

  const core::Micros now = core::SystemClock::Instance().Now();
  std::vector<core::Envelope> envelopes;
  Ledger ledger;
  for (int i = 0; i < kMessages; ++i) {
    MessageSpec spec;
    spec.message_id = "crash-" + std::to_string(i);
    spec.type = "concern_report";
    spec.from = "flen.school";
    spec.to = {"flen.social"};
    envelopes.push_back(Seal(county, spec, now));
    ledger.published.insert(spec.message_id);
  }

  std::atomic<bool> done{false};
  std::thread receiver([&] {
    TestClient social(endpoint, county.Get("flen.social").keys, county.Get("broker").keys);
    social.SendCommand(Command::kHello, {"{\"credit\": 256}"});
    while (!done) {
      std::optional<core::protocol::Message> message = social.Receive(500ms);
      if (!message) {
        // Silence: the broker may have restarted; a new hello resumes the session.
        social.SendCommand(Command::kHello, {"{\"credit\": 256}"});
        continue;
      }
      if (message->command != Command::kDeliver) continue;
      core::Result<core::Header> header = core::ParseHeader(message->arguments[1]);
      ASSERT_TRUE(header.ok());
      {
        std::lock_guard lock(ledger.mutex);
        ++ledger.deliveries;
        ledger.delivered.insert(header->message_id);
      }
      social.AcknowledgeDelivery(*message, county.Get("flen.social").keys, "flen.social");
    }
  });
  std::thread sender([&] {
    TestClient school(endpoint, county.Get("flen.school").keys, county.Get("broker").keys);
    school.SendCommand(Command::kHello, {"{}"});
    size_t next = 0;
    std::map<std::string, std::chrono::steady_clock::time_point> in_flight;
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < envelopes.size(); ++i) index["crash-" + std::to_string(i)] = i;
    auto publish = [&](size_t i) {
      const core::Envelope& envelope = envelopes[i];
      school.SendCommand(Command::kPublish,
                         {envelope.header_bytes, envelope.signature, envelope.payload});
      in_flight["crash-" + std::to_string(i)] = std::chrono::steady_clock::now();
    };
    while (!done) {
      while (next < envelopes.size() && in_flight.size() < kWindow) publish(next++);
      std::optional<core::protocol::Message> message = school.Receive(200ms);
      auto stale = std::chrono::steady_clock::now() - 1500ms;
      for (auto& [id, sent_at] : in_flight) {
        // No answer: the broker died with it. Publish the same envelope again.
        if (sent_at < stale) publish(index[id]);
      }
      if (!message) continue;
      std::string id = message->object.value("message_id", "");
      if (message->command == Command::kAccepted) {
        std::lock_guard lock(ledger.mutex);
        ledger.accepted.insert(id);
        in_flight.erase(id);
      } else if (message->command == Command::kRefused) {
        std::string code = message->object.value("code", "");
        ASSERT_TRUE(code == "STORAGE_FULL" || code == "UNAVAILABLE") << code;
      } else if (message->command == Command::kReceipt) {
        school.SendCommand(Command::kAck,
                           {nlohmann::json({{"delivery", message->object["delivery"]}}).dump()});
      }
    }
  });

  std::mt19937 random(20261123);  // fixed seed: the same kill schedule every run
  int kills = 0;
  for (; kills < kKills; ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 700));
    broker.Kill();
    ASSERT_TRUE(broker.Start(binary, {"--config", config}, log));
  }
  auto deadline = std::chrono::steady_clock::now() + 180s;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(ledger.mutex);
      if (ledger.accepted.size() == static_cast<size_t>(kMessages) &&
          ledger.delivered.size() == static_cast<size_t>(kMessages)) {
        break;
      }
    }
    std::this_thread::sleep_for(50ms);  // polling the ledger, not standing in for an event
  }
  done = true;
  sender.join();
  receiver.join();
  EXPECT_EQ(broker.Stop(), 0);

  std::lock_guard lock(ledger.mutex);
  EXPECT_EQ(ledger.accepted.size(), static_cast<size_t>(kMessages));
  for (const std::string& id : ledger.accepted) {
    EXPECT_TRUE(ledger.delivered.count(id)) << id << " was acknowledged but never delivered";
  }
  for (const std::string& id : ledger.delivered) {
    EXPECT_TRUE(ledger.published.count(id)) << id << " was delivered but never published";
  }
  std::printf(
      "[ figures  ] kills=%d messages=%d accepted=%zu distinct_delivered=%zu "
      "deliveries_including_redeliveries=%llu\n",
      kills, kMessages, ledger.accepted.size(), ledger.delivered.size(),
      static_cast<unsigned long long>(ledger.deliveries));
}

}  // namespace
}  // namespace stafett::broker::testing
