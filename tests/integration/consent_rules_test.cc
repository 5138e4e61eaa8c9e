// Consent and routing rules through real processes: a broker and the school, social-services and
// health agents of the three-endpoint sandbox on loopback. Every row of the rules table
// (docs/RULES.md) is exercised over the agents' HTTP API with the exact refusal code the sender
// sees, and revocation and expiry are followed into the inboxes: what is withheld never arrives,
// the sender gets the receipt, and every party learns of the revocation.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr char kHealth[] = "region.health";
// Same last ten digits as kChildNumber, another century: another child, also Luhn-valid.
constexpr char kOtherChild[] = "20121212-1212";

const std::vector<std::string> kAllPurposes = {"support", "assessment", "sip",
                                               "information_exchange"};

std::string Rfc3339(std::chrono::system_clock::time_point when) {
  std::time_t seconds_since_epoch = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds_since_epoch, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// A schema example from schemas/examples/valid, readdressed to this test's child and endpoints.
json Example(const std::string& name, const std::string& message_id,
             const std::vector<std::string>& to, const std::string& consent_id) {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(
      std::string(STAFETT_SOURCE_DIR) + "/schemas/examples/valid/" + name + ".json", &text))
      << name;
  json document = json::parse(text, nullptr, false);
  document["message_id"] = message_id;
  document["to"] = to;
  document["subject"] = {{"personnummer", kChildNumber}};
  document.erase("consent_id");
  if (!consent_id.empty()) document["consent_id"] = consent_id;
  return document;
}

json Consent(const std::string& message_id, const std::string& consent_id,
             const std::vector<std::string>& parties, const std::vector<std::string>& to,
             const std::vector<std::string>& purposes,
             const std::string& valid_until = "2099-01-01T00:00:00Z") {
  return {{"message_id", message_id},
          {"type", "consent_granted"},
          {"to", to},
          {"subject", {{"personnummer", kChildNumber}}},
          {"consent_id", consent_id},
          {"body",
           {{"consent_id", consent_id},
            {"parties", parties},
            {"purposes", purposes},
            {"valid_from", "2020-01-01T00:00:00Z"},
            {"valid_until", valid_until},
            {"given_by", {{{"role", "guardian"}, {"name", "Anna Andersson"}}, {{"role", "child"}}}},
            {"child_age", 13}}}};
}

json WithBody(json document, const std::string& key, const json& value) {
  document["body"][key] = value;
  return document;
}

class ConsentRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  }

  void StartAgents(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) ASSERT_TRUE(sandbox_.StartAgent(id)) << sandbox_.LogOf(id);
  }

  // Posts DOCUMENT at FROM and expects the broker's acceptance.
  void Accepted(const std::string& from, const json& document) {
    HttpResponse response = sandbox_.Post(from, document);
    ASSERT_EQ(response.status, 202) << document.value("message_id", "") << ": " << response.body;
    json answer = json::parse(response.body, nullptr, false);
    EXPECT_EQ(answer.value("status", ""), "accepted") << response.body;
  }

  // Posts DOCUMENT at FROM and expects a refusal with CODE.
  void Refused(const std::string& from, const json& document, const std::string& code) {
    const std::string message_id = document.value("message_id", "");
    HttpResponse response = sandbox_.Post(from, document);
    EXPECT_EQ(response.status, 422) << message_id << ": " << response.body;
    json answer = json::parse(response.body, nullptr, false);
    ASSERT_TRUE(answer.is_object()) << response.body;
    EXPECT_EQ(answer.value("code", ""), code) << message_id << ": " << response.body;
    if (answer.contains("message_id")) {
      // Refused by the broker: the agent keeps the outcome under the message id.
      EXPECT_EQ(answer.value("message_id", ""), message_id) << response.body;
      EXPECT_EQ(sandbox_.Status(from, message_id), "refused");
    } else {
      // Refused by the agent's own checks before anything was signed or sent.
      EXPECT_EQ(sandbox_.Status(from, message_id), "") << response.body;
    }
  }

  void Delivered(const std::string& from, const std::string& message_id) {
    EXPECT_TRUE(sandbox_.WaitForStatus(from, message_id, "delivered", seconds(30)))
        << message_id << " is " << sandbox_.Status(from, message_id) << "\n"
        << sandbox_.LogOf(from);
  }

  // A concern report from the school to social services, awaited: everything the broker queued
  // for social services before it has been offered first (one queue per endpoint, in order).
  void DrainSocial(const std::string& message_id) {
    Accepted(kSchool, ConcernReport(message_id, kSocial));
    Delivered(kSchool, message_id);
  }

  bool InInbox(const std::string& id, const std::string& message_id) {
    std::vector<std::string> inbox = sandbox_.InboxMessages(id);
    return std::find(inbox.begin(), inbox.end(), message_id + ".json") != inbox.end();
  }

  json Receipt(const std::string& sender, const std::string& message_id,
               const std::string& recipient) {
    std::string text;
    if (!ReadWholeFile(
            sandbox_.agent(sender).inbox + "/receipt-" + message_id + "-" + recipient + ".json",
            &text)) {
      return json();
    }
    return json::parse(text, nullptr, false);
  }

  AgentSandbox sandbox_;
};

