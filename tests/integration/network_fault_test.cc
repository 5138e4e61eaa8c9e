// Network faults between real agents and a real broker: the receiving agent's connection goes
// through a FaultProxy that cuts it mid-delivery, blackholes it (only heartbeats can tell), or
// throttles it (a slow consumer with a full credit window); the broker is restarted with agents
// connected. Each time delivery resumes without loss or duplicate, in queue order per endpoint
// (the audit trail's "delivered" records follow its "accepted" records), and queues drain.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "integration/support/fault_county.h"
#include "integration/support/fault_proxy.h"

namespace stafett::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr char kHealth[] = "region.health";

std::string Tail(const std::string& log, size_t bytes = 2000) {
  return log.size() <= bytes ? log : log.substr(log.size() - bytes);
}

// A few ids from AT on, for messages.
std::string Window(const std::vector<std::string>& ids,
                   std::vector<std::string>::const_iterator at) {
  std::string out;
  for (int i = 0; i < 6 && at != ids.end(); ++i, ++at) out += *at + " ";
  return out;
}

class NetworkFaultTest : public ::testing::Test {
 protected:
  // The receiving agent (flen.social) connects through PROXY_; heartbeats every second.
  void SetUp() override {
    ASSERT_TRUE(county_.ok()) << county_.error();
    proxy_ = std::make_unique<FaultProxy>(county_.broker_port());
    ASSERT_TRUE(proxy_->ok());
    ASSERT_TRUE(county_.SetBrokerKey("delivery", "heartbeat_seconds", "1"));
    ASSERT_TRUE(county_.SetBrokerKey("delivery", "redeliver_after_seconds", "3"));
    ASSERT_TRUE(county_.SetBrokerKey("broker", "min_free_bytes", "0"));
    for (const char* id : {kSchool, kSocial, kHealth}) {
      ASSERT_TRUE(county_.SetAgentKey(id, "resend_after_seconds", "2"));
      ASSERT_TRUE(county_.SetAgentKey(id, "reconnect_max_millis", "1000"));
    }
    ASSERT_TRUE(county_.SetAgentKey(kSocial, "broker_zmq", "\"" + proxy_->endpoint() + "\""));
    ASSERT_TRUE(county_.StartBroker()) << sandbox().LogOf("broker");
    ASSERT_TRUE(sandbox().StartAgent(kSchool)) << sandbox().LogOf(kSchool);
  }

  AgentSandbox& sandbox() { return county_.sandbox(); }

  std::vector<std::string> PostReports(const std::string& prefix, int count) {
    return sandbox().PostConcernReports(kSchool, kSocial, prefix, count);
  }

  size_t InboxCount(const std::string& id) { return sandbox().InboxMessages(id).size(); }

  // Every id in EXPECTED is in ID's inbox once and nothing else is; the queues drain; the audit
  // trail has each accepted once and delivered once, delivered in the order accepted; the
  // audit log verifies.
  void ExpectDeliveredOnceInOrder(const std::string& id, const std::set<std::string>& expected) {
    EXPECT_TRUE(WaitUntil([&] { return InboxCount(id) >= expected.size(); }, 120s))
        << InboxCount(id) << " of " << expected.size() << "\n"
        << Tail(sandbox().LogOf(id)) << Tail(sandbox().LogOf("broker"));
    std::string depths;
    EXPECT_TRUE(county_.WaitForQueuesDrained(120s, &depths)) << depths;
    std::vector<std::string> inbox = county_.InboxIds(id);
    EXPECT_EQ(std::set<std::string>(inbox.begin(), inbox.end()), expected);
    EXPECT_EQ(inbox.size(), expected.size());
    std::optional<std::vector<nlohmann::json>> trail = county_.AuditTrail(id);
    ASSERT_TRUE(trail.has_value());
    // Queue order is the order of the "accepted" records; hand-off order is the order in which
    // the receiving agent wrote its inbox (its log, first write of each id). The audit's
    // "delivered" records follow acknowledgements, which a lost connection may reorder.
    std::vector<std::string> accepted_order, written_order;
    std::map<std::string, int> accepted, delivered;
    for (const nlohmann::json& record : *trail) {  // in audit (seq) order
      std::string message_id = record.value("message_id", "");
      if (expected.count(message_id) == 0) continue;
      if (record.value("event", "") == "accepted") {
        ++accepted[message_id];
        accepted_order.push_back(message_id);
      } else if (record.value("event", "") == "delivered") {
        ++delivered[message_id];
      }
    }
    std::istringstream log(sandbox().LogOf(id));
    std::set<std::string> written;
    const std::string marker = "event=delivered message_id=";
    for (std::string line; std::getline(log, line);) {
      size_t at = line.find(marker);
      if (at == std::string::npos) continue;
      std::string message_id = line.substr(at + marker.size());
      message_id = message_id.substr(0, message_id.find(' '));
      if (expected.count(message_id) != 0 && written.insert(message_id).second) {
        written_order.push_back(message_id);
      }
    }
    for (const std::string& message_id : expected) {
      EXPECT_EQ(accepted[message_id], 1) << message_id;
      EXPECT_EQ(delivered[message_id], 1) << message_id;
    }
    auto differ = std::mismatch(written_order.begin(), written_order.end(), accepted_order.begin(),
                                accepted_order.end());
    EXPECT_TRUE(differ.first == written_order.end() && differ.second == accepted_order.end())
        << "handed off out of queue order at position " << differ.first - written_order.begin()
        << ": written " << Window(written_order, differ.first) << ", accepted "
        << Window(accepted_order, differ.second);
    std::string verify;
    EXPECT_EQ(county_.AuditVerify(&verify), 0) << verify;
    for (const char* process : {"broker", kSchool, kSocial}) {
      std::vector<std::string> reports = SanitizerReports(sandbox().LogOf(process));
      EXPECT_TRUE(reports.empty()) << process << ": " << reports.front();
    }
  }

