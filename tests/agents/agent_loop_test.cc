// Agent loop against an in-process fake broker (a CURVE ROUTER speaking STF1): two real Agent
// instances hand a concern report over — HELLO/WELCOME, PUBLISH/ACCEPTED, DELIVER/DELIVERED
// with a receipt signature that verifies, RECEIPT/ACK (a delivered receipt counts at the
// sender only with the recipient's signature) — and a redelivery is acknowledged without a
// second inbox write. The real broker is exercised by tests/integration/agent_*.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "agent.h"
#include "document.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"
#include "stafett/core/personnummer.h"
#include "stafett/core/protocol.h"
#include "stafett/core/pseudonym.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"
#include "support/http_client.h"
#include "support/sandbox_files.h"

namespace stafett::agent {
namespace {

namespace protocol = core::protocol;
using std::chrono::seconds;

struct TestPrincipal {
  std::string id;
  keys::Role role = keys::Role::kEndpoint;
  std::string kind;
  keys::KeySet keys;
  std::string key_id() const { return keys.key_id; }
};

TestPrincipal MakePrincipal(const std::string& id, keys::Role role, const std::string& kind) {
  core::Micros now = core::SystemClock::Instance().Now();
  core::Result<keys::KeySet> set =
      keys::GenerateKeySet(id, now - 3600'000'000LL, now + 365LL * 86400'000'000LL);
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return TestPrincipal{id, role, kind, std::move(set).value()};
}

void WriteText(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

class FakeBroker {
 public:
  explicit FakeBroker(const TestPrincipal& broker) : socket_(context_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::curve_server, 1);
    socket_.set(zmq::sockopt::curve_secretkey,
                zmq::const_buffer(broker.keys.transport.secret_key.data(), 32));
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }
  const std::string& endpoint() const { return endpoint_; }

  // The next message from any peer within TIMEOUT: {routing id, decoded message}.
  std::optional<std::pair<std::string, protocol::Message>> Receive(
      std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(50)) == 0) continue;
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(socket_, std::back_inserter(parts))) continue;
      std::vector<std::string> frames;
      for (size_t i = 1; i < parts.size(); ++i) frames.push_back(parts[i].to_string());
      core::Result<protocol::Message> message = protocol::Decode(frames);
      if (!message.ok()) continue;
      return std::make_pair(parts[0].to_string(), std::move(message).value());
    }
    return std::nullopt;
  }
  // Skips heartbeats, and answers the consent rebuild an agent asks for after WELCOME (QUERY
  // party_consents: no consents) as a broker would.
  std::optional<std::pair<std::string, protocol::Message>> ReceiveCommand(
      std::chrono::milliseconds timeout) {
    for (;;) {
      auto got = Receive(timeout);
      if (got && got->second.command == protocol::Command::kQuery &&
          got->second.object.value("op", "") == "party_consents") {
        Send(got->first, protocol::Command::kResult,
             {nlohmann::json({{"id", got->second.object["id"]},
                              {"ok", true},
                              {"consents", nlohmann::json::array()},
                              {"next_cursor", nullptr}})
                  .dump()});
        continue;
      }
      if (!got || got->second.command != protocol::Command::kHeartbeat) return got;
    }
  }
  void Send(const std::string& routing_id, protocol::Command command,
            std::vector<std::string> arguments) {
    std::vector<std::string> frames = protocol::Encode(command, std::move(arguments));
    socket_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
    for (size_t i = 0; i < frames.size(); ++i) {
      socket_.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::string endpoint_;
};

class AgentLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = MakePrincipal("broker", keys::Role::kBroker, "");
    school_ = MakePrincipal("flen.school", keys::Role::kEndpoint, "school");
    social_ = MakePrincipal("flen.social", keys::Role::kEndpoint, "social");
    health_ = MakePrincipal("region.health", keys::Role::kEndpoint, "health");
    fake_ = std::make_unique<FakeBroker>(broker_);
    std::string root = dir_.path();
    keys::TrustDirectory directory;
    directory.set_county("test");
    for (const TestPrincipal* principal : {&broker_, &school_, &social_, &health_}) {
      keys::Principal entry;
      entry.id = principal->id;
      entry.role = principal->role;
      entry.kind = principal->kind;
      if (principal->role == keys::Role::kEndpoint) {
        entry.municipality = principal == &health_ ? "region" : "flen";
      }
      ASSERT_TRUE(directory.AddPrincipal(entry, principal->keys).ok());
    }
    ASSERT_TRUE(directory.Save(root + "/directory.json").ok());
    WriteText(root + "/pseudonym.key", pseudonym_key_.ToHex() + "\n");
    int base = testing::FindFreePortRange(2);
    ASSERT_GT(base, 0);
    for (const TestPrincipal* principal : {&school_, &social_}) {
      std::string home = root + "/" + principal->id;
      std::filesystem::create_directories(home + "/keys");
      ASSERT_TRUE(keys::WriteKeySet(principal->keys, home + "/keys").ok());
      std::string http = "127.0.0.1:" + std::to_string(principal == &school_ ? base : base + 1);
      https_[principal->id] = http;
      WriteText(home + "/agent.toml",
                "[agent]\nid = \"" + principal->id + "\"\nbroker_zmq = \"" + fake_->endpoint() +
                    "\"\nhttp_bind = \"" + http +
                    "\"\ntrust_directory = \"../directory.json\"\npseudonym_key = "
                    "\"../pseudonym.key\"\n[log]\nlevel = \"warn\"\n",
                0644);
    }
  }

  std::unique_ptr<Agent> StartAgent(const TestPrincipal& principal) {
    core::Result<AgentConfig> config =
        LoadAgentConfig(dir_.path() + "/" + principal.id + "/agent.toml");
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    configs_.push_back(std::make_unique<AgentConfig>(*config));
    core::Result<std::unique_ptr<Agent>> agent =
        Agent::Create(*configs_.back(), core::SystemClock::Instance());
    EXPECT_TRUE(agent.ok()) << agent.status().ToString();
    EXPECT_TRUE((*agent)->Start().ok());
    return std::move(agent).value();
  }

  // Waits for HELLO and answers WELCOME; returns the peer's routing id.
  std::string Welcome() {
    auto hello = fake_->ReceiveCommand(std::chrono::seconds(10));
    EXPECT_TRUE(hello && hello->second.command == protocol::Command::kHello);
    if (!hello) return "";
    EXPECT_EQ(hello->second.object.value("credit", 0), 64);
    fake_->Send(hello->first, protocol::Command::kWelcome,
                {nlohmann::json({{"protocol", 1},
                                 {"principal", "x"},
                                 {"credit_window", 64},
                                 {"max_message_bytes", 9437184},
                                 {"heartbeat_seconds", 5}})
                     .dump()});
    return hello->first;
  }

  // An envelope from the school to social services, sealed and signed as a (compromised) school
  // could: the header says HEADER_NUMBER's child and REF, the encrypted payload says
  // PAYLOAD_NUMBER's child and BODY.
  core::Envelope Forge(const std::string& message_id, const std::string& type,
                       const std::string& header_number, const std::string& payload_number,
                       const std::string& ref, const nlohmann::json& body) {
    core::Micros now = core::SystemClock::Instance().Now();
    core::Header header;
    header.message_id = message_id;
    header.type = type;
    header.from = school_.id;
    header.to = {social_.id};
    header.subject =
        core::Pseudonymise(pseudonym_key_, core::ParsePersonnummer(header_number, now).value());
    header.ref = ref;
    header.sent_at = now;
    header.expires_at = now + 3600'000'000LL;
    header.sender_key_id = school_.key_id();
    nlohmann::json plaintext = {{"v", 1}, {"personnummer", payload_number}, {"body", body}};
    core::Result<core::Envelope> sealed =
        core::SealEnvelope(header, plaintext.dump(), school_.keys.signing,
                           {{social_.id, social_.key_id(), social_.keys.encryption.public_key}});
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }

  testing::TempDir dir_;
  core::PseudonymKey pseudonym_key_ = core::PseudonymKey::Generate();
  // From the school to TO under CONSENT_ID (and SCOPE on a consent_granted), as a school that
  // the (fake) broker does not check could send it.
  core::Envelope ForgeRouted(const std::string& message_id, const std::string& type,
                             const std::vector<std::string>& to, const std::string& consent_id,
                             const std::optional<core::ConsentScope>& scope,
                             const nlohmann::json& body) {
    core::Micros now = core::SystemClock::Instance().Now();
    core::Header header;
    header.message_id = message_id;
    header.type = type;
    header.from = school_.id;
    header.to = to;
    header.subject =
        core::Pseudonymise(pseudonym_key_, core::ParsePersonnummer(kChild, now).value());
    header.consent_id = consent_id;
    header.consent = scope;
    header.sent_at = now;
    header.expires_at = now + 3600'000'000LL;
    header.sender_key_id = school_.key_id();
    nlohmann::json plaintext = {{"v", 1}, {"personnummer", kChild}, {"body", body}};
    std::vector<core::RecipientKey> recipients;
    for (const std::string& id : to) {
      // Every recipient gets a wrapped key; one outside the directory gets health's.
      const TestPrincipal& keys = id == social_.id ? social_ : id == school_.id ? school_ : health_;
      recipients.push_back({id, keys.key_id(), keys.keys.encryption.public_key});
    }
    core::Result<core::Envelope> sealed =
        core::SealEnvelope(header, plaintext.dump(), school_.keys.signing, recipients);
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }

  // The body of the schema example NAME (schemas/examples/valid).
  static nlohmann::json ExampleBody(const std::string& name) {
    std::string text;
    EXPECT_TRUE(testing::ReadWholeFile(
        std::string(STAFETT_SOURCE_DIR) + "/schemas/examples/valid/" + name + ".json", &text));
    return nlohmann::json::parse(text, nullptr, false)["body"];
  }

  // DELIVER of ENVELOPE to social services; the command it answers.
  std::optional<protocol::Message> DeliverToSocial(const std::string& route,
                                                   const core::Envelope& envelope, int delivery) {
    fake_->Send(route, protocol::Command::kDeliver,
                {nlohmann::json({{"delivery", delivery}, {"attempt", 1}}).dump(),
                 envelope.header_bytes, envelope.signature, envelope.payload});
    auto answer = fake_->ReceiveCommand(std::chrono::seconds(10));
    if (!answer) return std::nullopt;
    return answer->second;
  }

  static constexpr char kChild[] = "19121212-1212";
  TestPrincipal broker_, school_, social_, health_;
  std::unique_ptr<FakeBroker> fake_;
  std::map<std::string, std::string> https_;
  std::vector<std::unique_ptr<AgentConfig>> configs_;
};

