// Consent enforced at the broker: every row of the rules table with its exact refusal code,
// revocation withholding queued messages at once, and expiry at delivery — through a broker on
// a real socket with a real RocksDB and a manual clock.
#include <gtest/gtest.h>

#include <map>

#include "support/harness.h"

namespace stafett::broker::testing {
namespace {

using core::protocol::Command;

constexpr core::Micros kDay = 24 * 3600 * kSecond;

class ConsentTest : public ::testing::Test {
 protected:
  ConsentTest()
      : county_(dir_.path() / "county"),
        clock_(core::SystemClock::Instance().Now()),
        broker_(county_, dir_.path() / "data", &clock_),
        school_(Connect("flen.school")),
        social_(Connect("flen.social")),
        health_(Connect("region.health")) {
    school_->Hello();
    health_->Hello();
  }

  std::unique_ptr<TestClient> Connect(const std::string& id) {
    return std::make_unique<TestClient>(broker_.endpoint(), county_.Get(id).keys,
                                        county_.Get("broker").keys);
  }

  // Records consent ID for the child, between school and social services, for PURPOSES.
  void Grant(const std::string& id, std::vector<std::string> purposes,
             core::Micros valid_for = 180 * kDay, std::string personnummer = "19121212-1212") {
    MessageSpec spec;
    spec.message_id = id + "-grant";
    spec.type = "consent_granted";
    spec.from = "flen.school";
    spec.to = {"flen.social"};
    spec.personnummer = personnummer;
    spec.consent_id = id;
    core::Micros now = clock_.Now() / 1000 * 1000;
    spec.consent = core::ConsentScope{
        {"flen.school", "flen.social"}, purposes, now - kSecond, now + valid_for};
    nlohmann::json answer = school_->Publish(Seal(county_, spec, clock_.Now()));
    ASSERT_EQ(answer["command"], "ACCEPTED") << answer.dump();
  }

  nlohmann::json Send(TestClient& client, const std::string& id, const std::string& type,
                      const std::string& from, std::vector<std::string> to,
                      const std::string& consent_id, const std::string& ref = "",
                      const std::string& personnummer = "19121212-1212") {
    MessageSpec spec;
    spec.message_id = id;
    spec.type = type;
    spec.from = from;
    spec.to = std::move(to);
    spec.consent_id = consent_id;
    spec.ref = ref;
    spec.personnummer = personnummer;
    return client.Publish(Seal(county_, spec, clock_.Now()));
  }

  void Advance(core::Micros delta) {
    clock_.Advance(delta);
    for (int i = 0; i < 2; ++i) {
      school_->SendCommand(Command::kHeartbeat, {"{}"});
      school_->Expect(Command::kHeartbeat);
    }
  }