  FaultCounty county_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(NetworkFaultTest, ConnectionCutMidDeliveryResumesInOrderWithoutLossOrDuplicate) {
  constexpr int kMessages = 240;
  // A backlog first, so that the cuts land while a full credit window is in flight.
  std::vector<std::string> ids = PostReports("cut", kMessages);
  ASSERT_TRUE(sandbox().StartAgent(kSocial)) << sandbox().LogOf(kSocial);
  InboxSnapshot snapshot;
  std::vector<std::string> rewritten;
  std::vector<size_t> cut_at;
  uint64_t cuts = 0;
  for (size_t threshold : {30u, 90u, 150u}) {
    // Each cut hits a live connection: the one the agent opened after the previous cut.
    ASSERT_TRUE(WaitUntil(
        [&] { return InboxCount(kSocial) >= threshold && proxy_->connections() > cuts; }, 120s))
        << InboxCount(kSocial) << " delivered\n"
        << Tail(sandbox().LogOf(kSocial));
    proxy_->CutAll();
    ++cuts;
    cut_at.push_back(InboxCount(kSocial));
    snapshot.Update(sandbox().agent(kSocial).inbox, &rewritten);
  }
  EXPECT_LT(cut_at.front(), static_cast<size_t>(kMessages)) << "the first cut came too late";
  ExpectDeliveredOnceInOrder(kSocial, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(snapshot.Update(sandbox().agent(kSocial).inbox, &rewritten), 0u);
  EXPECT_GE(proxy_->connections(), 4u) << "the agent did not reconnect after each cut";
  std::printf("[ figures  ] cuts at %zu, %zu, %zu of %d delivered; connections %llu\n", cut_at[0],
              cut_at[1], cut_at[2], kMessages,
              static_cast<unsigned long long>(proxy_->connections()));
}

TEST_F(NetworkFaultTest, BlackholedConnectionIsFoundByHeartbeatsAndDeliveryResumes) {
  constexpr int kMessages = 200;
  std::vector<std::string> ids = PostReports("hole", kMessages);
  ASSERT_TRUE(sandbox().StartAgent(kSocial)) << sandbox().LogOf(kSocial);
  ASSERT_TRUE(WaitUntil([&] { return InboxCount(kSocial) >= 20; }, 120s));
  // Bytes stop both ways, the TCP connection stays up: no FIN, no RST, only silence.
  proxy_->Blackhole(true);
  const std::string& http = sandbox().agent(kSocial).http;
  EXPECT_TRUE(WaitUntil(
      [&] {
        HttpResponse health = HttpRequest(http, "GET", "/healthz", "", {}, 2000);
        nlohmann::json body = nlohmann::json::parse(health.body, nullptr, false);
        return body.is_object() && !body.value("broker_connected", true);
      },
      30s))
      << "the agent did not notice the silence";
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::optional<std::map<std::string, nlohmann::json>> status = county_.Status();
        return status && status->count(kSocial) && !status->at(kSocial).value("connected", true);
      },
      30s))
      << "the broker did not mark the endpoint offline";
  size_t stalled_at = InboxCount(kSocial);
  EXPECT_LT(stalled_at, static_cast<size_t>(kMessages)) << "the blackhole came too late";
  proxy_->Restore();
  ExpectDeliveredOnceInOrder(kSocial, std::set<std::string>(ids.begin(), ids.end()));
  std::printf("[ figures  ] blackholed at %zu of %d delivered; connections %llu\n", stalled_at,
              kMessages, static_cast<unsigned long long>(proxy_->connections()));
}