TEST_F(ConsentRulesTest, SupportRequestWithoutConsentThenWithAMatchingOne) {
  StartAgents({kSchool, kSocial});
  Refused(kSchool, Example("support_request-minimal", "sr-none", {kSocial}, ""),
          "CONSENT_REQUIRED");
  Refused(kSchool, Example("support_request-minimal", "sr-unknown", {kSocial}, "no-such-consent"),
          "CONSENT_REQUIRED");
  Accepted(kSchool, Consent("cg-1", "c-1", {kSchool, kSocial}, {kSocial}, {"support"}));
  Accepted(kSchool, Example("support_request-minimal", "sr-1", {kSocial}, "c-1"));
  Delivered(kSchool, "sr-1");
  EXPECT_TRUE(InInbox(kSocial, "cg-1"));
  EXPECT_TRUE(InInbox(kSocial, "sr-1"));
  EXPECT_FALSE(InInbox(kSocial, "sr-none"));
  EXPECT_FALSE(InInbox(kSocial, "sr-unknown"));
}

TEST_F(ConsentRulesTest, AnotherChildARecipientOutsideThePartiesOrAPurposeOutsideAreOutOfScope) {
  StartAgents({kSchool, kSocial, kHealth});
  Accepted(kSchool, Consent("cg-1", "c-1", {kSchool, kSocial}, {kSocial}, {"support"}));

  json other_child = Example("support_request-minimal", "sr-other", {kSocial}, "c-1");
  other_child["subject"]["personnummer"] = kOtherChild;
  Refused(kSchool, other_child, "CONSENT_SCOPE");
  Refused(kSchool, Example("support_request-minimal", "sr-health", {kHealth}, "c-1"),
          "CONSENT_SCOPE");
  Refused(kSchool, Example("support_request-minimal", "sr-both", {kSocial, kHealth}, "c-1"),
          "CONSENT_SCOPE");
  Refused(kHealth, Example("support_request-minimal", "sr-from-health", {kSocial}, "c-1"),
          "CONSENT_SCOPE");
  Refused(kSchool, Example("assessment_referral-npf-bup", "ar-1", {kSocial}, "c-1"),
          "CONSENT_SCOPE");
  Refused(kSchool, Example("sip_invitation-three-parties", "sip-1", {kSocial}, "c-1"),
          "CONSENT_SCOPE");
  Refused(kSchool, Example("information_request-bup-asks-school", "ir-1", {kSocial}, "c-1"),
          "CONSENT_SCOPE");

  DrainSocial("cr-barrier");
  for (const char* refused : {"sr-other", "sr-both", "sr-from-health", "ar-1", "sip-1", "ir-1"}) {
    EXPECT_FALSE(InInbox(kSocial, refused)) << refused;
  }
  EXPECT_TRUE(sandbox_.InboxMessages(kHealth).empty());
}

