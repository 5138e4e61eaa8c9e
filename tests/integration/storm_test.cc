// Connection storm and publish flood against the real broker process: 10,000 TCP connections
// opened and dropped on its ZeroMQ port (half with a torn ZMTP greeting, a third reset), CURVE
// handshakes with a stranger's key (refused, counted) and with a valid key (HELLO, then gone);
// then one peer floods PUBLISH (a valid envelope over and over, and garbage) while another
// sender's messages must still be accepted and delivered. The broker must keep serving with
// bounded memory; the flooder meets back-pressure rather than unbounded buffering, and its
// publishes over the rate limit are dropped unread, answered at most once a second.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "integration/support/fault_county.h"
#include "stafett/core/envelope.h"
#include "stafett/core/personnummer.h"
#include "stafett/core/protocol.h"
#include "stafett/core/pseudonym.h"
#include "stafett/keys/key_set.h"

namespace stafett::testing {
namespace {

using namespace std::chrono_literals;
namespace protocol = core::protocol;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr char kHealth[] = "region.health";
constexpr int kTcpConnections = 10000;
constexpr int kCurveConnections = 200;
constexpr int kStormThreads = 8;

keys::KeySet LoadKeys(const std::string& dir) {
  core::Result<std::vector<keys::KeySet>> sets = keys::LoadKeyDir(dir);
  EXPECT_TRUE(sets.ok() && !sets->empty()) << dir;
  return sets.ok() && !sets->empty() ? sets->front() : keys::KeySet{};
}

// A DEALER speaking STF1 over CURVE with OWN's transport keys.
std::unique_ptr<zmq::socket_t> CurveDealer(zmq::context_t& context, const std::string& endpoint,
                                           const keys::KeySet& own, const std::string& server) {
  auto socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
  socket->set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server.data(), 32));
  socket->set(zmq::sockopt::curve_publickey,
              zmq::const_buffer(own.transport.public_key.data(), 32));
  socket->set(zmq::sockopt::curve_secretkey,
              zmq::const_buffer(own.transport.secret_key.data(), 32));
  socket->set(zmq::sockopt::linger, 0);
  socket->connect(endpoint);
  return socket;
}

bool SendCommand(zmq::socket_t& socket, protocol::Command command,
                 std::vector<std::string> arguments, bool dontwait = false) {
  std::vector<std::string> frames = protocol::Encode(command, std::move(arguments));
  for (size_t i = 0; i < frames.size(); ++i) {
    auto flags = dontwait ? zmq::send_flags::dontwait : zmq::send_flags::none;
    if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
    if (!socket.send(zmq::buffer(frames[i]), flags)) return false;
  }
  return true;
}

// The next message with COMMAND within TIMEOUT (others are skipped).
std::optional<protocol::Message> Expect(zmq::socket_t& socket, protocol::Command command,
                                        std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 100ms);
    if ((item.revents & ZMQ_POLLIN) == 0) continue;
    std::vector<std::string> frames;
    zmq::message_t part;
    do {
      if (!socket.recv(part)) break;
      frames.push_back(part.to_string());
    } while (part.more());
    core::Result<protocol::Message> message = protocol::Decode(frames);
    if (message.ok() && message->command == command) return *message;
  }
  return std::nullopt;
}

// One TCP connection to PORT on loopback, dropped at once; GREETING bytes sent first if any;
// RESET closes with RST instead of FIN.
bool ConnectAndDrop(int port, const std::string& greeting, bool reset) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  if (connected && !greeting.empty()) {
    connected = ::send(fd, greeting.data(), greeting.size(), MSG_NOSIGNAL) > 0;
  }
  if (reset) {
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  }
  ::close(fd);
  return connected;
}

double Metric(const std::string& http, const std::string& name) {
  HttpResponse metrics = HttpRequest(http, "GET", "/metrics", "", {}, 5000);
  size_t at = metrics.body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(metrics.body.c_str() + at + name.size() + 2, nullptr);
}

class StormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(county_.ok()) << county_.error();
    ASSERT_TRUE(county_.SetBrokerKey("broker", "min_free_bytes", "0"));
    // Far above what an agent sends (tens a minute), far below what a flood sends.
    ASSERT_TRUE(county_.SetBrokerKey("broker", "max_publishes_per_second", "200"));
    ASSERT_TRUE(county_.StartBroker()) << sandbox().LogOf("broker");
    ASSERT_TRUE(sandbox().StartAgent(kSocial)) << sandbox().LogOf(kSocial);
    ASSERT_TRUE(sandbox().StartAgent(kSchool)) << sandbox().LogOf(kSchool);
    broker_key_ = LoadKeys(county_.county_dir() + "/broker/keys").transport.public_key;
    health_ = LoadKeys(county_.county_dir() + "/agents/region.health/keys");
  }

  AgentSandbox& sandbox() { return county_.sandbox(); }

  // Posts COUNT reports from the school; seconds until every one is delivered (or -1).
  double TimeToDeliver(const std::string& prefix, int count) {
    auto started = std::chrono::steady_clock::now();
    std::vector<std::string> ids = sandbox().PostConcernReports(kSchool, kSocial, prefix, count);
    for (const std::string& id : ids) {
      if (!sandbox().WaitForStatus(kSchool, id, "delivered", 120s)) return -1;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }

  FaultCounty county_;
  std::string broker_key_;
  keys::KeySet health_;
};

TEST_F(StormTest, TenThousandConnectionsOpenedAndDroppedLeaveTheBrokerServing) {
  double baseline = TimeToDeliver("before", 10);
  ASSERT_GT(baseline, 0);
  const uint64_t rss_before = ResidentBytes(county_.broker_pid());
  const double refused_before = Metric(county_.broker_http(), "stafett_auth_failures_total");
  auto started = std::chrono::steady_clock::now();

  // A ZMTP 3 greeting cut off after the version: the broker waits for the rest, then is dropped.
  const std::string torn_greeting("\xff\0\0\0\0\0\0\0\x01\x7f\x03", 11);
  // Eight threads: a connect that finds the accept backlog full waits a second for its SYN to
  // be retried; in parallel those waits overlap.
  std::atomic<int> connected{0};
  std::vector<std::thread> stormers;
  for (int t = 0; t < kStormThreads; ++t) {
    stormers.emplace_back([&, t] {
      for (int i = t; i < kTcpConnections; i += kStormThreads) {
        connected += ConnectAndDrop(county_.broker_port(), i % 2 ? torn_greeting : "", i % 3 == 0);
      }
    });
  }
  for (std::thread& stormer : stormers) stormer.join();
  const double tcp_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // CURVE handshakes: strangers are refused and counted; a valid key says HELLO and leaves.
  zmq::context_t context(1);
  keys::KeySet stranger = *keys::GenerateKeySet("stranger.unit", 0, INT64_MAX / 2);
  std::vector<std::unique_ptr<zmq::socket_t>> strangers;
  for (int i = 0; i < kCurveConnections; ++i) {
    strangers.push_back(CurveDealer(context, county_.broker_zmq(), stranger, broker_key_));
  }
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Metric(county_.broker_http(), "stafett_auth_failures_total") >=
               refused_before + kCurveConnections;
      },
      60s))
      << Metric(county_.broker_http(), "stafett_auth_failures_total") << " refusals counted";
  strangers.clear();
  int welcomed = 0;
  for (int i = 0; i < kCurveConnections; ++i) {
    std::unique_ptr<zmq::socket_t> peer =
        CurveDealer(context, county_.broker_zmq(), health_, broker_key_);
    SendCommand(*peer, protocol::Command::kHello, {"{\"credit\": 8}"});
    welcomed += Expect(*peer, protocol::Command::kWelcome, 10s).has_value();
  }
  EXPECT_EQ(welcomed, kCurveConnections);

  // Still serving: healthy, the legitimate agents deliver, memory bounded.
  EXPECT_EQ(HttpRequest(county_.broker_http(), "GET", "/healthz").status, 200);
  double after = TimeToDeliver("after", 10);
  EXPECT_GT(after, 0) << "a legitimate sender could not deliver after the storm";
  const uint64_t rss_after = ResidentBytes(county_.broker_pid());
  EXPECT_GT(rss_after, 0u) << "the broker died";
  // Under ASan freed memory sits in a quarantine (256 MiB by default) before reuse, so the bound
  // is loose; a leak per connection (10,400 of them) would pass it.
  EXPECT_LT(rss_after, rss_before + (384ull << 20));
  std::vector<std::string> reports = SanitizerReports(sandbox().LogOf("broker"));
  EXPECT_TRUE(reports.empty()) << reports.front();
  std::printf(
      "[ figures  ] tcp connections %d (%d connected) in %.1f s; curve strangers %d refused, "
      "valid %d welcomed; broker rss %.1f -> %.1f MiB; 10 messages delivered in %.2f s before, "
      "%.2f s after\n",
      kTcpConnections, connected.load(), tcp_seconds, kCurveConnections, welcomed,
      static_cast<double>(rss_before) / (1 << 20), static_cast<double>(rss_after) / (1 << 20),
      baseline, after);
}

