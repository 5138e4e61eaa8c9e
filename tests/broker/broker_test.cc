// Broker: hand-offs, store-and-forward, dedup, TTL expiry, authentication and hostile frames,
// against an in-process broker on a real loopback socket with a real RocksDB and a manual clock.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "support/harness.h"

namespace stafett::broker::testing {
namespace {

using core::protocol::Command;

class BrokerTest : public ::testing::Test {
 protected:
  BrokerTest()
      : county_(dir_.path() / "county"),
        clock_(core::SystemClock::Instance().Now()),
        broker_(std::make_unique<BrokerProcess>(county_, dir_.path() / "data", &clock_)) {}

  std::unique_ptr<TestClient> Connect(const std::string& id) {
    auto client = std::make_unique<TestClient>(broker_->endpoint(), county_.Get(id).keys,
                                               county_.Get("broker").keys);
    return client;
  }

  MessageSpec Concern(const std::string& id) {
    MessageSpec spec;
    spec.message_id = id;
    spec.type = "concern_report";
    spec.from = "flen.school";
    spec.to = {"flen.social"};
    return spec;
  }

  // Moves the clock forward and lets the broker's timers run (they fire on its next loop turn;
  // a round trip through the loop proves that turn happened).
  void Advance(core::Micros delta, TestClient& client) {
    clock_.Advance(delta);
    client.SendCommand(Command::kHeartbeat, {"{}"});
    client.Expect(Command::kHeartbeat);
    client.SendCommand(Command::kHeartbeat, {"{}"});
    client.Expect(Command::kHeartbeat);
  }

  // stafett_auth_failures_total as the broker renders it.
  uint64_t AuthFailures() {
    const std::string name = "\nstafett_auth_failures_total ";
    std::string text = broker_->broker().metrics().Render();
    size_t at = text.find(name);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + name.size()));
  }