TEST_F(ConsentRulesTest, EveryPurposeRowIsDeliveredUnderAConsentThatCoversIt) {
  StartAgents({kSchool, kSocial, kHealth});
  Accepted(kSchool, Consent("cg-all", "c-all", {kSchool, kSocial, kHealth}, {kSocial, kHealth},
                            kAllPurposes));
  Accepted(kSchool, Example("support_request-minimal", "sr-1", {kSocial}, "c-all"));
  Accepted(kSchool, Example("assessment_referral-npf-bup", "ar-1", {kHealth}, "c-all"));
  Accepted(kSchool, Example("sip_invitation-three-parties", "sip-1", {kSocial, kHealth}, "c-all"));
  Accepted(kHealth, Example("information_request-bup-asks-school", "ir-1", {kSchool}, "c-all"));
  for (const char* message_id : {"sr-1", "ar-1", "sip-1"}) Delivered(kSchool, message_id);
  Delivered(kHealth, "ir-1");

  // information_response: only from a recipient of the request, back to its sender.
  json answer = Example("information_response-minimal", "ia-1", {kHealth}, "c-all");
  answer["body"]["request_message_id"] = "ir-1";
  json answer_from_social = answer;
  answer_from_social["message_id"] = "ia-social";
  Refused(kSocial, answer_from_social, "NOT_ALLOWED");
  json answer_elsewhere = answer;
  answer_elsewhere["message_id"] = "ia-elsewhere";
  answer_elsewhere["to"] = {kSocial};
  Refused(kSchool, answer_elsewhere, "NOT_ALLOWED");
  Accepted(kSchool, answer);
  Delivered(kSchool, "ia-1");

  // referral_status: between the referral's parties only, no new consent.
  json status = WithBody(Example("referral_status-accepted", "rs-1", {kSchool}, ""),
                         "referral_message_id", "sr-1");
  json status_from_health = status;
  status_from_health["message_id"] = "rs-health";
  Refused(kHealth, status_from_health, "NOT_ALLOWED");
  json status_unknown = WithBody(status, "referral_message_id", "no-such-referral");
  status_unknown["message_id"] = "rs-unknown";
  Refused(kSocial, status_unknown, "NOT_ALLOWED");
  Accepted(kSocial, status);
  Delivered(kSocial, "rs-1");

  EXPECT_EQ(sandbox_.InboxMessages(kSocial),
            (std::vector<std::string>{"cg-all.json", "sip-1.json", "sr-1.json"}));
  EXPECT_EQ(sandbox_.InboxMessages(kHealth),
            (std::vector<std::string>{"ar-1.json", "cg-all.json", "ia-1.json", "sip-1.json"}));
  EXPECT_EQ(sandbox_.InboxMessages(kSchool), (std::vector<std::string>{"ir-1.json", "rs-1.json"}));
  std::string text;
  ASSERT_TRUE(ReadWholeFile(sandbox_.agent(kSchool).inbox + "/rs-1.json", &text));
  json received = json::parse(text);
  EXPECT_EQ(received["type"], "referral_status");
  EXPECT_EQ(received["body"]["referral_message_id"], "sr-1");
}

TEST_F(ConsentRulesTest, ConsentEventsAreRecordedByAPartyAndRoutedToEveryOtherParty) {
  StartAgents({kSchool, kSocial, kHealth});
  // Health is not a party: it cannot record the consent, nor revoke one it is not party to.
  Refused(kHealth, Consent("cg-forged", "c-1", {kSchool, kSocial}, {kSchool, kSocial}, {"support"}),
          "CONSENT_SCOPE");
  // A consent must reach every other party.
  Refused(kSchool,
          Consent("cg-partial", "c-1", {kSchool, kSocial, kHealth}, {kSocial}, {"support"}),
          "NOT_ALLOWED");
  Accepted(kSchool, Consent("cg-1", "c-1", {kSchool, kSocial}, {kSocial}, {"support"}));
  Refused(kSocial, Consent("cg-again", "c-1", {kSchool, kSocial}, {kSchool}, {"support"}),
          "NOT_ALLOWED");
  Refused(kHealth, ConsentRevoked("cr-forged", "c-1", {kSchool, kSocial}), "CONSENT_SCOPE");
  Refused(kSocial, ConsentRevoked("cr-unknown", "c-none", {kSchool}), "CONSENT_REQUIRED");
  Delivered(kSchool, "cg-1");
  EXPECT_TRUE(sandbox_.InboxMessages(kHealth).empty());
  EXPECT_TRUE(sandbox_.InboxMessages(kSchool).empty());
  EXPECT_EQ(sandbox_.InboxMessages(kSocial), std::vector<std::string>{"cg-1.json"});
  // The consent is still active: the forged revocation changed nothing.
  Accepted(kSchool, Example("support_request-minimal", "sr-1", {kSocial}, "c-1"));
  Delivered(kSchool, "sr-1");
}

TEST_F(ConsentRulesTest, ConcernReportsGoOnlyToSocialServicesAndFeedbackOnlyBack) {
  StartAgents({kSchool, kSocial, kHealth});
  Refused(kSchool, ConcernReport("cr-health", kHealth), "NOT_ALLOWED");
  Accepted(kSchool, ConcernReport("cr-1", kSocial));
  Delivered(kSchool, "cr-1");

  json feedback = WithBody(Example("concern_feedback-investigation-opened", "fb-1", {kSchool}, ""),
                           "report_message_id", "cr-1");
  json from_health = feedback;
  from_health["message_id"] = "fb-health";
  Refused(kHealth, from_health, "NOT_ALLOWED");
  json elsewhere = feedback;
  elsewhere["message_id"] = "fb-elsewhere";
  elsewhere["to"] = {kHealth};
  Refused(kSocial, elsewhere, "NOT_ALLOWED");
  Accepted(kSocial, feedback);
  Delivered(kSocial, "fb-1");

  EXPECT_EQ(sandbox_.InboxMessages(kSchool), std::vector<std::string>{"fb-1.json"});
  EXPECT_TRUE(sandbox_.InboxMessages(kHealth).empty());
  std::string text;
  ASSERT_TRUE(ReadWholeFile(sandbox_.agent(kSchool).inbox + "/fb-1.json", &text));
  json received = json::parse(text);
  EXPECT_EQ(received["body"]["outcome"], "investigation_opened");
  EXPECT_EQ(received["from"], kSocial);
}