TEST_F(AgentLoopTest, HandsAReportOverAndAcknowledgesARedeliveryWithoutWriting) {
  std::unique_ptr<Agent> social = StartAgent(social_);
  std::string social_route = Welcome();
  std::unique_ptr<Agent> school = StartAgent(school_);
  std::string school_route = Welcome();

  nlohmann::json report = {{"message_id", "cr-1"},
                           {"type", "concern_report"},
                           {"to", {"flen.social"}},
                           {"subject", {{"personnummer", "19121212-1212"}}},
                           {"body", {{"description", "Frånvaro."}}}};
  std::string school_outbox = dir_.path() + "/flen.school/outbox";
  ASSERT_TRUE(testing::WriteFileByRename(school_outbox + "/cr.json", report.dump()));

  auto publish = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(publish);
  ASSERT_EQ(publish->second.command, protocol::Command::kPublish);
  EXPECT_EQ(publish->first, school_route);
  core::Envelope envelope{publish->second.arguments[0], publish->second.arguments[1],
                          publish->second.arguments[2]};
  core::Result<core::Header> header = core::ParseHeader(envelope.header_bytes);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->from, "flen.school");
  EXPECT_EQ(header->message_id, "cr-1");
  EXPECT_TRUE(core::VerifyEnvelope(envelope, *header, school_.keys.signing.public_key).ok());
  EXPECT_EQ(envelope.payload.find("1212"), std::string::npos);
  fake_->Send(school_route, protocol::Command::kAccepted,
              {nlohmann::json({{"message_id", "cr-1"}, {"seq", 1}, {"duplicate", false}}).dump()});
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return testing::ListNames(school_outbox + "/sent") == std::vector<std::string>{"cr.json"};
      },
      seconds(10)));

  nlohmann::json meta = {
      {"delivery", 7}, {"attempt", 1}, {"seq", 1}, {"accepted_at", "2026-11-23T08:00:00.000Z"}};
  nlohmann::json signed_receipt;  // the recipient's DELIVERED
  for (int attempt = 0; attempt < 2; ++attempt) {
    fake_->Send(social_route, protocol::Command::kDeliver,
                {meta.dump(), envelope.header_bytes, envelope.signature, envelope.payload});
    auto delivered = fake_->ReceiveCommand(std::chrono::seconds(10));
    ASSERT_TRUE(delivered);
    ASSERT_EQ(delivered->second.command, protocol::Command::kDelivered)
        << delivered->second.object.dump();
    const nlohmann::json& answer = delivered->second.object;
    EXPECT_EQ(answer.value("delivery", 0), 7);
    EXPECT_EQ(answer.value("receipt_key", ""), social_.key_id());
    EXPECT_TRUE(
        core::Verify(social_.keys.signing.public_key,
                     core::ReceiptSigningInput("cr-1", header->payload_digest, "flen.social"),
                     core::FromBase64(answer.value("receipt_signature", "")).value_or("")));
    signed_receipt = answer;
  }
  std::string inbox = dir_.path() + "/flen.social/inbox";
  EXPECT_EQ(testing::ListNames(inbox), std::vector<std::string>{"cr-1.json"});
  std::string text;
  ASSERT_TRUE(testing::ReadWholeFile(inbox + "/cr-1.json", &text));
  nlohmann::json written = nlohmann::json::parse(text);
  EXPECT_EQ(written["subject"]["personnummer"], "19121212-1212");
  EXPECT_EQ(written["body"]["description"], "Frånvaro.");
  testing::HttpResponse metrics = testing::HttpRequest(https_["flen.social"], "GET", "/metrics");
  EXPECT_NE(metrics.body.find("stafett_agent_inbox_writes_total 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("stafett_agent_inbox_duplicates_total 1"), std::string::npos);

  // A tampered delivery is rejected and not written.
  std::string tampered = envelope.payload;
  tampered[tampered.size() - 1] ^= 1;
  fake_->Send(social_route, protocol::Command::kDeliver,
              {nlohmann::json({{"delivery", 8}, {"attempt", 1}}).dump(), envelope.header_bytes,
               envelope.signature, tampered});
  auto rejected = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->second.command, protocol::Command::kRejected);
  EXPECT_EQ(rejected->second.object.value("code", ""), "BAD_SIGNATURE");

  // The receipt as the broker forwards it: first without the recipient's signature, then with a
  // signature of another message, then with the recipient's own. Only the last one counts.
  nlohmann::json receipt = {{"message_id", "cr-1"},
                            {"recipient", "flen.social"},
                            {"status", "delivered"},
                            {"time", "2026-11-23T08:00:01.000Z"},
                            {"seq", 2}};
  nlohmann::json wrong_message = receipt;
  wrong_message["receipt_key"] = social_.key_id();
  wrong_message["receipt_signature"] = core::ToBase64(
      core::Sign(social_.keys.signing,
                 core::ReceiptSigningInput("cr-2", header->payload_digest, "flen.social")));
  nlohmann::json genuine = receipt;
  genuine["receipt_key"] = signed_receipt["receipt_key"];
  genuine["receipt_signature"] = signed_receipt["receipt_signature"];
  uint64_t delivery = 9;
  for (const nlohmann::json* each : {&receipt, &wrong_message, &genuine}) {
    nlohmann::json frame = *each;
    frame["delivery"] = delivery;
    fake_->Send(school_route, protocol::Command::kReceipt, {frame.dump()});
    auto ack = fake_->ReceiveCommand(std::chrono::seconds(10));
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->second.command, protocol::Command::kAck);
    EXPECT_EQ(ack->second.object.value("delivery", 0), delivery);
    testing::HttpResponse status =
        testing::HttpRequest(https_["flen.school"], "GET", "/v1/messages/cr-1");
    EXPECT_EQ(status.status, 200);
    nlohmann::json body = nlohmann::json::parse(status.body, nullptr, false);
    bool last = each == &genuine;
    EXPECT_EQ(body.value("status", ""), last ? "delivered" : "accepted") << status.body;
    EXPECT_EQ(body.value("code", ""), last ? "" : "BAD_SIGNATURE") << status.body;
    EXPECT_EQ(
        std::filesystem::exists(dir_.path() + "/flen.school/inbox/receipt-cr-1-flen.social.json"),
        last);
    ++delivery;
  }
  testing::HttpResponse school_metrics =
      testing::HttpRequest(https_["flen.school"], "GET", "/metrics");
  EXPECT_NE(school_metrics.body.find("stafett_agent_receipts_invalid_total 2"), std::string::npos)
      << school_metrics.body;
  // A forged receipt after the verified one changes nothing.
  wrong_message["delivery"] = delivery;
  fake_->Send(school_route, protocol::Command::kReceipt, {wrong_message.dump()});
  auto ack = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->second.command, protocol::Command::kAck);
  testing::HttpResponse status =
      testing::HttpRequest(https_["flen.school"], "GET", "/v1/messages/cr-1");
  EXPECT_NE(status.body.find("\"delivered\""), std::string::npos) << status.body;
  school->Stop();
  social->Stop();
}