  // Whether stafett_auth_failures_total reaches AT_LEAST within TIMEOUT (the gauges are
  // published by the broker's timers, so the clock is moved on while waiting).
  bool AuthFailuresReach(uint64_t at_least, TestClient& client,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      Advance(kSecond, client);
      if (AuthFailures() >= at_least) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  uint64_t QueueDepth(const std::string& endpoint) {
    auto operator_client = Connect("operator");
    nlohmann::json status = operator_client->Query({{"op", "status"}});
    for (const nlohmann::json& row : status["endpoints"]) {
      if (row["id"] == endpoint) return row["queue_depth"].get<uint64_t>();
    }
    ADD_FAILURE() << "no status row for " << endpoint;
    return UINT64_MAX;
  }

  TempDir dir_;
  County county_;
  core::ManualClock clock_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(BrokerTest, HandsAConcernReportFromSchoolToSocialServicesWithAReceipt) {
  auto school = Connect("flen.school");
  school->Hello();
  core::Envelope envelope = Seal(county_, Concern("m-1"), clock_.Now());
  nlohmann::json answer = school->Publish(envelope);
  ASSERT_EQ(answer["command"], "ACCEPTED") << answer.dump();
  EXPECT_EQ(answer["duplicate"], false);

  auto social = Connect("flen.social");
  social->Hello();
  core::protocol::Message deliver = social->Expect(Command::kDeliver);
  ASSERT_EQ(deliver.arguments.size(), 4u);
  EXPECT_EQ(deliver.arguments[1], envelope.header_bytes);
  EXPECT_EQ(deliver.arguments[3], envelope.payload);
  core::Result<core::Header> header = core::ParseHeader(deliver.arguments[1]);
  ASSERT_TRUE(header.ok());
  core::Result<std::string> plaintext =
      core::OpenEnvelope({deliver.arguments[1], deliver.arguments[2], deliver.arguments[3]},
                         *header, "flen.social", county_.Get("flen.social").keys.encryption);
  ASSERT_TRUE(plaintext.ok());
  EXPECT_NE(plaintext->find("19121212-1212"), std::string::npos);
  social->AcknowledgeDelivery(deliver, county_.Get("flen.social").keys, "flen.social");

  core::protocol::Message receipt = school->Expect(Command::kReceipt);
  EXPECT_EQ(receipt.object["message_id"], "m-1");
  EXPECT_EQ(receipt.object["status"], "delivered");
  EXPECT_EQ(receipt.object["recipient"], "flen.social");
  school->SendCommand(Command::kAck,
                      {nlohmann::json({{"delivery", receipt.object["delivery"]}}).dump()});
  EXPECT_EQ(QueueDepth("flen.social"), 0u);
  EXPECT_EQ(QueueDepth("flen.school"), 0u);
}

// Issue 14, item 7: a second connection with an endpoint's key took the session silently, and
// the first one's heartbeats were still answered, so it believed itself served. Now the newest
// HELLO wins and the connection it replaced is told, and told again whenever it speaks.
TEST_F(BrokerTest, ANewerHelloTakesTheSessionAndTheReplacedConnectionIsTold) {
  auto school = Connect("flen.school");
  school->Hello();
  auto first = Connect("flen.social");
  first->Hello();
  auto second = Connect("flen.social");
  second->Hello();
  core::protocol::Message told = first->Expect(Command::kError);
  EXPECT_EQ(told.object["code"], "SESSION_REPLACED") << told.object.dump();
  first->SendCommand(Command::kHeartbeat, {"{}"});
  EXPECT_EQ(first->Expect(Command::kError).object["code"], "SESSION_REPLACED");
  EXPECT_NE(broker_->broker().metrics().Render().find(
                "stafett_sessions_replaced_total{endpoint=\"flen.social\"} 1\n"),
            std::string::npos);
  nlohmann::json status = Connect("operator")->Query({{"op", "status"}});
  for (const nlohmann::json& row : status["endpoints"]) {
    if (row["id"] == "flen.social") {
      EXPECT_EQ(row["sessions_replaced"], 1) << row.dump();
      EXPECT_TRUE(row["last_replaced_at"].is_string()) << row.dump();
    }
  }

  // Deliveries go to the session, not to the replaced connection.
  ASSERT_EQ(school->Publish(Seal(county_, Concern("m-taken"), clock_.Now()))["command"],
            "ACCEPTED");
  core::protocol::Message deliver = second->Expect(Command::kDeliver);
  EXPECT_FALSE(first->Receive(std::chrono::milliseconds(300)).has_value());

  // A HELLO on the replaced connection takes the session back; what was in flight goes again.
  first->Hello();
  EXPECT_EQ(second->Expect(Command::kError).object["code"], "SESSION_REPLACED");
  core::protocol::Message again = first->Expect(Command::kDeliver);
  EXPECT_EQ(again.arguments[1], deliver.arguments[1]);
  first->AcknowledgeDelivery(again, county_.Get("flen.social").keys, "flen.social");
  EXPECT_EQ(school->Expect(Command::kReceipt).object["status"], "delivered");
}

// Issue 14, item 16: a row of an endpoint that never connected had no in_flight field.
TEST_F(BrokerTest, EveryStatusRowCarriesInFlight) {
  auto school = Connect("flen.school");
  school->Hello();
  nlohmann::json status = Connect("operator")->Query({{"op", "status"}});
  ASSERT_GE(status["endpoints"].size(), 2u) << status.dump();
  for (const nlohmann::json& row : status["endpoints"]) {
    ASSERT_TRUE(row.contains("in_flight")) << row.dump();
    EXPECT_EQ(row["in_flight"], 0) << row.dump();
  }
}

TEST_F(BrokerTest, StoresAndForwardsToAnEndpointThatConnectsAnHourLater) {
  auto school = Connect("flen.school");
  school->Hello();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(school->Publish(
                  Seal(county_, Concern("later-" + std::to_string(i)), clock_.Now()))["command"],
              "ACCEPTED");
  }
  Advance(3600 * kSecond, *school);
  EXPECT_EQ(QueueDepth("flen.social"), 5u);
  auto social = Connect("flen.social");
  social->Hello();
  for (int i = 0; i < 5; ++i) {
    core::protocol::Message deliver = social->Expect(Command::kDeliver);
    core::Result<core::Header> header = core::ParseHeader(deliver.arguments[1]);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->message_id, "later-" + std::to_string(i)) << "delivered in order";
    social->AcknowledgeDelivery(deliver, county_.Get("flen.social").keys, "flen.social");
  }
  for (int i = 0; i < 5; ++i) school->Expect(Command::kReceipt);
  EXPECT_EQ(QueueDepth("flen.social"), 0u);
}