TEST_F(ConsentRulesTest, ARevocationAtAnotherPartyWithholdsTheQueuedReferral) {
  // Social services is offline throughout the grant, the referral and the revocation.
  StartAgents({kSchool, kHealth});
  Accepted(kSchool, Consent("cg-1", "c-1", {kSchool, kSocial, kHealth}, {kSocial, kHealth},
                            {"support", "information_exchange"}));
  Accepted(kSchool, Example("support_request-minimal", "sr-queued", {kSocial}, "c-1"));
  // Health has its copy of the grant; social services' copy waits in its queue.
  ASSERT_TRUE(WaitUntil([&] { return InInbox(kHealth, "cg-1"); }, seconds(30)));
  EXPECT_EQ(sandbox_.Status(kSchool, "sr-queued"), "accepted");

  // Health, a party that did not record the grant, revokes it.
  Accepted(kHealth, ConsentRevoked("rv-1", "c-1", {kSchool, kSocial}));
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "sr-queued", "withheld", seconds(30)))
      << sandbox_.Status(kSchool, "sr-queued") << "\n"
      << sandbox_.LogOf(kSchool);
  json receipt = Receipt(kSchool, "sr-queued", kSocial);
  EXPECT_EQ(receipt.value("status", ""), "withheld") << receipt.dump();
  EXPECT_EQ(receipt.value("code", ""), "CONSENT_REVOKED") << receipt.dump();
  EXPECT_TRUE(WaitUntil([&] { return InInbox(kSchool, "rv-1"); }, seconds(30)))
      << "the granting party learns of the revocation";

  // Nothing new passes under the consent.
  Refused(kSchool, Example("support_request-minimal", "sr-after", {kSocial}, "c-1"),
          "CONSENT_REVOKED");
  Refused(kHealth, Example("information_request-bup-asks-school", "ir-after", {kSchool}, "c-1"),
          "CONSENT_REVOKED");

  // Social services returns: the grant and the revocation, never the referral.
  StartAgents({kSocial});
  DrainSocial("cr-barrier");
  EXPECT_EQ(sandbox_.InboxMessages(kSocial),
            (std::vector<std::string>{"cg-1.json", "cr-barrier.json", "rv-1.json"}));
  EXPECT_EQ(sandbox_.Status(kSchool, "sr-queued"), "withheld");

  // The parties see the revoked consent in their own index, pseudonymised on the agent.
  HttpResponse consents = HttpRequest(sandbox_.agent(kSchool).http, "POST", "/v1/consents/search",
                                      R"({"subject_pnr": "191212121212"})");
  ASSERT_EQ(consents.status, 200) << consents.body;
  EXPECT_NE(consents.body.find("c-1"), std::string::npos) << consents.body;
  EXPECT_NE(consents.body.find("revoked"), std::string::npos) << consents.body;
  EXPECT_EQ(consents.body.find("1212-1212"), std::string::npos) << "no personnummer in answers";
}

TEST_F(ConsentRulesTest, ExpiryIsCheckedAtAcceptanceAndAgainAtDelivery) {
  // Social services is offline: the grant and a referral wait in its queue while the consent
  // expires.
  StartAgents({kSchool});
  const auto valid_until = std::chrono::system_clock::now() + seconds(6);
  Accepted(kSchool, Consent("cg-1", "c-short", {kSchool, kSocial}, {kSocial}, {"support"},
                            Rfc3339(valid_until)));
  Accepted(kSchool, Example("support_request-minimal", "sr-queued", {kSocial}, "c-short"));
  // Wall-clock expiry is the event under test: wait for the clock, not for a message.
  ASSERT_TRUE(WaitUntil([&] { return std::chrono::system_clock::now() > valid_until + seconds(1); },
                        seconds(30)));
  Refused(kSchool, Example("support_request-minimal", "sr-late", {kSocial}, "c-short"),
          "CONSENT_EXPIRED");

  StartAgents({kSocial});
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "sr-queued", "withheld", seconds(30)))
      << sandbox_.Status(kSchool, "sr-queued");
  json receipt = Receipt(kSchool, "sr-queued", kSocial);
  EXPECT_EQ(receipt.value("code", ""), "CONSENT_EXPIRED") << receipt.dump();
  DrainSocial("cr-barrier");
  EXPECT_EQ(sandbox_.InboxMessages(kSocial),
            (std::vector<std::string>{"cg-1.json", "cr-barrier.json"}));
}

}  // namespace
}  // namespace stafett::testing