TEST_F(AgentLoopTest, RecipientRejectsAMessageUnderAConsentItDoesNotKnow) {
  std::unique_ptr<Agent> social = StartAgent(social_);
  std::string social_route = Welcome();
  std::unique_ptr<Agent> school = StartAgent(school_);
  std::string school_route = Welcome();
  // The fake broker does not check consent; the receiving agent must.
  nlohmann::json request = {{"message_id", "sr-1"},
                            {"type", "support_request"},
                            {"to", {"flen.social"}},
                            {"subject", {{"personnummer", "19121212-1212"}}},
                            {"consent_id", "consent-nobody-gave"},
                            {"body", {{"reason", "x"}}}};
  ASSERT_TRUE(
      testing::WriteFileByRename(dir_.path() + "/flen.school/outbox/sr.json", request.dump()));
  auto publish = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(publish && publish->second.command == protocol::Command::kPublish);
  fake_->Send(
      social_route, protocol::Command::kDeliver,
      {nlohmann::json({{"delivery", 3}, {"attempt", 1}}).dump(), publish->second.arguments[0],
       publish->second.arguments[1], publish->second.arguments[2]});
  auto rejected = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->second.command, protocol::Command::kRejected);
  EXPECT_EQ(rejected->second.object.value("code", ""), "CONSENT_REQUIRED");
  EXPECT_EQ(rejected->second.object.value("delivery", 0), 3);
  EXPECT_TRUE(testing::ListNames(dir_.path() + "/flen.social/inbox").empty());
  school->Stop();
  social->Stop();
}