// Regression (2a39e04): a queue longer than the credit window stalled after the first window.
TEST_F(BrokerTest, AQueueLongerThanTheCreditWindowDrainsInOrder) {
  auto school = Connect("flen.school");
  school->Hello();
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(school->Publish(
                  Seal(county_, Concern("window-" + std::to_string(i)), clock_.Now()))["command"],
              "ACCEPTED");
  }
  auto social = Connect("flen.social");
  social->Hello(/*credit=*/3);
  for (int i = 0; i < 10; ++i) {
    core::protocol::Message deliver = social->Expect(Command::kDeliver);
    core::Result<core::Header> header = core::ParseHeader(deliver.arguments[1]);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->message_id, "window-" + std::to_string(i));
    social->AcknowledgeDelivery(deliver, county_.Get("flen.social").keys, "flen.social");
  }
  EXPECT_EQ(QueueDepth("flen.social"), 0u);
}

TEST_F(BrokerTest, ARetryWithTheSameIdIsAcceptedOnceAndDeliveredOnce) {
  auto school = Connect("flen.school");
  school->Hello();
  core::Envelope envelope = Seal(county_, Concern("retry-1"), clock_.Now());
  nlohmann::json first = school->Publish(envelope);
  ASSERT_EQ(first["command"], "ACCEPTED");
  // A retry resends the journalled envelope: the same bytes, the same id.
  nlohmann::json second = school->Publish(envelope);
  ASSERT_EQ(second["command"], "ACCEPTED");
  EXPECT_EQ(second["duplicate"], true);
  EXPECT_EQ(second["seq"], first["seq"]);
  EXPECT_EQ(QueueDepth("flen.social"), 1u);
  auto social = Connect("flen.social");
  social->Hello();
  core::protocol::Message deliver = social->Expect(Command::kDeliver);
  EXPECT_EQ(deliver.arguments[1], envelope.header_bytes) << "the first envelope is delivered";
  social->AcknowledgeDelivery(deliver, county_.Get("flen.social").keys, "flen.social");
  school->Expect(Command::kReceipt);
  EXPECT_EQ(QueueDepth("flen.social"), 0u);
}

// Issue 14, item 1: a different envelope under an accepted id was answered ACCEPTED
// {"duplicate":true} and silently dropped. Now only a byte-identical resend is a retry.
TEST_F(BrokerTest, ADifferentMessageUnderAnAcceptedIdIsRefusedAsDuplicate) {
  auto school = Connect("flen.school");
  school->Hello();
  core::Envelope original = Seal(county_, Concern("used-id"), clock_.Now());
  nlohmann::json first = school->Publish(original);
  ASSERT_EQ(first["command"], "ACCEPTED");
  MessageSpec other_payload = Concern("used-id");
  other_payload.body_text = "Ett annat dokument under samma id.";
  MessageSpec other_recipient = Concern("used-id");
  other_recipient.to = {"region.health"};
  for (const MessageSpec& spec : {Concern("used-id"), other_payload, other_recipient}) {
    nlohmann::json answer = school->Publish(Seal(county_, spec, clock_.Now()));
    EXPECT_EQ(answer["command"], "REFUSED") << answer.dump();
    EXPECT_EQ(answer["code"], "DUPLICATE") << answer.dump();
  }
  nlohmann::json resend = school->Publish(original);
  EXPECT_EQ(resend["command"], "ACCEPTED");
  EXPECT_EQ(resend["duplicate"], true);
  EXPECT_EQ(resend["seq"], first["seq"]);
  // The original is untouched and delivered once; the refusals are audited against the id.
  EXPECT_EQ(QueueDepth("flen.social"), 1u);
  EXPECT_EQ(QueueDepth("region.health"), 0u);
  auto social = Connect("flen.social");
  social->Hello();
  core::protocol::Message deliver = social->Expect(Command::kDeliver);
  EXPECT_EQ(deliver.arguments[1], original.header_bytes);
  EXPECT_EQ(deliver.arguments[3], original.payload);
  auto operator_client = Connect("operator");
  nlohmann::json track = operator_client->Query({{"op", "track"}, {"message_id", "used-id"}});
  EXPECT_EQ(track["status"], "accepted");
  EXPECT_EQ(track["to"], nlohmann::json::array({"flen.social"}));
  size_t refused = 0;
  for (const nlohmann::json& event : track["events"]) {
    if (event["event"] == "refused" && event["code"] == "DUPLICATE") ++refused;
  }
  EXPECT_EQ(refused, 3u) << track.dump();
}

