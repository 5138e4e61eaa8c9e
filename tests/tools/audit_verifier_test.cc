// AuditVerifier: a signed tree head is accepted only with the broker's signature over exactly
// its fields; a head signed by another key, or altered after signing, is refused. The head the
// auditor keeps round-trips through its durable write.
#include "audit_verifier.h"

#include <gtest/gtest.h>

#include "stafett/core/encoding.h"
#include "support/sandbox_files.h"

namespace stafett::tools {
namespace {

class AuditVerifierTest : public ::testing::Test {
 protected:
  AuditVerifierTest() {
    core::Micros now = core::SystemClock::Instance().Now();
    broker_ = *keys::GenerateKeySet("broker", now - 1'000'000, now + 3'600'000'000);
    stranger_ = *keys::GenerateKeySet("broker", now - 1'000'000, now + 3'600'000'000);
    keys::Principal principal;
    principal.id = "broker";
    principal.role = keys::Role::kBroker;
    EXPECT_TRUE(directory_.AddPrincipal(principal, broker_).ok());
  }

  nlohmann::json Head(const keys::KeySet& signer, uint64_t size, const std::string& root_hex) {
    std::string timestamp = "2026-11-23T08:15:00.123Z";
    std::string input =
        "stafett-tree-head-v1\n" + std::to_string(size) + "\n" + root_hex + "\n" + timestamp;
    return {{"tree_size", size},
            {"root_hash", root_hex},
            {"timestamp", timestamp},
            {"key_id", broker_.key_id},
            {"signature", core::ToBase64(core::Sign(signer.signing, input))}};
  }

  keys::KeySet broker_, stranger_;
  keys::TrustDirectory directory_;
  std::string root_ = std::string(64, 'a');
};

TEST_F(AuditVerifierTest, AcceptsTheBrokersSignature) {
  core::Result<TreeHead> head = CheckSignedHead(Head(broker_, 7, root_), directory_);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->tree_size, 7u);
}

TEST_F(AuditVerifierTest, TheSavedHeadRoundTripsAndIsReplacedWhole) {
  testing::TempDir dir;
  std::filesystem::path state = std::filesystem::path(dir.path()) / "auditor";
  for (uint64_t size : {uint64_t{7}, uint64_t{9}}) {
    ASSERT_TRUE(SaveVerifiedHead(state, Head(broker_, size, root_)).ok());
    std::string text;
    ASSERT_TRUE(testing::ReadWholeFile(state / "last_head.json", &text));
    core::Result<TreeHead> saved =
        CheckSignedHead(nlohmann::json::parse(text, nullptr, false), directory_);
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
    EXPECT_EQ(saved->tree_size, size);
  }
  // No temp file is left beside it.
  EXPECT_EQ(testing::ListNames(state, true), std::vector<std::string>{"last_head.json"});
}

TEST_F(AuditVerifierTest, RefusesAHeadSignedByAnotherKey) {
  EXPECT_EQ(CheckSignedHead(Head(stranger_, 7, root_), directory_).status().code(),
            core::Code::kBadSignature);
}

TEST_F(AuditVerifierTest, RefusesAHeadAlteredAfterSigning) {
  nlohmann::json head = Head(broker_, 7, root_);
  head["tree_size"] = uint64_t{8};
  EXPECT_EQ(CheckSignedHead(head, directory_).status().code(), core::Code::kBadSignature);
  head = Head(broker_, 7, root_);
  head["root_hash"] = std::string(64, 'b');
  EXPECT_EQ(CheckSignedHead(head, directory_).status().code(), core::Code::kBadSignature);
  head = Head(broker_, 7, root_);
  head["key_id"] = "0000000000000000";
  EXPECT_EQ(CheckSignedHead(head, directory_).status().code(), core::Code::kBadSignature);
}

TEST_F(AuditVerifierTest, RefusesMalformedHeads) {
  EXPECT_FALSE(CheckSignedHead(nlohmann::json::object(), directory_).ok());
  nlohmann::json head = Head(broker_, 7, root_);
  head["root_hash"] = "short";
  EXPECT_FALSE(CheckSignedHead(head, directory_).ok());
}

TEST_F(AuditVerifierTest, AVersionTwoHeadCommitsToTheTrailMap) {
  std::string timestamp = "2026-11-23T08:15:00.123Z";
  std::string map_root(64, 'c');
  std::string input = "stafett-tree-head-v2\n7\n" + root_ + "\n" + map_root + "\n" + timestamp;
  nlohmann::json head = {{"tree_size", uint64_t{7}},
                         {"root_hash", root_},
                         {"map_root", map_root},
                         {"timestamp", timestamp},
                         {"key_id", broker_.key_id},
                         {"signature", core::ToBase64(core::Sign(broker_.signing, input))}};
  core::Result<TreeHead> checked = CheckSignedHead(head, directory_);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  ASSERT_TRUE(checked->map_root.has_value());
  EXPECT_EQ(core::HashToHex(*checked->map_root), map_root);
  nlohmann::json altered = head;
  altered["map_root"] = std::string(64, 'd');
  EXPECT_EQ(CheckSignedHead(altered, directory_).status().code(), core::Code::kBadSignature);
  altered = head;
  altered.erase("map_root");  // a v2 signature does not pass as v1
  EXPECT_EQ(CheckSignedHead(altered, directory_).status().code(), core::Code::kBadSignature);
}

// The chain check of `audit trail`: records 2 ← 5 ← 9 of subject "p" (the latest, 9, from the
// trail map). Whole: ok. Any one missing: a gap naming its position (and who names it).
TEST(TrailChainTest, AWholeChainPassesAndAGapIsNamed) {
  auto record = [](uint64_t seq, std::optional<uint64_t> prev) {
    return nlohmann::json{{"seq", seq},
                          {"subject", "p"},
                          {"prev_subject_seq", prev ? nlohmann::json(*prev) : nullptr}};
  };
  std::map<uint64_t, nlohmann::json> whole = {
      {2, record(2, std::nullopt)}, {5, record(5, 2)}, {9, record(9, 5)}};
  EXPECT_TRUE(CheckTrailChain('s', "p", 9, whole).ok());
  EXPECT_TRUE(CheckTrailChain('s', "p", std::nullopt, {}).ok());

  std::map<uint64_t, nlohmann::json> middle = whole;
  middle.erase(5);
  core::Status gap = CheckTrailChain('s', "p", 9, middle);
  EXPECT_EQ(gap.code(), core::Code::kCorruption);
  EXPECT_NE(gap.message().find("gap at position 5"), std::string::npos) << gap.message();
  EXPECT_NE(gap.message().find("by position 9"), std::string::npos) << gap.message();

  std::map<uint64_t, nlohmann::json> first = whole;
  first.erase(2);
  EXPECT_NE(CheckTrailChain('s', "p", 9, first).message().find("gap at position 2"),
            std::string::npos);
  std::map<uint64_t, nlohmann::json> newest = whole;
  newest.erase(9);
  EXPECT_NE(CheckTrailChain('s', "p", 9, newest).message().find("gap at position 9"),
            std::string::npos);
  // The map says the trail is longer than what came back (records cut off at the end).
  EXPECT_NE(CheckTrailChain('s', "p", 12, whole).message().find("gap at position 12"),
            std::string::npos);
  // A record that is not in the chain, a record of another subject, an unlinked record.
  std::map<uint64_t, nlohmann::json> extra = whole;
  extra[7] = record(7, 5);
  EXPECT_NE(CheckTrailChain('s', "p", 9, extra).message().find("position 7"), std::string::npos);
  std::map<uint64_t, nlohmann::json> unlinked = whole;
  unlinked[5].erase("prev_subject_seq");
  EXPECT_EQ(CheckTrailChain('s', "p", 9, unlinked).code(), core::Code::kCorruption);
  EXPECT_EQ(CheckTrailChain('s', "q", 9, whole).code(), core::Code::kCorruption);
  // Endpoint trails link through prev_endpoint_seq[endpoint].
  std::map<uint64_t, nlohmann::json> endpoint = {
      {1, {{"seq", 1}, {"prev_endpoint_seq", {{"a", nullptr}, {"b", nullptr}}}}},
      {4, {{"seq", 4}, {"prev_endpoint_seq", {{"a", 1}}}}}};
  EXPECT_TRUE(CheckTrailChain('e', "a", 4, endpoint).ok());
  EXPECT_EQ(CheckTrailChain('e', "b", 4, endpoint).code(), core::Code::kCorruption);
  // A link that does not point back cannot loop.
  std::map<uint64_t, nlohmann::json> forward = {{3, record(3, 3)}};
  EXPECT_EQ(CheckTrailChain('s', "p", 3, forward).code(), core::Code::kCorruption);
}

}  // namespace
}  // namespace stafett::tools
