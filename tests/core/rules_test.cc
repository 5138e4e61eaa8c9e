// Rules: every row of the rules table, with the exact refusal code; and docs/RULES.md is the
// same table as RulesTable().
#include "stafett/core/rules.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace stafett::core {
namespace {

constexpr Micros kDay = 86'400'000'000;
constexpr Micros kNow = 1'800'000'000'000'000;

class RulesTest : public ::testing::Test {
 protected:
  RouteFacts Facts(std::string type, std::string from, std::vector<std::string> to) {
    RouteFacts facts;
    facts.type = std::move(type);
    facts.from = std::move(from);
    facts.to = std::move(to);
    facts.subject = "child-a";
    facts.kinds = {
        {"flen.school", "school"}, {"flen.social", "social"}, {"region.health", "health"}};
    facts.now = kNow;
    return facts;
  }
  ConsentFacts Consent() {
    return ConsentFacts{"c1",        "child-a",   "flen.school", {"flen.school", "flen.social"},
                        {"support"}, kNow - kDay, kNow + kDay,   false};
  }
  RouteFacts Support() {
    RouteFacts facts = Facts("support_request", "flen.school", {"flen.social"});
    facts.consent_id = "c1";
    facts.consent = Consent();
    return facts;
  }
};

TEST_F(RulesTest, ConcernReportNeedsNoConsentButOnlyGoesToSocial) {
  EXPECT_TRUE(CheckRoute(Facts("concern_report", "flen.school", {"flen.social"})).ok());
  EXPECT_EQ(CheckRoute(Facts("concern_report", "flen.school", {"region.health"})).code(),
            Code::kNotAllowed);
}

TEST_F(RulesTest, UnknownRecipientAndSelf) {
  EXPECT_EQ(CheckRoute(Facts("concern_report", "flen.school", {"nowhere.social"})).code(),
            Code::kUnknownRecipient);
  EXPECT_EQ(CheckRoute(Facts("concern_report", "flen.social", {"flen.social"})).code(),
            Code::kNotAllowed);
}

TEST_F(RulesTest, SupportRequestWithMatchingConsentPasses) {
  EXPECT_TRUE(CheckRoute(Support()).ok());
}

TEST_F(RulesTest, SupportRequestWithoutConsentIsRequired) {
  RouteFacts facts = Support();
  facts.consent_id.clear();
  facts.consent.reset();
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentRequired);
  facts.consent_id = "unknown";
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentRequired);
}

TEST_F(RulesTest, AnotherChildUnderTheSameConsentIsOutOfScope) {
  RouteFacts facts = Support();
  facts.subject = "child-b";
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentScope);
}

TEST_F(RulesTest, RecipientOutsideThePartiesIsOutOfScope) {
  RouteFacts facts = Support();
  facts.to = {"region.health"};
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentScope);
}

TEST_F(RulesTest, PurposeOutsideThePurposesIsOutOfScope) {
  RouteFacts facts = Support();
  facts.type = "assessment_referral";
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentScope);
}

TEST_F(RulesTest, RevokedAndExpiredConsents) {
  RouteFacts facts = Support();
  facts.consent->revoked = true;
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentRevoked);
  facts = Support();
  facts.now = kNow + 2 * kDay;
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentExpired);
  facts.now = kNow - 2 * kDay;
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentExpired);
}

TEST_F(RulesTest, ConcernFeedbackOnlyFromARecipientBackToTheReporter) {
  RouteFacts facts = Facts("concern_feedback", "flen.social", {"flen.school"});
  facts.ref = "r1";
  facts.referenced =
      ReferencedMessage{"concern_report", "flen.school", "child-a", "", {"flen.social"}};
  EXPECT_TRUE(CheckRoute(facts).ok());
  RouteFacts stranger = facts;
  stranger.from = "region.health";
  EXPECT_EQ(CheckRoute(stranger).code(), Code::kNotAllowed);
  RouteFacts elsewhere = facts;
  elsewhere.to = {"region.health"};
  EXPECT_EQ(CheckRoute(elsewhere).code(), Code::kNotAllowed);
  RouteFacts unreferenced = facts;
  unreferenced.referenced.reset();
  EXPECT_EQ(CheckRoute(unreferenced).code(), Code::kNotAllowed);
  RouteFacts wrong_type = facts;
  wrong_type.referenced->type = "support_request";
  EXPECT_EQ(CheckRoute(wrong_type).code(), Code::kNotAllowed);
  // The receiving agent has no index of earlier messages: an unknown referenced message is taken
  // as the broker's to check, a missing ref is still refused.
  unreferenced.referenced_checked_upstream = true;
  EXPECT_TRUE(CheckRoute(unreferenced).ok());
  unreferenced.ref.clear();
  EXPECT_EQ(CheckRoute(unreferenced).code(), Code::kNotAllowed);
}