TEST_F(BrokerTest, AnotherSenderCannotTakeAnAcceptedId) {
  auto school = Connect("flen.school");
  school->Hello();
  ASSERT_EQ(school->Publish(Seal(county_, Concern("taken"), clock_.Now()))["command"], "ACCEPTED");
  auto health = Connect("region.health");
  health->Hello();
  MessageSpec spec = Concern("taken");
  spec.from = "region.health";
  nlohmann::json answer = health->Publish(Seal(county_, spec, clock_.Now()));
  EXPECT_EQ(answer["command"], "REFUSED");
  EXPECT_EQ(answer["code"], "DUPLICATE");
}

TEST_F(BrokerTest, AnUndeliveredMessageExpiresWithAReceiptToTheSender) {
  auto school = Connect("flen.school");
  school->Hello();
  MessageSpec spec = Concern("short-lived");
  spec.ttl = 60 * kSecond;
  ASSERT_EQ(school->Publish(Seal(county_, spec, clock_.Now()))["command"], "ACCEPTED");
  Advance(61 * kSecond, *school);
  core::protocol::Message receipt = school->Expect(Command::kReceipt);
  EXPECT_EQ(receipt.object["message_id"], "short-lived");
  EXPECT_EQ(receipt.object["status"], "expired");
  EXPECT_EQ(receipt.object["code"], "EXPIRED");
  EXPECT_EQ(QueueDepth("flen.social"), 0u);
  auto social = Connect("flen.social");
  social->Hello();
  EXPECT_EQ(QueueDepth("flen.social"), 0u) << "nothing is delivered after expiry";
}

