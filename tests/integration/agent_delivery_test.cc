// Agent integration: hand-offs end to end between real agents through a real broker on
// loopback — file drop and HTTP, consent first where the type needs it, an offline recipient,
// and the same message id handed over twice.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

class AgentDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  }
  AgentSandbox sandbox_;
};

TEST_F(AgentDeliveryTest, FileDropConcernReportIsAcceptedThenDelivered) {
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  ASSERT_TRUE(sandbox_.Drop(kSchool, "report.json", ConcernReport("cr-file-1", kSocial).dump()));
  const AgentInfo& school = sandbox_.agent(kSchool);
  EXPECT_TRUE(WaitUntil(
      [&] { return ListNames(school.outbox + "/sent") == std::vector<std::string>{"report.json"}; },
      seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "cr-file-1", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool) << sandbox_.LogOf(kSocial);
  std::string text;
  ASSERT_TRUE(ReadWholeFile(sandbox_.agent(kSocial).inbox + "/cr-file-1.json", &text));
  nlohmann::json received = nlohmann::json::parse(text);
  EXPECT_EQ(received["type"], "concern_report");
  EXPECT_EQ(received["from"], kSchool);
  EXPECT_EQ(received["subject"]["personnummer"], kChildNumber);
  EXPECT_EQ(received["body"]["description"], "Frånvaro sedan tre veckor.");
  EXPECT_TRUE(received.contains("sent_at"));
  EXPECT_TRUE(received.contains("received_at"));
  EXPECT_TRUE(WaitUntil(
      [&] {
        return ReadWholeFile(school.inbox + "/receipt-cr-file-1-flen.social.json", &text) &&
               nlohmann::json::parse(text, nullptr, false).value("status", "") == "delivered";
      },
      seconds(30)));
  // Nothing of the child in the logs.
  EXPECT_EQ(sandbox_.LogOf(kSchool).find("1212"), std::string::npos);
  EXPECT_EQ(sandbox_.LogOf(kSocial).find("1212"), std::string::npos);
}

TEST_F(AgentDeliveryTest, HttpSupportRequestNeedsConsentFirst) {
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  HttpResponse refused = sandbox_.Post(kSchool, SupportRequest("sr-0", "consent-unknown", kSocial));
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("CONSENT_REQUIRED"), std::string::npos) << refused.body;

  HttpResponse consent =
      sandbox_.Post(kSchool, ConsentGranted("cg-1", "consent-1", {kSchool, kSocial}, kSocial));
  ASSERT_EQ(consent.status, 202) << consent.body;
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "cg-1", "delivered", seconds(30)));

  HttpResponse request = sandbox_.Post(kSchool, SupportRequest("sr-1", "consent-1", kSocial));
  ASSERT_EQ(request.status, 202) << request.body;
  nlohmann::json answer = nlohmann::json::parse(request.body);
  EXPECT_EQ(answer["message_id"], "sr-1");
  EXPECT_EQ(answer["status"], "accepted");
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "sr-1", "delivered", seconds(30)))
      << sandbox_.LogOf(kSocial);
  std::vector<std::string> inbox = sandbox_.InboxMessages(kSocial);
  EXPECT_EQ(inbox, (std::vector<std::string>{"cg-1.json", "sr-1.json"}));

  HttpResponse consents = HttpRequest(sandbox_.agent(kSocial).http, "POST", "/v1/consents/search",
                                      R"({"subject_pnr": "191212121212"})");
  EXPECT_EQ(consents.status, 200) << consents.body;
  EXPECT_NE(consents.body.find("consent-1"), std::string::npos) << consents.body;
}

TEST_F(AgentDeliveryTest, FiftyMessagesToAnOfflineRecipientArriveWhenItStarts) {
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  for (int i = 0; i < 50; ++i) {
    HttpResponse response =
        sandbox_.Post(kSchool, ConcernReport("offline-" + std::to_string(i), kSocial));
    ASSERT_EQ(response.status, 202) << response.body;
  }
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(
        sandbox_.WaitForStatus(kSchool, "offline-" + std::to_string(i), "accepted", seconds(30)));
  }
  EXPECT_TRUE(sandbox_.InboxMessages(kSocial).empty());
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  EXPECT_TRUE(WaitUntil([&] { return sandbox_.InboxMessages(kSocial).size() == 50; }, seconds(60)))
      << sandbox_.InboxMessages(kSocial).size();
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(
        sandbox_.WaitForStatus(kSchool, "offline-" + std::to_string(i), "delivered", seconds(30)));
  }
}

