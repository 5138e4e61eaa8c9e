// AuditVerifier: a signed tree head is accepted only with the broker's signature over exactly
// its fields; a head signed by another key, or altered after signing, is refused.
#include "audit_verifier.h"

#include <gtest/gtest.h>

#include "stafett/core/encoding.h"

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

}  // namespace
}  // namespace stafett::tools