// Issue 16, item 5: retention. A finished message's state and dead letters go a grace period
// after its expiry, once the sender holds every receipt; one `retention` audit record says what
// went; the log keeps the messages' own records, so the id stays taken, `track` still answers,
// and feedback on a report whose state is gone is still checked against it.
TEST_F(BrokerTest, RetentionRemovesFinishedMessagesStatesAfterTheirGraceAndAuditsIt) {
  broker_.reset();
  BrokerConfig config = TestBrokerConfig(county_, dir_.path() / "retention");
  config.retention_grace_seconds = 60;
  broker_ = std::make_unique<BrokerProcess>(config, &clock_, nullptr, false);
  auto school = Connect("flen.school");
  school->Hello();
  auto social = Connect("flen.social");
  social->Hello();
  auto ack_receipt = [&](const std::string& message_id) {
    core::protocol::Message receipt = school->Expect(Command::kReceipt);
    // unacked-1's receipt, never acknowledged, comes again on redelivery: not this one.
    while (receipt.object["message_id"] == "unacked-1" && message_id != "unacked-1") {
      receipt = school->Expect(Command::kReceipt);
    }
    ASSERT_EQ(receipt.object["message_id"], message_id) << receipt.object.dump();
    school->SendCommand(Command::kAck,
                        {nlohmann::json({{"delivery", receipt.object["delivery"]}}).dump()});
  };
  // Delivered, its receipt acknowledged.
  MessageSpec delivered = Concern("done-1");
  delivered.ttl = 60 * kSecond;
  ASSERT_EQ(school->Publish(Seal(county_, delivered, clock_.Now()))["command"], "ACCEPTED");
  social->AcknowledgeDelivery(social->Expect(Command::kDeliver), county_.Get("flen.social").keys,
                              "flen.social");
  ack_receipt("done-1");
  // Delivered, its receipt never acknowledged: kept.
  MessageSpec unacknowledged = Concern("unacked-1");
  unacknowledged.ttl = 60 * kSecond;
  ASSERT_EQ(school->Publish(Seal(county_, unacknowledged, clock_.Now()))["command"], "ACCEPTED");
  social->AcknowledgeDelivery(social->Expect(Command::kDeliver), county_.Get("flen.social").keys,
                              "flen.social");
  EXPECT_EQ(school->Expect(Command::kReceipt).object["message_id"], "unacked-1");
  // Expired while its recipient is away: a dead letter.
  social.reset();
  MessageSpec expired = Concern("expired-1");
  expired.ttl = 60 * kSecond;
  core::Envelope expiring = Seal(county_, expired, clock_.Now());
  nlohmann::json answer = school->Publish(expiring);
  ASSERT_EQ(answer["command"], "ACCEPTED") << answer.dump();

  Advance(61 * kSecond, *school);  // expired-1 expires; nothing is past its grace yet
  ack_receipt("expired-1");
  auto operator_client = Connect("operator");
  operator_client->Query({{"op", "status"}});  // after the pending cycle's commit
  store::BrokerStore& store = broker_->broker().store();
  ASSERT_TRUE(store.GetMessageState("done-1")->has_value()) << "within its grace period";
  ASSERT_TRUE(store.GetDeadLetter("expired-1", "flen.social")->has_value());

  Advance(61 * kSecond, *school);  // past expiry + grace for all three
  operator_client->Query({{"op", "status"}});
  EXPECT_FALSE(store.GetMessageState("done-1")->has_value());
  EXPECT_FALSE(store.GetMessageState("expired-1")->has_value());
  EXPECT_FALSE(store.GetDeadLetter("expired-1", "flen.social")->has_value());
  EXPECT_TRUE(store.GetMessageState("unacked-1")->has_value())
      << "a receipt the sender has not taken keeps its message";

  // One audit record for the pass, naming what went and the acceptances' range.
  std::vector<nlohmann::json> retention;
  ASSERT_TRUE(store
                  .ScanAudit(0,
                             [&](uint64_t, std::string_view leaf) {
                               nlohmann::json record = nlohmann::json::parse(leaf);
                               if (record["event"] == "retention") retention.push_back(record);
                               return true;
                             })
                  .ok());
  ASSERT_EQ(retention.size(), 1u);
  EXPECT_EQ(retention[0]["retention"]["removed"], "message_states");
  EXPECT_EQ(retention[0]["retention"]["messages"], 2);
  EXPECT_EQ(retention[0]["retention"]["dead_letters"], 1);
  EXPECT_EQ(retention[0]["retention"]["grace_seconds"], 60);
  EXPECT_LT(retention[0]["retention"]["accepted_seq_from"].get<uint64_t>(),
            retention[0]["retention"]["accepted_seq_to"].get<uint64_t>());
  EXPECT_EQ(retention[0]["subject"], "") << "no child in it";
  std::string metrics = broker_->broker().metrics().Render();
  EXPECT_NE(metrics.find("stafett_retention_removed_total{what=\"message_state\"} 2\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("stafett_retention_removed_total{what=\"dead_letter\"} 1\n"),
            std::string::npos);

  // `track` answers from the log, saying the state went by policy.
  nlohmann::json track = operator_client->Query({{"op", "track"}, {"message_id", "done-1"}});
  EXPECT_EQ(track["status"], "delivered") << track.dump();
  EXPECT_EQ(track["state_removed"], "retention");
  EXPECT_EQ(track["recipients"]["flen.social"], "delivered");
  EXPECT_EQ(track["type"], "concern_report");
  nlohmann::json gone = operator_client->Query({{"op", "track"}, {"message_id", "expired-1"}});
  EXPECT_EQ(gone["status"], "expired") << gone.dump();
  EXPECT_EQ(gone["recipients"]["flen.social"], "expired");

  // The id stays taken: a new message under it is refused, audited.
  MessageSpec reuse = Concern("done-1");
  answer = school->Publish(Seal(county_, reuse, clock_.Now()));
  EXPECT_EQ(answer["command"], "REFUSED");
  EXPECT_EQ(answer["code"], "DUPLICATE") << answer.dump();

  // Feedback on the report whose state is gone is checked against its acceptance in the log:
  // from its recipient back to its reporter it is accepted, from anyone else refused.
  MessageSpec feedback;
  feedback.message_id = "feedback-1";
  feedback.type = "concern_feedback";
  feedback.from = "flen.social";
  feedback.to = {"flen.school"};
  feedback.ref = "done-1";
  social = Connect("flen.social");
  social->Hello();
  answer = social->Publish(Seal(county_, feedback, clock_.Now()));
  EXPECT_EQ(answer["command"], "ACCEPTED") << answer.dump();
  auto health = Connect("region.health");
  health->Hello();
  MessageSpec stranger = feedback;
  stranger.message_id = "feedback-2";
  stranger.from = "region.health";
  answer = health->Publish(Seal(county_, stranger, clock_.Now()));
  EXPECT_EQ(answer["command"], "REFUSED") << answer.dump();
}

// Issue 20: the console's queues view. What waits (oldest first, with its state) and what
// ended without delivery (newest first, with its code), metadata only, bounded by a limit.
TEST_F(BrokerTest, TheQueuesQueryListsWhatWaitsAndWhatEndedWithoutDelivery) {
  auto school = Connect("flen.school");
  school->Hello();
  ASSERT_EQ(school->Publish(Seal(county_, Concern("waits-1"), clock_.Now()))["command"],
            "ACCEPTED");
  MessageSpec short_lived = Concern("short-1");
  short_lived.ttl = 60 * kSecond;
  ASSERT_EQ(school->Publish(Seal(county_, short_lived, clock_.Now()))["command"], "ACCEPTED");
  MessageSpec no_consent = Concern("refused-1");
  no_consent.type = "support_request";  // without a consent
  ASSERT_EQ(school->Publish(Seal(county_, no_consent, clock_.Now()))["code"], "CONSENT_REQUIRED");
  Advance(30 * kSecond, *school);
  ASSERT_EQ(school->Publish(Seal(county_, Concern("waits-2"), clock_.Now()))["command"],
            "ACCEPTED");
  Advance(31 * kSecond, *school);  // short-1 expires
  EXPECT_EQ(school->Expect(Command::kReceipt).object["status"], "expired");

  auto operator_client = Connect("operator");
  nlohmann::json answer = operator_client->Query({{"op", "queues"}});
  ASSERT_EQ(answer["ok"], true) << answer.dump();
  nlohmann::json social;
  for (const nlohmann::json& row : answer["endpoints"]) {
    if (row["id"] == "flen.social") social = row;
  }
  ASSERT_TRUE(social.is_object()) << answer.dump();
  EXPECT_EQ(social["connected"], false);
  EXPECT_EQ(social["queue_depth"], 2);
  ASSERT_EQ(social["waiting"].size(), 2u) << social.dump();
  EXPECT_EQ(social["waiting"][0]["message_id"], "waits-1") << "oldest first";
  EXPECT_EQ(social["waiting"][0]["type"], "concern_report");
  EXPECT_EQ(social["waiting"][0]["from"], "flen.school");
  EXPECT_EQ(social["waiting"][0]["state"], "queued");
  EXPECT_DOUBLE_EQ(social["waiting"][0]["age_seconds"].get<double>(), 61.0);
  EXPECT_EQ(social["waiting"][1]["message_id"], "waits-2");
  EXPECT_EQ(social["truncated"], false);

  ASSERT_EQ(answer["ended"].size(), 2u) << answer.dump();
  EXPECT_EQ(answer["ended"][0]["message_id"], "short-1") << "newest first";
  EXPECT_EQ(answer["ended"][0]["event"], "expired");
  EXPECT_EQ(answer["ended"][0]["code"], "EXPIRED");
  EXPECT_EQ(answer["ended"][0]["to"], nlohmann::json::array({"flen.social"}));
  EXPECT_EQ(answer["ended"][1]["message_id"], "refused-1");
  EXPECT_EQ(answer["ended"][1]["event"], "refused");
  EXPECT_EQ(answer["ended"][1]["code"], "CONSENT_REQUIRED");
  EXPECT_EQ(answer["ended_truncated"], false);
  // Metadata only: no pseudonym, no consent.
  EXPECT_EQ(answer.dump().find(PseudonymOf(county_, "19121212-1212")), std::string::npos);
  EXPECT_EQ(answer.dump().find("subject"), std::string::npos);

  // Bounded: LIMIT entries per queue and LIMIT ended, saying so.
  nlohmann::json one = operator_client->Query({{"op", "queues"}, {"limit", 1}});
  ASSERT_EQ(one["ended"].size(), 1u) << one.dump();
  EXPECT_EQ(one["ended"][0]["message_id"], "short-1");
  EXPECT_EQ(one["ended_truncated"], true);
  for (const nlohmann::json& row : one["endpoints"]) {
    if (row["id"] != "flen.social") continue;
    ASSERT_EQ(row["waiting"].size(), 1u);
    EXPECT_EQ(row["truncated"], true);
  }

  // Once social services connects, what it was sent and has not answered is in flight.
  auto social_client = Connect("flen.social");
  social_client->Hello();
  social_client->Expect(Command::kDeliver);
  nlohmann::json health = operator_client->Query({{"op", "queues"}, {"endpoint", "flen.social"}});
  ASSERT_EQ(health["endpoints"].size(), 1u) << health.dump();
  EXPECT_EQ(health["endpoints"][0]["connected"], true);
  EXPECT_EQ(health["endpoints"][0]["waiting"][0]["state"], "in_flight") << health.dump();
  EXPECT_TRUE(health["endpoints"][0]["waiting"][0]["sent_at"].is_string());
  EXPECT_EQ(health["ended"].size(), 2u) << "both ended to flen.social";
  nlohmann::json other = operator_client->Query({{"op", "queues"}, {"endpoint", "region.health"}});
  ASSERT_EQ(other["endpoints"].size(), 1u) << other.dump();
  EXPECT_EQ(other["endpoints"][0]["waiting"].size(), 0u);
  EXPECT_EQ(other["ended"].size(), 0u) << "nothing ended from or to region.health";
  EXPECT_EQ(operator_client->Query({{"op", "queues"}, {"endpoint", "nowhere.unit"}})["code"],
            "NOT_FOUND");
  EXPECT_EQ(school->Query({{"op", "queues"}})["code"], "FORBIDDEN");
}

// Issue 20: the console's health view. The status answer and /metrics carry the commit errors,
// the disk headroom and the latest signed tree head.
TEST_F(BrokerTest, StatusAndMetricsCarryCommitErrorsHeadroomAndTheTreeHead) {
  auto school = Connect("flen.school");
  school->Hello();
  ASSERT_EQ(school->Publish(Seal(county_, Concern("head-1"), clock_.Now()))["command"], "ACCEPTED");
  Advance(3 * kSecond, *school);  // past tree_head_seconds: a head over the acceptance
  Advance(5 * kSecond, *school);  // idle: no new head, it ages
  nlohmann::json status = Connect("operator")->Query({{"op", "status"}});
  ASSERT_TRUE(status["tree_head"].is_object()) << status.dump();
  EXPECT_EQ(status["tree_head"]["tree_size"], status["audit_size"]) << status.dump();
  EXPECT_EQ(status["tree_head"]["unsigned_records"], 0);
  EXPECT_GE(status["tree_head"]["age_seconds"].get<double>(), 5.0) << status.dump();
  EXPECT_TRUE(status["tree_head"]["signed_at"].is_string());
  EXPECT_EQ(status["storage"]["commit_errors"], nlohmann::json::object()) << status.dump();
  EXPECT_GT(status["storage"]["free_bytes"].get<uint64_t>(), 0u);

  std::string metrics = broker_->broker().metrics().Render();
  for (const char* series :
       {"stafett_storage_commit_errors_total{code=\"IO_ERROR\"} 0\n",
        "stafett_storage_commit_errors_total{code=\"STORAGE_FULL\"} 0\n",
        "\nstafett_storage_free_bytes ", "\nstafett_storage_min_free_bytes ",
        "\nstafett_audit_tree_head_age_seconds ", "\nstafett_audit_unsigned_records 0\n"}) {
    EXPECT_NE(metrics.find(series), std::string::npos) << series << "\n" << metrics;
  }
}

TEST_F(BrokerTest, AStrangersKeyIsRefusedAtTheHandshake) {
  keys::KeySet stranger = county_.Stranger();
  TestClient client(broker_->endpoint(), stranger, county_.Get("broker").keys);
  client.SendCommand(Command::kHello, {"{}"});
  EXPECT_TRUE(client.HandshakeFailedAuth(std::chrono::seconds(10)));
  auto school = Connect("flen.school");
  school->Hello();
  EXPECT_TRUE(AuthFailuresReach(1, *school));
}

// Issue 14, item 16: a plain-text (NULL) client and one that encrypts to another server key
// fail before the ZAP handler is asked; they were not counted (the metric stayed 0).
TEST_F(BrokerTest, NullAndWrongServerKeyHandshakesCountAsAuthFailures) {
  auto school = Connect("flen.school");
  school->Hello();
  ASSERT_FALSE(AuthFailuresReach(1, *school, std::chrono::milliseconds(300)));
  {
    // A fresh plain-text connection per attempt: in about one run in three here a first one
    // was not refused within 10 s (not found why; a new connection then is).
    zmq::context_t context;
    bool counted = false;
    for (int attempt = 0; attempt < 5 && !counted; ++attempt) {
      zmq::socket_t plain(context, zmq::socket_type::dealer);
      plain.set(zmq::sockopt::linger, 0);
      plain.connect(broker_->endpoint());
      plain.send(zmq::str_buffer("HELLO"), zmq::send_flags::dontwait);
      counted = AuthFailuresReach(1, *school, std::chrono::seconds(3));
    }
    EXPECT_TRUE(counted) << "a NULL handshake";
  }
  uint64_t after_null = AuthFailures();
  {
    // A known client key, but the HELLO is encrypted to a key that is not the broker's.
    TestClient wrong_server(broker_->endpoint(), county_.Get("flen.school").keys,
                            county_.Stranger());
    wrong_server.SendCommand(Command::kHello, {"{}"});
    EXPECT_TRUE(AuthFailuresReach(after_null + 1, *school)) << "a wrong server key";
  }
}

TEST_F(BrokerTest, ASpoofedSenderIsRefused) {
  auto school = Connect("flen.school");
  school->Hello();
  MessageSpec spec = Concern("spoof");
  spec.from = "region.health";  // signed with health's key, sent over school's connection
  nlohmann::json answer = school->Publish(Seal(county_, spec, clock_.Now()));
  EXPECT_EQ(answer["command"], "REFUSED");
  EXPECT_EQ(answer["code"], "SPOOFED_SENDER");
  EXPECT_EQ(QueueDepth("flen.social"), 0u);
}

TEST_F(BrokerTest, ATamperedHeaderOrPayloadIsRefused) {
  auto school = Connect("flen.school");
  school->Hello();
  core::Envelope envelope = Seal(county_, Concern("tampered"), clock_.Now());
  core::Envelope bad_payload = envelope;
  bad_payload.payload[bad_payload.payload.size() / 2] ^= 0x01;
  EXPECT_EQ(school->Publish(bad_payload)["code"], "BAD_SIGNATURE");
  core::Envelope bad_signature = envelope;
  bad_signature.signature[3] ^= 0x01;
  EXPECT_EQ(school->Publish(bad_signature)["code"], "BAD_SIGNATURE");
  EXPECT_EQ(QueueDepth("flen.social"), 0u);
}

TEST_F(BrokerTest, GarbageFromAnAuthenticatedPeerIsAnsweredWithoutHarm) {
  auto school = Connect("flen.school");
  school->Hello();
  const std::vector<std::vector<std::string>> garbage = {
      {"hello"},
      {"STF2", "HELLO", "{}"},
      {"STF1", "NOPE"},
      {"STF1", "PUBLISH", "x"},
      {"STF1", "PUBLISH", "not json", std::string(64, 'x'), "payload"},
      {"STF1", "DELIVERED", "{\"delivery\": \"nine\"}"},
      {"STF1", "ACK", "{\"delivery\": 123456}"},
      {"STF1", "QUERY", "{\"op\": \"trail\", \"subject\": \"x\"}"},
      std::vector<std::string>(40, "STF1"),
      {"STF1", "HELLO", std::string("\xff\xfe\x00", 3)},
  };
  for (const auto& frames : garbage) school->Send(frames);
  int answers = 0;
  while (std::optional<core::protocol::Message> message =
             school->Receive(std::chrono::seconds(2))) {
    EXPECT_TRUE(message->command == Command::kError || message->command == Command::kRefused ||
                message->command == Command::kResult)
        << core::protocol::CommandName(message->command);
    if (++answers == 9) break;
  }
  // Acknowledgements of unknown deliveries are idempotent no-ops; everything else is answered
  // (a DELIVERED whose fields do not parse too: PROTOCOL_ERROR naming the field).
  EXPECT_EQ(answers, 9);
  // Still serving.
  EXPECT_EQ(school->Hello()["principal"], "flen.school");
  EXPECT_EQ(school->Publish(Seal(county_, Concern("after-garbage"), clock_.Now()))["command"],
            "ACCEPTED");
}

TEST_F(BrokerTest, OperatorsMayNotReadTrailsAndEndpointsMayNotQueryStatus) {
  auto operator_client = Connect("operator");
  EXPECT_EQ(operator_client->Query({{"op", "trail"}, {"endpoint", "flen.school"}})["code"],
            "FORBIDDEN");
  auto school = Connect("flen.school");
  EXPECT_EQ(school->Query({{"op", "status"}})["code"], "FORBIDDEN");
}

TEST_F(BrokerTest, NothingPersonalReachesTheBrokersDisk) {
  auto school = Connect("flen.school");
  school->Hello();
  MessageSpec spec = Concern("private");
  spec.body_text = "Kalle Anka har berättat om oro hemma.";
  ASSERT_EQ(school->Publish(Seal(county_, spec, clock_.Now()))["command"], "ACCEPTED");
  broker_->Stop();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path() / "data")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("19121212"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("121212-1212"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("Kalle Anka"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace stafett::broker::testing