// A burst of file drops (the outbox watcher's bursts, the connection's group commit) with
// receipt files switched off at the sender: every document arrives once, every outcome is in
// the journal, and no receipt file is written.
TEST_F(AgentDeliveryTest, ABurstOfDropsArrivesOnceEachAndReceiptFilesCanBeOff) {
  {
    std::ofstream config(sandbox_.agent(kSchool).config, std::ios::app);
    config << "\n[inbox]\nreceipt_files = false\n";
  }
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  constexpr int kCount = 200;
  for (int i = 0; i < kCount; ++i) {
    std::string id = "burst-" + std::to_string(i);
    ASSERT_TRUE(sandbox_.Drop(kSchool, id + ".json", ConcernReport(id, kSocial).dump()));
  }
  EXPECT_TRUE(
      WaitUntil([&] { return sandbox_.InboxMessages(kSocial).size() == kCount; }, seconds(60)))
      << sandbox_.InboxMessages(kSocial).size() << sandbox_.LogOf(kSocial);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(
        sandbox_.WaitForStatus(kSchool, "burst-" + std::to_string(i), "delivered", seconds(30)))
        << i << sandbox_.LogOf(kSchool);
  }
  std::set<std::string> arrived;
  for (const std::string& name : sandbox_.InboxMessages(kSocial)) arrived.insert(name);
  EXPECT_EQ(arrived.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(arrived.count("burst-0.json"), 1u);
  EXPECT_TRUE(WaitUntil(
      [&] { return ListNames(sandbox_.agent(kSchool).outbox + "/sent").size() == kCount; },
      seconds(30)));
  EXPECT_TRUE(ListNames(sandbox_.agent(kSchool).inbox).empty())
      << ListNames(sandbox_.agent(kSchool).inbox).size() << " files in the sender's inbox";
}

// Backpressure (docs/AGENT.md, "Outbox rules"): with the broker away the agent journals at most
// [agent] max_pending of the files dropped; the rest wait, durable, in the outbox. HTTP still
// answers 202 pending. Once the broker is back every document arrives, once.
TEST(AgentBackpressureTest, BeyondMaxPendingFilesWaitInTheOutboxAndAllArriveLater) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  {
    std::string config;
    ASSERT_TRUE(ReadWholeFile(sandbox.agent(kSchool).config, &config));
    size_t at = config.find("[agent]\n");
    ASSERT_NE(at, std::string::npos);
    config.insert(at + 8, "max_pending = 5\n");
    ASSERT_TRUE(WriteFileByRename(sandbox.agent(kSchool).config, config));
  }
  ASSERT_TRUE(sandbox.StartAgent(kSchool, /*wait_connected=*/false)) << sandbox.LogOf(kSchool);
  const AgentInfo& school = sandbox.agent(kSchool);
  auto backlog = [&] {
    HttpResponse metrics = HttpRequest(school.http, "GET", "/metrics", "", {}, 2000);
    size_t at = metrics.body.find("\nstafett_agent_outbox_backlog ");
    return at == std::string::npos ? -1 : std::stoi(metrics.body.substr(at + 30));
  };
  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) {
    std::string id = "wait-" + std::to_string(i);
    ASSERT_TRUE(sandbox.Drop(kSchool, id + ".json", ConcernReport(id, kSocial).dump()));
  }
  EXPECT_TRUE(WaitUntil([&] { return backlog() == 5; }, seconds(30))) << backlog();
  EXPECT_TRUE(WaitUntil(
      [&] { return sandbox.LogOf(kSchool).find("event=outbox_backpressure") != std::string::npos; },
      seconds(30)));
  EXPECT_EQ(backlog(), 5);
  size_t waiting = 0;
  for (const std::string& name : ListNames(school.outbox)) waiting += name.ends_with(".json");
  EXPECT_EQ(waiting, static_cast<size_t>(kCount));
  EXPECT_TRUE(ListNames(school.outbox + "/rejected").empty());
  HttpResponse posted = sandbox.Post(kSchool, ConcernReport("wait-http", kSocial));
  EXPECT_EQ(posted.status, 202) << posted.body;
  EXPECT_EQ(nlohmann::json::parse(posted.body, nullptr, false).value("status", ""), "pending");

  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  EXPECT_TRUE(
      WaitUntil([&] { return sandbox.InboxMessages(kSocial).size() == kCount + 1; }, seconds(90)))
      << sandbox.InboxMessages(kSocial).size() << sandbox.LogOf(kSchool);
  EXPECT_TRUE(
      WaitUntil([&] { return ListNames(school.outbox + "/sent").size() == kCount; }, seconds(30)));
}

TEST_F(AgentDeliveryTest, SameIdOverHttpAndFileIsDeliveredOnce) {
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  nlohmann::json document = ConcernReport("same-1", kSocial);
  ASSERT_EQ(sandbox_.Post(kSchool, document).status, 202);
  ASSERT_EQ(sandbox_.Post(kSchool, document).status, 202);
  ASSERT_TRUE(sandbox_.Drop(kSchool, "same.json", document.dump()));
  EXPECT_TRUE(
      WaitUntil([&] { return ListNames(sandbox_.agent(kSchool).outbox + "/sent").size() == 1; },
                seconds(30)));
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "same-1", "delivered", seconds(30)));
  // A later, unrelated message proves the pipeline drained before we count.
  ASSERT_EQ(sandbox_.Post(kSchool, ConcernReport("after-1", kSocial)).status, 202);
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "after-1", "delivered", seconds(30)));
  EXPECT_EQ(sandbox_.InboxMessages(kSocial),
            (std::vector<std::string>{"after-1.json", "same-1.json"}));
  HttpResponse metrics = HttpRequest(sandbox_.agent(kSocial).http, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("stafett_agent_inbox_writes_total 2"), std::string::npos)
      << metrics.body;
}

}  // namespace
}  // namespace stafett::testing