TEST_F(AgentLoopTest, RecipientRejectsABodyThatContradictsItsSignedHeader) {
  std::unique_ptr<Agent> social = StartAgent(social_);
  std::string social_route = Welcome();
  struct Case {
    core::Envelope envelope;
    std::string why;
  };
  std::vector<Case> cases = {
      {Forge("cr-child", "concern_report", "19121212-1212", "20121212-1212", "",
             {{"description", "x"}}),
       "the payload names another child than the header"},
      {Forge("fb-ref", "concern_feedback", "19121212-1212", "19121212-1212", "cr-1",
             {{"report_message_id", "cr-other"}, {"outcome", "investigation_opened"}}),
       "the body references another report than the header"},
      {Forge("cr-shape", "concern_report", "19121212-1212", "19121212-1212", "",
             {{"reason", "a support request's body under a concern report's header"}}),
       "the body is not the header's type"}};
  int delivery = 10;
  for (const Case& forged : cases) {
    SCOPED_TRACE(forged.why);
    fake_->Send(social_route, protocol::Command::kDeliver,
                {nlohmann::json({{"delivery", delivery}, {"attempt", 1}}).dump(),
                 forged.envelope.header_bytes, forged.envelope.signature, forged.envelope.payload});
    auto rejected = fake_->ReceiveCommand(std::chrono::seconds(10));
    ASSERT_TRUE(rejected);
    EXPECT_EQ(rejected->second.command, protocol::Command::kRejected);
    EXPECT_EQ(rejected->second.object.value("code", ""), "SCHEMA_INVALID");
    EXPECT_EQ(rejected->second.object.value("delivery", 0), delivery);
    ++delivery;
  }
  EXPECT_TRUE(testing::ListNames(dir_.path() + "/flen.social/inbox").empty());
  // The same report with header and body in agreement is written: the rejections above were
  // about the contradictions, not the forging harness.
  core::Envelope honest = Forge("cr-honest", "concern_report", "19121212-1212", "19121212-1212", "",
                                {{"description", "x"}});
  fake_->Send(social_route, protocol::Command::kDeliver,
              {nlohmann::json({{"delivery", delivery}, {"attempt", 1}}).dump(), honest.header_bytes,
               honest.signature, honest.payload});
  auto delivered = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(delivered);
  EXPECT_EQ(delivered->second.command, protocol::Command::kDelivered);
  EXPECT_EQ(testing::ListNames(dir_.path() + "/flen.social/inbox"),
            std::vector<std::string>{"cr-honest.json"});
  social->Stop();
}

