// Fault-injection driver: real broker and agents as processes; under load (concern reports over
// HTTP and by file drop) a seeded schedule SIGKILLs the broker, the sending agent or the
// receiving agent at random instants and restarts them. At the end: every message acknowledged
// to the sender (HTTP 202, or the file moved to sent/) is in the recipient's inbox exactly once
// and never rewritten; every inbox message is audited (accepted and delivered, once each);
// `stafett audit verify` passes; every queue drains to zero; the sender learns "delivered".
//
// Bounded by default (kKills kills). STAFETT_FAULT_SEED=N replays another schedule;
// STAFETT_SOAK_SECONDS=S keeps killing for S seconds (tests/README.md has the command).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "integration/support/fault_county.h"

namespace stafett::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr uint64_t kDefaultSeed = 20260906;
constexpr int kKills = 12;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value == nullptr || *value == '\0' ? fallback : std::strtoull(value, nullptr, 10);
}

// What the load generator handed over and what it was told.
struct Ledger {
  std::mutex mutex;
  std::map<std::string, std::string> http;  // id → status of the 202 answer
  std::vector<std::string> files;           // ids dropped as files (fd-<id>.json)
  std::vector<std::string> refused;         // 4xx answers: none expected
  uint64_t http_retries = 0;                // attempts without an answer (agent killed)
};

// Posts concern reports to the sending agent, two of three over HTTP and one of three as a
// file drop, while the test allows (ALLOWANCE) — so that every round has messages in flight
// when the kill comes. A POST without an answer is retried with the same message id once the
// agent answers again, as a local system would: the id makes the retry idempotent.
class Load {
 public:
  Load(const AgentInfo& sender, uint64_t seed) : sender_(sender), seed_(seed) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Load() { Finish(); }

