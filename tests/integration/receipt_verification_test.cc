// The sending agent verifies the recipient's signed receipt itself (issue 14 item 9): a broker
// that forwards a receipt with a tampered signature — played by a CurveRelay holding the
// broker's and the school's transport keys, between the school's agent and the real broker —
// does not get the message recorded as delivered. It stays accepted, GET /v1/messages/{id} says
// BAD_SIGNATURE, no receipt file is written, stafett_agent_receipts_invalid_total counts it and
// the log says event=receipt_invalid. The same relay passing receipts untouched gets the next
// message delivered. Real broker and agent processes on loopback.
#include <gtest/gtest.h>

#include <filesystem>

#include "integration/support/agent_sandbox.h"
#include "integration/support/curve_relay.h"
#include "stafett/core/encoding.h"
#include "stafett/core/protocol.h"
#include "stafett/keys/key_set.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

// The key set in DIR (a county member's keys/ folder); a gtest failure if there is none.
keys::KeySet KeySetIn(const std::string& dir) {
  core::Result<std::vector<keys::KeySet>> sets = keys::LoadKeyDir(dir);
  EXPECT_TRUE(sets.ok() && !sets->empty()) << dir;
  return sets.ok() && !sets->empty() ? sets->front() : keys::KeySet{};
}

// Flips one bit of the recipient's signature in a RECEIPT; leaves everything else alone.
bool TamperWithReceiptSignature(std::vector<std::string>& frames) {
  if (frames.size() != 3 || frames[1] != "RECEIPT") return false;
  nlohmann::json receipt = nlohmann::json::parse(frames[2], nullptr, false);
  if (!receipt.is_object() || !receipt.contains("receipt_signature")) return false;
  std::string signature =
      core::FromBase64(receipt.value("receipt_signature", "")).value_or(std::string(64, '\0'));
  signature[signature.size() / 2] ^= 0x01;
  receipt["receipt_signature"] = core::ToBase64(signature);
  frames[2] = receipt.dump();
  return true;
}

bool FileExists(const std::string& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

uint64_t InvalidReceipts(const AgentInfo& agent) {
  HttpResponse metrics = HttpRequest(agent.http, "GET", "/metrics");
  const std::string name = "\nstafett_agent_receipts_invalid_total ";
  size_t at = metrics.body.find(name);
  return at == std::string::npos ? 0 : std::stoull(metrics.body.substr(at + name.size()));
}

class ReceiptVerificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
    std::string text;
    ASSERT_TRUE(ReadWholeFile(sandbox_.county_dir() + "/county.json", &text));
    std::string broker_zmq = nlohmann::json::parse(text)["broker"].value("zmq", "");
    keys::KeySet broker = KeySetIn(sandbox_.county_dir() + "/broker/keys");
    keys::KeySet school = KeySetIn(sandbox_.county_dir() + "/agents/flen.school/keys");
    relay_ = std::make_unique<CurveRelay>(
        broker_zmq, broker.transport.public_key, std::string(broker.transport.secret_key.view()),
        school.transport.public_key, std::string(school.transport.secret_key.view()));
    ASSERT_TRUE(relay_->ok());
    ASSERT_TRUE(sandbox_.PointAgentAt(kSchool, relay_->endpoint()));
    ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
    ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  }

  AgentSandbox sandbox_;
  std::unique_ptr<CurveRelay> relay_;
};

TEST_F(ReceiptVerificationTest, ATamperedReceiptIsNotRecordedAsDelivered) {
  const AgentInfo& school = sandbox_.agent(kSchool);
  relay_->SetRewrite(TamperWithReceiptSignature);
  ASSERT_EQ(sandbox_.Post(kSchool, ConcernReport("cr-tampered", kSocial)).status, 202);
  // The recipient has it, and the school has handled the (tampered) receipt: it ACKed it.
  EXPECT_TRUE(WaitUntil([&] { return sandbox_.InboxMessages(kSocial).size() == 1; }, seconds(30)));
  ASSERT_TRUE(WaitUntil([&] { return relay_->ToBroker("ACK") >= 1; }, seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_EQ(relay_->rewritten(), 1u);

  EXPECT_EQ(sandbox_.Status(kSchool, "cr-tampered"), "accepted");
  HttpResponse status = HttpRequest(school.http, "GET", "/v1/messages/cr-tampered");
  nlohmann::json body = nlohmann::json::parse(status.body, nullptr, false);
  EXPECT_EQ(body.value("code", ""), "BAD_SIGNATURE") << status.body;
  EXPECT_NE(body.value("message", "").find("flen.social"), std::string::npos) << status.body;
  EXPECT_FALSE(FileExists(school.inbox + "/receipt-cr-tampered-flen.social.json"));
  EXPECT_EQ(InvalidReceipts(school), 1u);
  std::string log = sandbox_.LogOf(kSchool);
  EXPECT_NE(log.find("event=receipt_invalid message_id=cr-tampered recipient=flen.social "
                     "code=BAD_SIGNATURE"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("1212"), std::string::npos);  // nothing of the child

  // Untouched receipts through the same relay verify: the next message is delivered.
  relay_->SetRewrite(nullptr);
  ASSERT_EQ(sandbox_.Post(kSchool, ConcernReport("cr-genuine", kSocial)).status, 202);
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "cr-genuine", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_TRUE(FileExists(school.inbox + "/receipt-cr-genuine-flen.social.json"));
  EXPECT_EQ(sandbox_.Status(kSchool, "cr-tampered"), "accepted");
  EXPECT_EQ(InvalidReceipts(school), 1u);
}

}  // namespace
}  // namespace stafett::testing