TEST_F(StormTest, APeerFloodingPublishesMeetsBackPressureAndOthersStillDeliver) {
  double baseline = TimeToDeliver("before", 20);
  ASSERT_GT(baseline, 0);
  // A valid envelope from region.health (a compromised but authenticated endpoint).
  core::Result<core::PseudonymKey> pseudonym_key =
      keys::LoadPseudonymKeyFile(county_.county_dir() + "/county/pseudonym.key");
  ASSERT_TRUE(pseudonym_key.ok()) << pseudonym_key.status().ToString();
  const core::Micros now = core::SystemClock::Instance().Now();
  core::Result<core::Personnummer> child = core::ParsePersonnummer(kChildNumber, now);
  ASSERT_TRUE(child.ok());
  keys::KeySet social = LoadKeys(county_.county_dir() + "/agents/flen.social/keys");
  core::Header header;
  header.message_id = "flood-0";
  header.type = "concern_report";
  header.from = kHealth;
  header.to = {kSocial};
  header.subject = core::Pseudonymise(*pseudonym_key, *child);
  header.sent_at = now;
  header.expires_at = now + 3600LL * 1'000'000;
  header.sender_key_id = health_.key_id;
  nlohmann::json plaintext = {
      {"v", 1}, {"personnummer", "191212121212"}, {"body", {{"description", "flood"}}}};
  core::Result<core::Envelope> envelope =
      core::SealEnvelope(header, plaintext.dump(), health_.signing,
                         {{kSocial, social.key_id, social.encryption.public_key}});
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();

  zmq::context_t context(1);
  std::unique_ptr<zmq::socket_t> flooder =
      CurveDealer(context, county_.broker_zmq(), health_, broker_key_);
  SendCommand(*flooder, protocol::Command::kHello, {"{\"credit\": 8}"});
  ASSERT_TRUE(Expect(*flooder, protocol::Command::kWelcome, 10s).has_value());
  SendCommand(*flooder, protocol::Command::kPublish,
              {envelope->header_bytes, envelope->signature, envelope->payload});
  std::optional<protocol::Message> accepted = Expect(*flooder, protocol::Command::kAccepted, 10s);
  ASSERT_TRUE(accepted.has_value()) << sandbox().LogOf("broker");

  // The flood: the same envelope (a retry the broker must verify and answer) and garbage,
  // without reading a single answer, until the other sender is done.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0}, pushed_back{0};
  const auto flood_started = std::chrono::steady_clock::now();
  uint64_t rss_peak = 0;
  std::thread flood([&] {
    for (uint64_t i = 0; !stop; ++i) {
      bool ok =
          i % 4 == 3
              ? SendCommand(*flooder, protocol::Command::kPublish, {"{", "x", "y"}, true)
              : SendCommand(*flooder, protocol::Command::kPublish,
                            {envelope->header_bytes, envelope->signature, envelope->payload}, true);
      if (ok) {
        ++sent;
      } else {
        ++pushed_back;  // EAGAIN: the pipe to the broker is full
        zmq::pollitem_t item{flooder->handle(), 0, ZMQ_POLLOUT, 0};
        zmq::poll(&item, 1, 10ms);
      }
    }
  });
  ASSERT_TRUE(WaitUntil([&] { return sent >= 20000; }, 120s)) << sent << " sent";
  double during = TimeToDeliver("during", 20);
  WaitUntil(
      [&] {
        rss_peak = std::max(rss_peak, ResidentBytes(county_.broker_pid()));
        return pushed_back > 0;
      },
      60s);
  stop = true;
  flood.join();
  const double flood_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - flood_started).count();
  rss_peak = std::max(rss_peak, ResidentBytes(county_.broker_pid()));
  EXPECT_GT(during, 0) << "the other sender's messages were not delivered during the flood";
  EXPECT_GT(pushed_back.load(), 0u) << "the flooder never met back-pressure";
  EXPECT_NE(sandbox().LogOf("broker").find("event=publish_rate_limited endpoint=region.health"),
            std::string::npos);
  const double over_rate = Metric(
      county_.broker_http(), "stafett_publishes_rate_limited_total{endpoint=\"region.health\"}");
  EXPECT_GT(over_rate, 0) << "no publish was dropped over the rate limit";
  // Others unaffected, near enough: under ASan 0.8–1.2 s before the flood and 3–4 s during it
  // (the flood still takes a core for its own CURVE encryption and the broker's I/O thread one
  // decryption per frame). Answering and parsing every flood frame, as the broker once did,
  // took 25–37 s.
  EXPECT_LT(during, 20.0) << "the flood all but stopped another sender";
  // What the flooder got back: the answers to the publishes within the limit, and at most one
  // REFUSED a second for those dropped over it.
  int rate_refusals = 0;
  for (std::optional<protocol::Message> answer;
       (answer = Expect(*flooder, protocol::Command::kRefused, 500ms)).has_value();) {
    if (answer->object.value("code", "") == "UNAVAILABLE" &&
        answer->object.value("message_id", "x").empty()) {
      ++rate_refusals;
    }
  }
  EXPECT_GE(rate_refusals, 1);
  EXPECT_LE(rate_refusals, static_cast<int>(flood_seconds) + 2)
      << "over " << flood_seconds << " s of flood";
  EXPECT_EQ(HttpRequest(county_.broker_http(), "GET", "/healthz").status, 200);
  EXPECT_TRUE(WaitUntil([&] { return sandbox().InboxMessages(kSocial).size() >= 41; }, 60s));
  std::vector<std::string> inbox = county_.InboxIds(kSocial);
  EXPECT_EQ(std::count(inbox.begin(), inbox.end(), "flood-0"), 1);
  EXPECT_EQ(inbox.size(), 41u) << "20 before, 20 during, and the flood's one message";
  std::vector<std::string> reports = SanitizerReports(sandbox().LogOf("broker"));
  EXPECT_TRUE(reports.empty()) << reports.front();
  std::printf(
      "[ figures  ] flood: %llu publishes sent in %.1f s, %llu pushed back (EAGAIN), %.0f dropped "
      "over the rate limit, %d refusals for them; 20 messages of another sender delivered in %.2f "
      "s before, %.2f s during; "
      "broker rss peak %.1f MiB\n",
      static_cast<unsigned long long>(sent.load()), flood_seconds,
      static_cast<unsigned long long>(pushed_back.load()), over_rate, rate_refusals, baseline,
      during, static_cast<double>(rss_peak) / (1 << 20));
}