  void Allow(uint64_t more) {
    std::lock_guard lock(allowance_mutex_);
    allowance_ += more;
    allowance_changed_.notify_all();
  }
  uint64_t produced() const { return produced_; }
  uint64_t allowance() const { return allowance_; }
  uint64_t http_acknowledged() const { return http_acknowledged_; }
  Ledger& ledger() { return ledger_; }
  void Finish() {
    {
      std::lock_guard lock(allowance_mutex_);
      stop_ = true;
      allowance_changed_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    while (!stop_) {
      {
        std::unique_lock lock(allowance_mutex_);
        allowance_changed_.wait(lock, [&] { return stop_ || produced_ < allowance_; });
        if (stop_) return;
      }
      uint64_t n = produced_;
      std::string id = "fd" + std::to_string(seed_ % 1000) + "-" + std::to_string(n);
      nlohmann::json document = ConcernReport(id, kSocial, "case " + std::to_string(n));
      if (n % 3 == 2) {
        EXPECT_TRUE(WriteFileByRename(sender_.outbox + "/" + id + ".json", document.dump()));
        std::lock_guard lock(ledger_.mutex);
        ledger_.files.push_back(id);
      } else {
        PostUntilAnswered(id, document.dump());
      }
      ++produced_;
    }
  }

  void PostUntilAnswered(const std::string& id, const std::string& body) {
    while (!stop_) {
      HttpResponse response = HttpRequest(sender_.http, "POST", "/v1/messages", body, {}, 20000);
      if (response.status == 202) {
        nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
        std::lock_guard lock(ledger_.mutex);
        ledger_.http[id] = answer.is_object() ? answer.value("status", "?") : "?";
        ++http_acknowledged_;
        return;
      }
      if (response.status >= 400 && response.status < 500) {
        std::lock_guard lock(ledger_.mutex);
        ledger_.refused.push_back(id + ": " + std::to_string(response.status) + " " +
                                  response.body);
        return;
      }
      {
        std::lock_guard lock(ledger_.mutex);
        ++ledger_.http_retries;
      }
      // The agent is down (killed by the test): retry once it answers again.
      WaitUntil(
          [&] {
            return stop_ ||
                   HttpRequest(sender_.http, "GET", "/healthz", "", {}, 1000).status == 200;
          },
          120s);
    }
  }

  const AgentInfo sender_;
  const uint64_t seed_;
  Ledger ledger_;
  std::mutex allowance_mutex_;
  std::condition_variable allowance_changed_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> allowance_{0}, produced_{0}, http_acknowledged_{0};
  std::thread thread_;
};

std::string Tail(const std::string& log, size_t bytes = 3000) {
  return log.size() <= bytes ? log : log.substr(log.size() - bytes);
}

TEST(FaultDriverTest, SeededKillsUnderLoadLoseAndDuplicateNothing) {
  const uint64_t seed = EnvNumber("STAFETT_FAULT_SEED", kDefaultSeed);
  const uint64_t soak_seconds = EnvNumber("STAFETT_SOAK_SECONDS", 0);
  std::printf("[ seed     ] STAFETT_FAULT_SEED=%llu%s\n", static_cast<unsigned long long>(seed),
              soak_seconds > 0 ? (" soak " + std::to_string(soak_seconds) + " s").c_str() : "");
  std::fflush(stdout);  // a run that dies still names its seed
  const auto started = std::chrono::steady_clock::now();

  FaultCounty county;
  ASSERT_TRUE(county.ok()) << county.error();
  // Faster recovery than production defaults, so a bounded run fits CI: redeliver lost
  // acknowledgements after 3 s, resend unanswered publishes after 2 s, reconnect within 1 s.
  ASSERT_TRUE(county.SetBrokerKey("delivery", "redeliver_after_seconds", "3"));
  ASSERT_TRUE(county.SetBrokerKey("broker", "min_free_bytes", "0"));
  for (const char* id : {kSchool, kSocial}) {
    ASSERT_TRUE(county.SetAgentKey(id, "resend_after_seconds", "2"));
    ASSERT_TRUE(county.SetAgentKey(id, "reconnect_max_millis", "1000"));
    ASSERT_TRUE(county.SetAgentKey(id, "rescan_seconds", "2"));
  }
  AgentSandbox& sandbox = county.sandbox();
  ASSERT_TRUE(county.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  const AgentInfo& school = sandbox.agent(kSchool);
  const AgentInfo& social = sandbox.agent(kSocial);

  auto acknowledged = [&](Load& load) {
    return load.http_acknowledged() + ListNames(school.outbox + "/sent").size();
  };
  std::mt19937_64 random(seed);
  std::map<std::string, int> kills_of;
  int kills = 0, down_rounds = 0;
  InboxSnapshot snapshot;
  std::vector<std::string> rewritten;
  Load load(school, seed);
  load.Allow(20);
  for (;;) {
    auto elapsed = std::chrono::steady_clock::now() - started;
    if (soak_seconds > 0 ? elapsed >= std::chrono::seconds(soak_seconds) : kills >= kKills) break;
    // Kill after 5..34 more acknowledged messages, with 10..39 more still to come.
    uint64_t wait_for = 5 + random() % 30;
    uint64_t base = acknowledged(load);
    load.Allow(wait_for + 10 + random() % 30);
    const char* victims[] = {"broker", kSchool, kSocial};
    std::string victim = victims[random() % 3];
    ASSERT_TRUE(WaitUntil([&] { return acknowledged(load) >= base + wait_for; }, 180s))
        << "round " << kills << ": " << acknowledged(load) - base << " of " << wait_for
        << " acknowledged\n"
        << Tail(sandbox.LogOf(kSchool)) << Tail(sandbox.LogOf("broker"));
    if (victim == "broker") {
      county.KillBroker();
    } else {
      sandbox.KillAgent(victim);
    }
    // Half the time the broker or the receiver stays down while more is handed over (HTTP
    // answers "pending"; the queue grows). The sender is restarted at once: the load waits on it.
    if (victim != kSchool && random() % 2 == 0) {
      uint64_t handed_over = load.produced() + 3 + random() % 15;
      if (load.allowance() < handed_over) load.Allow(handed_over - load.allowance());
      ASSERT_TRUE(WaitUntil([&] { return load.produced() >= handed_over; }, 120s))
          << "handed over " << load.produced() << " of " << handed_over << " with " << victim
          << " down";
      ++down_rounds;
    }
    if (victim == "broker") {
      ASSERT_TRUE(county.StartBroker()) << Tail(sandbox.LogOf("broker"));
    } else {
      ASSERT_TRUE(sandbox.StartAgent(victim)) << Tail(sandbox.LogOf(victim));
    }
    ++kills;
    ++kills_of[victim];
    snapshot.Update(social.inbox, &rewritten);
  }
  // A last stretch of load without faults, then everything must settle.
  load.Allow(20);
  ASSERT_TRUE(WaitUntil([&] { return load.produced() >= load.allowance(); }, 180s))
      << load.produced() << " of " << load.allowance() << " handed over";
  load.Finish();

  Ledger& ledger = load.ledger();
  EXPECT_TRUE(ledger.refused.empty()) << ledger.refused.front();
  std::set<std::string> expected;
  std::map<std::string, int> http_statuses;
  for (const auto& [id, status] : ledger.http) {
    expected.insert(id);
    ++http_statuses[status];
  }
  expected.insert(ledger.files.begin(), ledger.files.end());

  // Every dropped file is moved to sent/ (acknowledged), none to rejected/.
  EXPECT_TRUE(WaitUntil(
      [&] { return ListNames(school.outbox + "/sent").size() == ledger.files.size(); }, 180s))
      << ListNames(school.outbox + "/sent").size() << " of " << ledger.files.size() << " sent";
  EXPECT_TRUE(ListNames(school.outbox + "/rejected").empty());

  // Every acknowledged message is in the inbox; nothing else is.
  EXPECT_TRUE(WaitUntil([&] { return county.InboxIds(kSocial).size() >= expected.size(); }, 180s))
      << county.InboxIds(kSocial).size() << " of " << expected.size() << " delivered\n"
      << Tail(sandbox.LogOf(kSocial));
  std::string last;
  EXPECT_TRUE(county.WaitForQueuesDrained(180s, &last)) << "queue depths " << last;
  std::vector<std::string> inbox = county.InboxIds(kSocial);
  std::set<std::string> inbox_set(inbox.begin(), inbox.end());
  EXPECT_EQ(inbox_set, expected);
  for (const std::string& id : inbox) {
    std::string text;
    ASSERT_TRUE(ReadWholeFile(social.inbox + "/" + id + ".json", &text));
    nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
    ASSERT_TRUE(message.is_object()) << id;
    EXPECT_EQ(message.value("message_id", ""), id);
    EXPECT_EQ(message.value("from", ""), kSchool);
  }
  EXPECT_EQ(snapshot.Update(social.inbox, &rewritten), 0u);
  EXPECT_TRUE(rewritten.empty()) << rewritten.front() << " was rewritten by a redelivery";

  // The sender learns, for each, that it was delivered.
  std::set<std::string> undelivered = expected;
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (auto it = undelivered.begin(); it != undelivered.end();) {
          it = sandbox.Status(kSchool, *it) == "delivered" ? undelivered.erase(it) : ++it;
        }
        return undelivered.empty();
      },
      120s))
      << undelivered.size() << " not known as delivered, e.g. " << *undelivered.begin();

  // Everything in the inbox is audited: accepted once and delivered once.
  std::optional<std::vector<nlohmann::json>> trail = county.AuditTrail(kSocial);
  ASSERT_TRUE(trail.has_value());
  std::map<std::string, int> accepted, delivered;
  for (const nlohmann::json& record : *trail) {
    std::string event = record.value("event", "");
    std::string id = record.value("message_id", "");
    if (event == "accepted") ++accepted[id];
    if (event == "delivered") ++delivered[id];
  }
  for (const std::string& id : inbox) {
    EXPECT_EQ(accepted[id], 1) << id << " accepted records";
    EXPECT_EQ(delivered[id], 1) << id << " delivered records";
  }
  EXPECT_EQ(delivered.size(), inbox.size()) << "a delivery was audited that is not in the inbox";

  std::string verify_output;
  EXPECT_EQ(county.AuditVerify(&verify_output), 0) << verify_output;
  for (const char* process : {"broker", kSchool, kSocial}) {
    std::vector<std::string> reports = SanitizerReports(sandbox.LogOf(process));
    EXPECT_TRUE(reports.empty()) << process << ": " << reports.front();
  }

  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "[ figures  ] seed=%llu kills=%d (broker %d, sender %d, receiver %d; %d held down) "
      "acknowledged=%zu "
      "(http accepted %d, http pending %d, files %zu) http_retries=%llu inbox_checked=%zu "
      "audit_records=%zu seconds=%.1f\n",
      static_cast<unsigned long long>(seed), kills, kills_of["broker"], kills_of[kSchool],
      kills_of[kSocial], down_rounds, expected.size(),
      http_statuses["accepted"] + http_statuses["delivered"], http_statuses["pending"],
      ledger.files.size(), static_cast<unsigned long long>(ledger.http_retries), inbox.size(),
      trail->size(), seconds);
}

}  // namespace
}  // namespace stafett::testing