TEST_F(RulesTest, ReferralStatusOnlyBetweenTheReferralsParties) {
  RouteFacts facts = Facts("referral_status", "flen.social", {"flen.school"});
  facts.ref = "s1";
  facts.referenced =
      ReferencedMessage{"support_request", "flen.school", "child-a", "c1", {"flen.social"}};
  EXPECT_TRUE(CheckRoute(facts).ok());
  facts.to = {"region.health"};
  EXPECT_EQ(CheckRoute(facts).code(), Code::kNotAllowed);
}

TEST_F(RulesTest, InformationResponseNeedsConsentAndGoesBackToTheRequester) {
  RouteFacts facts = Facts("information_response", "flen.social", {"flen.school"});
  facts.ref = "q1";
  facts.referenced =
      ReferencedMessage{"information_request", "flen.school", "child-a", "c1", {"flen.social"}};
  facts.consent_id = "c1";
  facts.consent = Consent();
  facts.consent->purposes = {"information_exchange"};
  EXPECT_TRUE(CheckRoute(facts).ok());
  facts.consent->purposes = {"support"};
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentScope);
}

TEST_F(RulesTest, ConsentGrantedByAPartyToEveryOtherParty) {
  RouteFacts facts = Facts("consent_granted", "flen.school", {"flen.social"});
  facts.consent_id = "c2";
  facts.granted = Consent();
  facts.granted->consent_id = "c2";
  EXPECT_TRUE(CheckRoute(facts).ok());
  RouteFacts existing = facts;
  existing.consent = Consent();
  EXPECT_EQ(CheckRoute(existing).code(), Code::kNotAllowed);
  RouteFacts forged = facts;
  forged.from = "region.health";
  forged.to = {"flen.social", "flen.school"};
  EXPECT_EQ(CheckRoute(forged).code(), Code::kConsentScope);
  RouteFacts partial = facts;
  partial.granted->parties.push_back("region.health");
  EXPECT_EQ(CheckRoute(partial).code(), Code::kNotAllowed);
}

// Issue 14, item 11: a grant whose valid_until had passed was accepted and routed.
TEST_F(RulesTest, AConsentGrantedAfterItsValidUntilIsExpired) {
  RouteFacts facts = Facts("consent_granted", "flen.school", {"flen.social"});
  facts.consent_id = "c2";
  facts.granted = Consent();
  facts.granted->consent_id = "c2";
  facts.now = facts.granted->valid_until;
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentExpired);
  facts.now = facts.granted->valid_until - 1;
  EXPECT_TRUE(CheckRoute(facts).ok());
}

TEST_F(RulesTest, ConsentRevokedByAnyPartyButNotByAStranger) {
  RouteFacts facts = Facts("consent_revoked", "flen.social", {"flen.school"});
  facts.consent_id = "c1";
  facts.consent = Consent();
  EXPECT_TRUE(CheckRoute(facts).ok());
  RouteFacts stranger = Facts("consent_revoked", "region.health", {"flen.school", "flen.social"});
  stranger.consent_id = "c1";
  stranger.consent = Consent();
  EXPECT_EQ(CheckRoute(stranger).code(), Code::kConsentScope);
  RouteFacts unknown = facts;
  unknown.consent.reset();
  EXPECT_EQ(CheckRoute(unknown).code(), Code::kConsentRequired);
}

// Issue 14, item 11: a second revocation of a revoked consent was accepted and routed.
TEST_F(RulesTest, ARevokedConsentCannotBeRevokedAgain) {
  RouteFacts facts = Facts("consent_revoked", "flen.social", {"flen.school"});
  facts.consent_id = "c1";
  facts.consent = Consent();
  facts.consent->revoked = true;
  EXPECT_EQ(CheckRoute(facts).code(), Code::kConsentRevoked);
}

std::string Dash(std::string_view value) { return value.empty() ? "—" : std::string(value); }

TEST(RulesDocTest, DocsTableIsTheCodeTable) {
  std::ifstream in(std::string(STAFETT_SOURCE_DIR) + "/docs/RULES.md");
  ASSERT_TRUE(in) << "docs/RULES.md missing";
  std::stringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  size_t begin = doc.find("<!-- rules-table:begin -->");
  size_t end = doc.find("<!-- rules-table:end -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::string table = doc.substr(begin, end - begin);
  std::vector<std::string> rows;
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| ", 0) == 0 && line.find("---") == std::string::npos &&
        line.find("| type |") == std::string::npos) {
      rows.push_back(line);
    }
  }
  ASSERT_EQ(rows.size(), RulesTable().size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const MessageRule& rule = RulesTable()[i];
    std::string expected =
        "| " + std::string(rule.type) + " | " + Dash(rule.purpose) + " | " +
        std::string(rule.recipient_kinds) + " | " +
        (rule.reference == "none" ? "—" : std::string(rule.reference)) + " | " +
        (rule.reference_route == "none" ? "—" : std::string(rule.reference_route)) + " | " +
        std::string(rule.summary) + " |";
    EXPECT_EQ(rows[i], expected);
  }
}

}  // namespace
}  // namespace stafett::core