// A legitimate burst against a low limit: the agent learns the limit from WELCOME and paces
// its publishes below it, so the broker drops none and every message arrives once.
TEST(PublishPacingTest, AnAgentsBurstIsPacedBelowTheBrokersLimitAndNothingIsDropped) {
  constexpr int kLimit = 20, kBurst = 100;
  FaultCounty county;
  ASSERT_TRUE(county.ok()) << county.error();
  ASSERT_TRUE(county.SetBrokerKey("broker", "min_free_bytes", "0"));
  ASSERT_TRUE(county.SetBrokerKey("broker", "max_publishes_per_second", std::to_string(kLimit)));
  ASSERT_TRUE(county.StartBroker()) << county.sandbox().LogOf("broker");
  ASSERT_TRUE(county.sandbox().StartAgent(kSocial)) << county.sandbox().LogOf(kSocial);
  ASSERT_TRUE(county.sandbox().StartAgent(kSchool)) << county.sandbox().LogOf(kSchool);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kBurst; ++i) {
    std::string id = "burst-" + std::to_string(i);
    ASSERT_TRUE(county.sandbox().Drop(kSchool, id + ".json", ConcernReport(id, kSocial).dump()));
  }
  ASSERT_TRUE(WaitUntil([&] { return county.InboxIds(kSocial).size() >= kBurst; }, 120s))
      << county.InboxIds(kSocial).size() << " of " << kBurst << " delivered";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::vector<std::string> inbox = county.InboxIds(kSocial);
  std::set<std::string> distinct(inbox.begin(), inbox.end());
  EXPECT_EQ(inbox.size(), static_cast<size_t>(kBurst));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kBurst)) << "a message arrived twice";
  // Paced: at 80 % of the limit after a half-second bucket, 100 publishes need at least
  // (100 - 8) / 16 = 5.75 s; unpaced, the broker would have dropped all but the first 20.
  EXPECT_GE(seconds, 5.0) << "the burst went out faster than the limit allows";
  const double dropped = Metric(county.broker_http(),
                                "stafett_publishes_rate_limited_total{endpoint=\"flen.school\"}");
  EXPECT_LE(dropped, 0) << "the broker dropped publishes of a paced agent";
  std::printf(
      "[ figures  ] %d dropped files delivered in %.1f s at a limit of %d/s; %.0f dropped\n",
      kBurst, seconds, kLimit, std::max(0.0, dropped));
}

}  // namespace
}  // namespace stafett::testing
