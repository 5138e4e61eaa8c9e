// SourceKey: an outbox file drop is recognised by a keyed hash, never by its name. (The journal
// itself is tested by tests/store/agent_journal_conformance_test.cc; its envelopes by core's
// StoredEnvelope tests.)
#include "source_key.h"

#include <gtest/gtest.h>

namespace stafett::agent {
namespace {

// Regression (issue 14 item 15): the source key held the outbox file name in clear.
TEST(SourceKeyTest, SourceKeysHideTheFileName) {
  const std::string key = OutboxNameKey(std::string(32, 'k'));
  const std::string source = SourceKey(key, "Anna 191212121212.json", "x");
  EXPECT_EQ(source.find("Anna"), std::string::npos);
  EXPECT_EQ(source.size(), 64u);
  EXPECT_EQ(source, SourceKey(key, "Anna 191212121212.json", "x"));
  EXPECT_NE(source, SourceKey(key, "Anna 191212121212.json", "y"));
  EXPECT_NE(source, SourceKey(OutboxNameKey(std::string(32, 'j')), "Anna 191212121212.json", "x"));
}

}  // namespace
}  // namespace stafett::agent
