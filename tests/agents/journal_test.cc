// Journal: outgoing records, the pending index, source keys, consents and received ids survive
// a reopen; the envelope comes back byte-identical.
#include "journal.h"

#include <gtest/gtest.h>

#include "support/sandbox_files.h"

namespace stafett::agent {
namespace {

core::Envelope SomeEnvelope() {
  return core::Envelope{"{\"header\":1}", std::string(64, '\x01'), std::string("\0\x02payload", 9)};
}

const std::string kNameKey(32, 'k');

TEST(JournalTest, RecordsSurviveReopenAndPendingFollowsState) {
  testing::TempDir dir;
  {
    auto journal = Journal::Open(dir.path() + "/j");
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    nlohmann::json record = {
        {"message_id", "m1"}, {"state", "pending"}, {"files", {"a.json"}}, {"created_at", 2}};
    ASSERT_TRUE(
        (*journal)->AddOutgoing(record, SomeEnvelope(), SourceKey(kNameKey, "a.json", "x")).ok());
    record["message_id"] = "m0";
    record["created_at"] = 1;
    ASSERT_TRUE((*journal)->AddOutgoing(record, SomeEnvelope(), "").ok());
    EXPECT_EQ((*journal)->pending_count(), 2u);
    EXPECT_EQ((*journal)->PendingIds(), (std::vector<std::string>{"m0", "m1"}));
    ASSERT_TRUE((*journal)
                    ->UpdateOutgoing("m0",
                                     [](nlohmann::json& entry) {
                                       entry["state"] = "accepted";
                                       return true;
                                     })
                    .ok());
    EXPECT_EQ((*journal)->pending_count(), 1u);
    EXPECT_EQ((*journal)->UpdateOutgoing("nope", [](nlohmann::json&) { return true; }).code(),
              core::Code::kNotFound);
    ASSERT_TRUE((*journal)->PutConsent("c1", {{"revoked", false}}).ok());
    ASSERT_TRUE((*journal)->MarkReceived("in-1", {{"type", "concern_report"}}).ok());
  }
  auto journal = Journal::Open(dir.path() + "/j");
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ((*journal)->pending_count(), 1u);
  EXPECT_EQ((*journal)->PendingIds(), (std::vector<std::string>{"m1"}));
  auto envelope = (*journal)->GetEnvelope("m1");
  ASSERT_TRUE(envelope.ok() && envelope->has_value());
  EXPECT_EQ(**envelope, SomeEnvelope());
  auto source = (*journal)->FindBySource(SourceKey(kNameKey, "a.json", "x"));
  ASSERT_TRUE(source.ok() && source->has_value());
  EXPECT_EQ(**source, "m1");
  EXPECT_FALSE((*journal)->FindBySource(SourceKey(kNameKey, "a.json", "y"))->has_value());
  EXPECT_EQ((**(*journal)->GetOutgoing("m0")).value("state", ""), "accepted");
  EXPECT_TRUE((*journal)->GetConsent("c1")->has_value());
  EXPECT_TRUE(*(*journal)->WasReceived("in-1"));
  EXPECT_FALSE(*(*journal)->WasReceived("in-2"));
}

// Regression (issue 14 item 15): the source key held the outbox file name in clear.
TEST(JournalTest, SourceKeysHideTheFileName) {
  const std::string key = OutboxNameKey(std::string(32, 'k'));
  const std::string source = SourceKey(key, "Anna 191212121212.json", "x");
  EXPECT_EQ(source.find("Anna"), std::string::npos);
  EXPECT_EQ(source.size(), 64u);
  EXPECT_EQ(source, SourceKey(key, "Anna 191212121212.json", "x"));
  EXPECT_NE(source, SourceKey(key, "Anna 191212121212.json", "y"));
  EXPECT_NE(source, SourceKey(OutboxNameKey(std::string(32, 'j')), "Anna 191212121212.json", "x"));
}

TEST(JournalTest, EnvelopeEncodingRoundTripsAndRejectsTruncation) {
  std::string bytes = EncodeEnvelope(SomeEnvelope());
  EXPECT_EQ(DecodeEnvelope(bytes), SomeEnvelope());
  EXPECT_FALSE(DecodeEnvelope(bytes.substr(0, 10)).has_value());
  EXPECT_FALSE(DecodeEnvelope("").has_value());
}

}  // namespace
}  // namespace stafett::agent