// The recipient checks the route with the broker's own rules (core::CheckRoute), not a subset:
// each header below passed the agent's earlier consent check (sender and recipient both
// parties, purpose covered, consent active) and is refused with the code the broker gives.
TEST_F(AgentLoopTest, RecipientChecksTheRouteWithTheBrokersRules) {
  std::unique_ptr<Agent> social = StartAgent(social_);
  std::string route = Welcome();
  nlohmann::json grant = ExampleBody("consent_granted-joint-custody");
  grant["consent_id"] = "c-1";
  grant["parties"] = {school_.id, social_.id};
  grant["purposes"] = {"support"};
  grant["valid_from"] = "2020-01-01T00:00:00Z";
  grant["valid_until"] = "2099-01-01T00:00:00Z";
  std::optional<core::ConsentScope> scope = ScopeFromBody(grant);
  ASSERT_TRUE(scope);
  std::optional<protocol::Message> answer = DeliverToSocial(
      route, ForgeRouted("cg-1", "consent_granted", {social_.id}, "c-1", scope, grant), 1);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->command, protocol::Command::kDelivered) << answer->object.dump();

  struct Case {
    core::Envelope envelope;
    std::string code, why;
  };
  nlohmann::json support = ExampleBody("support_request-minimal");
  std::vector<Case> cases = {
      {ForgeRouted("sr-outside", "support_request", {social_.id, health_.id}, "c-1", std::nullopt,
                   support),
       "CONSENT_SCOPE", "a recipient (region.health) is not a party of the consent"},
      {ForgeRouted("sr-self", "support_request", {social_.id, school_.id}, "c-1", std::nullopt,
                   support),
       "NOT_ALLOWED", "the message is addressed to its own sender too"},
      {ForgeRouted("sr-stranger", "support_request", {social_.id, "nowhere.school"}, "c-1",
                   std::nullopt, support),
       "UNKNOWN_RECIPIENT", "a recipient is not in the directory"},
      {ForgeRouted("cr-health", "concern_report", {social_.id, health_.id}, "", std::nullopt,
                   {{"description", "x"}}),
       "NOT_ALLOWED", "a concern report goes only to social services"}};
  int delivery = 2;
  for (const Case& forged : cases) {
    SCOPED_TRACE(forged.why);
    answer = DeliverToSocial(route, forged.envelope, delivery++);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->command, protocol::Command::kRejected) << answer->object.dump();
    EXPECT_EQ(answer->object.value("code", ""), forged.code) << answer->object.dump();
  }
  // Under the same consent, to its parties only: delivered.
  answer = DeliverToSocial(
      route, ForgeRouted("sr-ok", "support_request", {social_.id}, "c-1", std::nullopt, support),
      delivery);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->command, protocol::Command::kDelivered) << answer->object.dump();
  EXPECT_EQ(testing::ListNames(dir_.path() + "/flen.social/inbox"),
            (std::vector<std::string>{"cg-1.json", "sr-ok.json"}));
  social->Stop();
}