  TempDir dir_;
  County county_;
  core::ManualClock clock_;
  BrokerProcess broker_;
  std::unique_ptr<TestClient> school_, social_, health_;
};

TEST_F(ConsentTest, WithoutConsentASupportRequestIsRefused) {
  EXPECT_EQ(Send(*school_, "s1", "support_request", "flen.school", {"flen.social"}, "")["code"],
            "CONSENT_REQUIRED");
  EXPECT_EQ(Send(*school_, "s2", "support_request", "flen.school", {"flen.social"}, "nope")["code"],
            "CONSENT_REQUIRED");
}

TEST_F(ConsentTest, WithAMatchingConsentItIsAccepted) {
  Grant("c1", {"support"});
  EXPECT_EQ(
      Send(*school_, "s1", "support_request", "flen.school", {"flen.social"}, "c1")["command"],
      "ACCEPTED");
}

TEST_F(ConsentTest, AnotherChildUnderTheSameConsentIdIsOutOfScope) {
  Grant("c1", {"support"});
  EXPECT_EQ(Send(*school_, "s1", "support_request", "flen.school", {"flen.social"}, "c1", "",
                 "20121212-1212")["code"],
            "CONSENT_SCOPE");
}

TEST_F(ConsentTest, ARecipientOutsideThePartiesIsOutOfScope) {
  Grant("c1", {"support", "assessment"});
  EXPECT_EQ(
      Send(*school_, "a1", "assessment_referral", "flen.school", {"region.health"}, "c1")["code"],
      "CONSENT_SCOPE");
}

TEST_F(ConsentTest, APurposeOutsideThePurposesIsOutOfScope) {
  Grant("c1", {"support"});
  EXPECT_EQ(
      Send(*school_, "a1", "assessment_referral", "flen.school", {"flen.social"}, "c1")["code"],
      "CONSENT_SCOPE");
  EXPECT_EQ(
      Send(*school_, "i1", "information_request", "flen.school", {"flen.social"}, "c1")["code"],
      "CONSENT_SCOPE");
}

TEST_F(ConsentTest, AfterRevocationAtAnotherPartyItIsRefused) {
  Grant("c1", {"support"});
  social_->Hello();
  nlohmann::json revoked =
      Send(*social_, "c1-revoke", "consent_revoked", "flen.social", {"flen.school"}, "c1");
  ASSERT_EQ(revoked["command"], "ACCEPTED") << revoked.dump();
  EXPECT_EQ(Send(*school_, "s1", "support_request", "flen.school", {"flen.social"}, "c1")["code"],
            "CONSENT_REVOKED");
}

TEST_F(ConsentTest, AConsentForgedOrRevokedByANonPartyIsRefused) {
  Grant("c1", {"support"});
  EXPECT_EQ(Send(*health_, "x1", "consent_revoked", "region.health", {"flen.school", "flen.social"},
                 "c1")["code"],
            "CONSENT_SCOPE");
  MessageSpec forged;
  forged.message_id = "forged";
  forged.type = "consent_granted";
  forged.from = "region.health";
  forged.to = {"flen.social"};
  forged.consent_id = "c-forged";
  core::Micros now = clock_.Now() / 1000 * 1000;
  forged.consent = core::ConsentScope{{"flen.school", "flen.social"}, {"support"}, now, now + kDay};
  EXPECT_EQ(health_->Publish(Seal(county_, forged, clock_.Now()))["code"], "CONSENT_SCOPE");
}

// Issue 14, item 11: both were accepted and routed to the other parties.
TEST_F(ConsentTest, AnExpiredGrantAndASecondRevocationAreRefused) {
  MessageSpec late;
  late.message_id = "late-grant";
  late.type = "consent_granted";
  late.from = "flen.school";
  late.to = {"flen.social"};
  late.consent_id = "c-late";
  core::Micros now = clock_.Now() / 1000 * 1000;
  late.consent =
      core::ConsentScope{{"flen.school", "flen.social"}, {"support"}, now - 2 * kDay, now - kDay};
  EXPECT_EQ(school_->Publish(Seal(county_, late, clock_.Now()))["code"], "CONSENT_EXPIRED");

  Grant("c1", {"support"});
  social_->Hello();
  core::protocol::Message grant = social_->Expect(Command::kDeliver);
  social_->AcknowledgeDelivery(grant, county_.Get("flen.social").keys, "flen.social");
  ASSERT_EQ(Send(*social_, "c1-revoke", "consent_revoked", "flen.social", {"flen.school"},
                 "c1")["command"],
            "ACCEPTED");
  EXPECT_EQ(Send(*school_, "c1-revoke-again", "consent_revoked", "flen.school", {"flen.social"},
                 "c1")["code"],
            "CONSENT_REVOKED");
  // The refused revocation reached nobody: nothing more is delivered to social services.
  EXPECT_FALSE(social_->Receive(std::chrono::milliseconds(500)).has_value());
}

// Issue 14, item 2: only an accepted message occupies its id. A document refused for want of a
// consent is accepted, the same envelope under the same id, once the consent is granted.
TEST_F(ConsentTest, ARefusedIdIsAcceptedOnceTheCauseIsFixed) {
  MessageSpec spec;
  spec.message_id = "retry-after-consent";
  spec.type = "support_request";
  spec.from = "flen.school";
  spec.to = {"flen.social"};
  spec.consent_id = "c-later";
  core::Envelope envelope = Seal(county_, spec, clock_.Now());
  nlohmann::json refused = school_->Publish(envelope);
  ASSERT_EQ(refused["code"], "CONSENT_REQUIRED") << refused.dump();
  Grant("c-later", {"support"});
  nlohmann::json accepted = school_->Publish(envelope);
  ASSERT_EQ(accepted["command"], "ACCEPTED") << accepted.dump();
  EXPECT_EQ(accepted["duplicate"], false);
  auto operator_client = Connect("operator");
  nlohmann::json track =
      operator_client->Query({{"op", "track"}, {"message_id", "retry-after-consent"}});
  EXPECT_EQ(track["status"], "accepted") << track.dump();
  ASSERT_EQ(track["events"].size(), 2u) << track.dump();
  EXPECT_EQ(track["events"][0]["event"], "refused");
  EXPECT_EQ(track["events"][1]["event"], "accepted");
}

TEST_F(ConsentTest, AfterExpiryItIsRefused) {
  Grant("c1", {"support"}, kDay);
  Advance(2 * kDay);
  EXPECT_EQ(Send(*school_, "s1", "support_request", "flen.school", {"flen.social"}, "c1")["code"],
            "CONSENT_EXPIRED");
}

TEST_F(ConsentTest, AConcernReportToHealthIsNotAllowed) {
  EXPECT_EQ(Send(*school_, "r1", "concern_report", "flen.school", {"region.health"}, "")["code"],
            "NOT_ALLOWED");
  EXPECT_EQ(Send(*school_, "r2", "concern_report", "flen.school", {"flen.social"}, "")["command"],
            "ACCEPTED");
}

TEST_F(ConsentTest, FeedbackOnlyFromTheReportsRecipientBackToItsReporter) {
  ASSERT_EQ(Send(*school_, "r1", "concern_report", "flen.school", {"flen.social"}, "")["command"],
            "ACCEPTED");
  social_->Hello();
  EXPECT_EQ(
      Send(*health_, "f1", "concern_feedback", "region.health", {"flen.school"}, "", "r1")["code"],
      "NOT_ALLOWED");
  EXPECT_EQ(
      Send(*social_, "f2", "concern_feedback", "flen.social", {"flen.school"}, "", "r1")["command"],
      "ACCEPTED");
}

TEST_F(ConsentTest, AQueuedReferralIsWithheldByARevocationWhileItsRecipientIsOffline) {
  Grant("c1", {"support"});
  ASSERT_EQ(
      Send(*school_, "s1", "support_request", "flen.school", {"flen.social"}, "c1")["command"],
      "ACCEPTED");
  // The revocation is recorded at the school (a party); social services is offline.
  ASSERT_EQ(Send(*school_, "c1-revoke", "consent_revoked", "flen.school", {"flen.social"},
                 "c1")["command"],
            "ACCEPTED");
  core::protocol::Message receipt = school_->Expect(Command::kReceipt);
  EXPECT_EQ(receipt.object["message_id"], "s1");
  EXPECT_EQ(receipt.object["status"], "withheld");
  EXPECT_EQ(receipt.object["code"], "CONSENT_REVOKED");
  // Social services returns: it gets the grant and the revocation, never the referral.
  social_->Hello();
  std::vector<std::string> delivered;
  for (int i = 0; i < 2; ++i) {
    core::protocol::Message deliver = social_->Expect(Command::kDeliver);
    core::Result<core::Header> header = core::ParseHeader(deliver.arguments[1]);
    ASSERT_TRUE(header.ok());
    delivered.push_back(header->message_id);
    social_->AcknowledgeDelivery(deliver, county_.Get("flen.social").keys, "flen.social");
  }
  EXPECT_EQ(delivered, (std::vector<std::string>{"c1-grant", "c1-revoke"}));
  auto auditor = Connect("auditor");
  nlohmann::json trail =
      auditor->Query({{"op", "trail"}, {"subject", PseudonymOf(county_, "19121212-1212")}});
  std::vector<std::string> events;
  for (const nlohmann::json& record : trail["records"]) events.push_back(record["event"]);
  EXPECT_NE(std::find(events.begin(), events.end(), "withheld"), events.end());
}

TEST_F(ConsentTest, AMessageQueuedWhileItsConsentExpiresIsWithheldAtDelivery) {
  Grant("c1", {"support"}, kDay);
  ASSERT_EQ(
      Send(*school_, "s1", "support_request", "flen.school", {"flen.social"}, "c1")["command"],
      "ACCEPTED");
  Advance(2 * kDay);
  social_->Hello();
  core::protocol::Message grant = social_->Expect(Command::kDeliver);
  social_->AcknowledgeDelivery(grant, county_.Get("flen.social").keys, "flen.social");
  bool withheld = false;
  while (std::optional<core::protocol::Message> message =
             school_->Receive(std::chrono::seconds(5))) {
    if (message->command == Command::kReceipt && message->object["message_id"] == "s1") {
      EXPECT_EQ(message->object["status"], "withheld");
      EXPECT_EQ(message->object["code"], "CONSENT_EXPIRED");
      withheld = true;
      break;
    }
  }
  EXPECT_TRUE(withheld);
}

TEST_F(ConsentTest, PartiesCanAskWhichConsentsTheyHold) {
  Grant("c1", {"support"});
  nlohmann::json answer =
      school_->Query({{"op", "consents"}, {"subject", PseudonymOf(county_, "19121212-1212")}});
  ASSERT_EQ(answer["ok"], true) << answer.dump();
  ASSERT_EQ(answer["consents"].size(), 1u);
  EXPECT_EQ(answer["consents"][0]["state"], "active");
  nlohmann::json stranger =
      health_->Query({{"op", "consents"}, {"subject", PseudonymOf(county_, "19121212-1212")}});
  EXPECT_EQ(stranger["consents"].size(), 0u) << "a non-party sees nothing";
}

// The register extract shows an auditor every consent of the child, party or not.
TEST_F(ConsentTest, AnAuditorSeesEveryConsentOfASubject) {
  Grant("c1", {"support"});
  auto auditor = Connect("auditor");
  nlohmann::json answer =
      auditor->Query({{"op", "consents"}, {"subject", PseudonymOf(county_, "19121212-1212")}});
  ASSERT_EQ(answer["ok"], true) << answer.dump();
  ASSERT_EQ(answer["consents"].size(), 1u);
  EXPECT_EQ(answer["consents"][0]["purposes"], nlohmann::json({"support"}));
  EXPECT_FALSE(answer["consents"][0]["parties"].empty());
  EXPECT_EQ(answer["consents"][0]["consent_id"], "c1");
}

// An agent that lost its journal rebuilds its consent table from party_consents (issue 14 item
// 6): every consent it is a party of with what its own check needs (pseudonym, parties,
// purposes, period in microseconds, revocation), page by page — and nothing of anyone else's.
TEST_F(ConsentTest, PartyConsentsGiveAnEndpointItsOwnConsentsPageByPage) {
  Grant("c1", {"support"});
  Grant("c2", {"assessment"});
  Grant("c3", {"support"});
  social_->Hello();
  ASSERT_EQ(Send(*social_, "c2-revoke", "consent_revoked", "flen.social", {"flen.school"},
                 "c2")["command"],
            "ACCEPTED");
  nlohmann::json first = social_->Query({{"op", "party_consents"}, {"limit", 2}});
  ASSERT_EQ(first["ok"], true) << first.dump();
  ASSERT_EQ(first["consents"].size(), 2u) << first.dump();
  ASSERT_TRUE(first["next_cursor"].is_string()) << first.dump();
  nlohmann::json rest =
      social_->Query({{"op", "party_consents"}, {"limit", 2}, {"after", first["next_cursor"]}});
  ASSERT_EQ(rest["ok"], true) << rest.dump();
  ASSERT_EQ(rest["consents"].size(), 1u) << rest.dump();
  EXPECT_TRUE(rest["next_cursor"].is_null()) << rest.dump();
  std::map<std::string, nlohmann::json> seen;
  for (const nlohmann::json& page : {first, rest}) {
    for (const nlohmann::json& row : page["consents"]) seen[row.value("consent_id", "")] = row;
  }
  ASSERT_EQ(seen.size(), 3u);
  const nlohmann::json& c1 = seen["c1"];
  EXPECT_EQ(c1["subject"], PseudonymOf(county_, "19121212-1212"));
  EXPECT_EQ(c1["parties"], nlohmann::json({"flen.school", "flen.social"}));
  EXPECT_EQ(c1["purposes"], nlohmann::json({"support"}));
  EXPECT_TRUE(c1["valid_from"].is_number_integer());
  EXPECT_GT(c1["valid_until"].get<int64_t>(), c1["valid_from"].get<int64_t>());
  EXPECT_EQ(c1["revoked"], false);
  EXPECT_EQ(seen["c2"]["revoked"], true);
  EXPECT_EQ(c1.dump().find("1212-1212"), std::string::npos) << "no personnummer";

  // Nothing for an endpoint that is no party; no other role may ask.
  nlohmann::json stranger = health_->Query({{"op", "party_consents"}});
  ASSERT_EQ(stranger["ok"], true) << stranger.dump();
  EXPECT_TRUE(stranger["consents"].empty()) << stranger.dump();
  for (const char* role : {"auditor", "operator"}) {
    nlohmann::json refused = Connect(role)->Query({{"op", "party_consents"}});
    EXPECT_EQ(refused["ok"], false) << role;
    EXPECT_EQ(refused["code"], "FORBIDDEN") << role << refused.dump();
  }
  nlohmann::json malformed = social_->Query({{"op", "party_consents"}, {"after", 7}});
  EXPECT_EQ(malformed["code"], "PROTOCOL_ERROR") << malformed.dump();
}

}  // namespace
}  // namespace stafett::broker::testing