TEST_F(NetworkFaultTest, BrokerRestartedWithAgentsConnectedResumesWithoutLossOrDuplicate) {
  constexpr int kBacklog = 150, kWhileDown = 20;
  std::vector<std::string> ids = PostReports("restart", kBacklog);
  ASSERT_TRUE(sandbox().StartAgent(kSocial)) << sandbox().LogOf(kSocial);
  ASSERT_TRUE(WaitUntil([&] { return InboxCount(kSocial) >= 25; }, 120s));
  EXPECT_EQ(county_.StopBroker(), 0);  // SIGTERM: a clean stop, agents stay up
  size_t stopped_at = InboxCount(kSocial);
  // Handed over while the broker is down: journalled, answered "pending", sent later.
  for (int i = 0; i < kWhileDown; ++i) {
    std::string id = "down-" + std::to_string(i);
    HttpResponse response = sandbox().Post(kSchool, ConcernReport(id, kSocial));
    ASSERT_EQ(response.status, 202) << response.body;
    EXPECT_EQ(nlohmann::json::parse(response.body).value("status", ""), "pending");
    ids.push_back(id);
  }
  ASSERT_TRUE(county_.StartBroker()) << "broker log:\n" << Tail(sandbox().LogOf("broker"));
  ExpectDeliveredOnceInOrder(kSocial, std::set<std::string>(ids.begin(), ids.end()));
  for (const std::string& id : ids) {
    EXPECT_TRUE(sandbox().WaitForStatus(kSchool, id, "delivered", 60s)) << id;
  }
  std::printf("[ figures  ] broker stopped at %zu of %d delivered, %d handed over while down\n",
              stopped_at, kBacklog, kWhileDown);
}

TEST_F(NetworkFaultTest, SlowConsumerWithAFullCreditWindowDoesNotStallOthers) {
  constexpr int kReports = 100, kConsents = 20;
  ASSERT_TRUE(county_.SetAgentKey(kSocial, "credit", "2"));
  proxy_->Throttle(8 * 1024);  // bytes per second from the broker to the slow agent
  ASSERT_TRUE(sandbox().StartAgent(kSocial)) << sandbox().LogOf(kSocial);
  ASSERT_TRUE(sandbox().StartAgent(kHealth)) << sandbox().LogOf(kHealth);
  std::vector<std::string> reports = PostReports("slow", kReports);
  // Meanwhile another endpoint is served at full speed.
  std::set<std::string> consents;
  for (int i = 0; i < kConsents; ++i) {
    std::string id = "fast-" + std::to_string(i);
    HttpResponse response = sandbox().Post(
        kSchool,
        ConsentGranted(id, "consent-fast-" + std::to_string(i), {kSchool, kHealth}, kHealth));
    ASSERT_EQ(response.status, 202) << response.body;
    consents.insert(id);
  }
  EXPECT_TRUE(WaitUntil([&] { return InboxCount(kHealth) >= consents.size(); }, 60s))
      << InboxCount(kHealth) << " of " << consents.size() << " at the fast endpoint";
  size_t slow_done = InboxCount(kSocial);
  std::optional<std::map<std::string, nlohmann::json>> status = county_.Status();
  ASSERT_TRUE(status.has_value());
  int64_t slow_depth = status->at(kSocial).value("queue_depth", int64_t{0});
  EXPECT_LT(slow_done, static_cast<size_t>(kReports)) << "the consumer was not slow";
  EXPECT_GT(slow_depth, 0);
  proxy_->Throttle(0);
  ExpectDeliveredOnceInOrder(kSocial, std::set<std::string>(reports.begin(), reports.end()));
  std::vector<std::string> health = county_.InboxIds(kHealth);
  EXPECT_EQ(std::set<std::string>(health.begin(), health.end()), consents);
  std::printf(
      "[ figures  ] fast endpoint got %d while the slow one had %zu of %d (queue depth %lld)\n",
      kConsents, slow_done, kReports, static_cast<long long>(slow_depth));
}

}  // namespace
}  // namespace stafett::testing