TEST_F(AgentLoopTest, PendingMessagesAreResentAfterANewHello) {
  std::unique_ptr<Agent> school = StartAgent(school_);
  std::string first = Welcome();
  nlohmann::json report = {{"message_id", "cr-2"},
                           {"type", "concern_report"},
                           {"to", {"flen.social"}},
                           {"subject", {{"personnummer", "19121212-1212"}}},
                           {"body", {{"description", "x"}}}};
  testing::HttpResponse posted =
      testing::HttpRequest(https_["flen.school"], "POST", "/v1/messages", report.dump(), {}, 30000);
  auto publish = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(publish && publish->second.command == protocol::Command::kPublish);
  EXPECT_EQ(posted.status, 202);
  EXPECT_NE(posted.body.find("pending"), std::string::npos) << posted.body;  // no answer yet
  // The agent restarts (same journal): it says HELLO again and resends byte-identically.
  school->Stop();
  school.reset();
  school = StartAgent(school_);
  std::string second = Welcome();
  auto again = fake_->ReceiveCommand(std::chrono::seconds(10));
  ASSERT_TRUE(again && again->second.command == protocol::Command::kPublish);
  EXPECT_EQ(again->second.arguments, publish->second.arguments);
  fake_->Send(second, protocol::Command::kRefused,
              {nlohmann::json({{"message_id", "cr-2"}, {"code", "NOT_ALLOWED"}, {"message", "no"}})
                   .dump()});
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return testing::HttpRequest(https_["flen.school"], "GET", "/v1/messages/cr-2")
                   .body.find("refused") != std::string::npos;
      },
      seconds(10)));
  school->Stop();
}

}  // namespace
}  // namespace stafett::agent
