// Agent recovery (issue 14 item 6): an agent whose journal (data_dir) is lost, or restored from
// an old backup, rebuilds its consent table from the broker's consent index when it starts.
// Before, the recipient withheld for good (REJECTED CONSENT_REQUIRED → `withheld`) every
// message sent under a consent it had, although the broker showed the consent active. Real
// broker and agents as processes on loopback, real RocksDB.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

class AgentRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    // A delivery left unanswered (while the consents are being fetched) comes again soon.
    std::string text;
    ASSERT_TRUE(ReadWholeFile(sandbox_.broker_config(), &text));
    size_t at = text.find("redeliver_after_seconds = 30");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("redeliver_after_seconds = 30").size(),
                 "redeliver_after_seconds = 2");
    std::ofstream(sandbox_.broker_config(), std::ios::trunc) << text;
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
    ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
    ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  }

  // The agent's data_dir (county init: "data" beside its agent.toml).
  std::string DataDir(const std::string& id) {
    return std::filesystem::path(sandbox_.agent(id).config).parent_path().string() + "/data";
  }

  // Grants consent CONSENT_ID (school and social services, support) and waits for its delivery.
  void Grant(const std::string& message_id, const std::string& consent_id) {
    HttpResponse granted =
        sandbox_.Post(kSchool, ConsentGranted(message_id, consent_id, {kSchool, kSocial}, kSocial));
    ASSERT_EQ(granted.status, 202) << granted.body;
    ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, message_id, "delivered", seconds(30)))
        << sandbox_.LogOf(kSocial);
  }

  void PostAccepted(const nlohmann::json& document) {
    HttpResponse response = sandbox_.Post(kSchool, document);
    ASSERT_EQ(response.status, 202) << response.body;
    ASSERT_TRUE(
        sandbox_.WaitForStatus(kSchool, document.value("message_id", ""), "accepted", seconds(30)));
  }

  // Social services' agent stopped, its journal gone; the inbox (the local system's) stays.
  void LoseSocialsJournal() {
    ASSERT_EQ(sandbox_.StopAgent(kSocial), 0) << sandbox_.LogOf(kSocial);
    std::error_code error;
    std::filesystem::remove_all(DataDir(kSocial), error);
    ASSERT_FALSE(error) << error.message();
    ASSERT_FALSE(std::filesystem::exists(DataDir(kSocial)));
  }

  AgentSandbox sandbox_;
};

TEST_F(AgentRecoveryTest, ARecipientThatLostItsJournalDeliversUnderTheConsentsItHad) {
  ASSERT_NO_FATAL_FAILURE(Grant("cg-1", "consent-1"));
  ASSERT_NO_FATAL_FAILURE(PostAccepted(SupportRequest("sr-before", "consent-1", kSocial)));
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "sr-before", "delivered", seconds(30)));

  ASSERT_NO_FATAL_FAILURE(LoseSocialsJournal());
  // Queued at the broker while social services are down: delivered the moment its agent is
  // back — before the consents have come from the broker.
  ASSERT_NO_FATAL_FAILURE(PostAccepted(SupportRequest("sr-queued", "consent-1", kSocial)));
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "sr-queued", "delivered", seconds(30)))
      << sandbox_.Status(kSchool, "sr-queued") << "\n"
      << sandbox_.LogOf(kSocial);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return sandbox_.LogOf(kSocial).find("event=consents_synced consents=1 learned=1") !=
               std::string::npos;
      },
      seconds(30)))
      << sandbox_.LogOf(kSocial);
  // The broker dispatches it right after WELCOME, before the agent has even asked for the
  // consents: it came before their answer and waited (then was delivered again).
  EXPECT_NE(sandbox_.LogOf(kSocial).find(
                "event=delivery_deferred message_id=sr-queued reason=consents_not_synced"),
            std::string::npos)
      << sandbox_.LogOf(kSocial);

  // And what is sent under the consent after the restart.
  ASSERT_NO_FATAL_FAILURE(PostAccepted(SupportRequest("sr-after", "consent-1", kSocial)));
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "sr-after", "delivered", seconds(30)))
      << sandbox_.Status(kSchool, "sr-after") << "\n"
      << sandbox_.LogOf(kSocial);
  EXPECT_EQ(
      sandbox_.InboxMessages(kSocial),
      (std::vector<std::string>{"cg-1.json", "sr-after.json", "sr-before.json", "sr-queued.json"}));
  EXPECT_EQ(sandbox_.LogOf(kSocial).find("delivery_rejected"), std::string::npos)
      << sandbox_.LogOf(kSocial);
  // The broker holds pseudonyms only; nothing of the child reached the agents' logs.
  EXPECT_EQ(sandbox_.LogOf(kSocial).find("1212"), std::string::npos);
  EXPECT_EQ(sandbox_.LogOf("broker").find("1212"), std::string::npos);
}

TEST_F(AgentRecoveryTest, ARevocationMissedWithTheJournalIsTakenFromTheBroker) {
  // A journal restored from a backup taken before a revocation would deliver under a revoked
  // consent if the broker did not stop it; the rebuild takes the revocation over as well.
  ASSERT_NO_FATAL_FAILURE(Grant("cg-2", "consent-2"));
  ASSERT_EQ(sandbox_.StopAgent(kSocial), 0);
  std::string backup = sandbox_.dir() + "/social-data-backup";
  std::filesystem::copy(DataDir(kSocial), backup, std::filesystem::copy_options::recursive);
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  HttpResponse revoked = sandbox_.Post(kSchool, ConsentRevoked("cr-2", "consent-2", {kSocial}));
  ASSERT_EQ(revoked.status, 202) << revoked.body;
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "cr-2", "delivered", seconds(30)))
      << sandbox_.Status(kSchool, "cr-2") << sandbox_.LogOf(kSchool);

  // Back to the journal from before the revocation.
  ASSERT_EQ(sandbox_.StopAgent(kSocial), 0);
  std::filesystem::remove_all(DataDir(kSocial));
  std::filesystem::rename(backup, DataDir(kSocial));
  std::filesystem::remove(DataDir(kSocial) + "/agent.lock");
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return sandbox_.LogOf(kSocial).find(
                   "event=consents_synced consents=1 learned=0 "
                   "revocations_learned=1") != std::string::npos;
      },
      seconds(30)))
      << sandbox_.LogOf(kSocial);
  HttpResponse request = sandbox_.Post(kSchool, SupportRequest("sr-revoked", "consent-2", kSocial));
  EXPECT_EQ(request.status, 422) << request.body;
  EXPECT_NE(request.body.find("CONSENT_REVOKED"), std::string::npos) << request.body;
}

}  // namespace
}  // namespace stafett::testing
