// The BrokerStore conformance suite: the same tests against every implementation
// (store/support/store_harness.cc lists them; `ctest -N` shows each test once per store).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "stafett/core/crypto.h"
#include "stafett/store/broker_store.h"
#include "store/support/store_harness.h"
#include "support/sandbox_files.h"

namespace stafett::store {
namespace {

using testing::StoreImplementation;

const std::string kPseudonym(64, 'a');

core::MessageState SampleState(uint64_t seq) {
  core::MessageState state;
  state.seq = seq;
  state.type = "support_request";
  state.from = "flen.school";
  state.to = {"flen.social"};
  state.subject = kPseudonym;
  state.accepted_at = 100;
  state.expires_at = 200;
  state.payload_digest = std::string(32, '\x01');
  state.header_digest = std::string(32, '\x02');
  state.recipients["flen.social"] = core::RecipientDelivery{core::RecipientState::kQueued, 1};
  return state;
}

core::QueueEntry MessageEntry(const std::string& message_id) {
  return core::QueueEntry{5, core::QueuedMessage{message_id}};
}

class BrokerStoreConformanceTest : public ::testing::TestWithParam<StoreImplementation> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make(dir_.path());
    Reopen();
  }
  void Reopen() {
    store_.reset();
    core::Result<std::unique_ptr<BrokerStore>> opened = harness_->Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void Commit(const BrokerTransaction& transaction) {
    core::Status committed = store_->Commit(transaction);
    ASSERT_TRUE(committed.ok()) << committed.ToString();
  }

  stafett::testing::TempDir dir_{"stafett-store"};
  std::unique_ptr<testing::StoreHarness> harness_;
  std::unique_ptr<BrokerStore> store_;
};

TEST_P(BrokerStoreConformanceTest, ANewStoreIsEmpty) {
  EXPECT_EQ(*store_->AuditSize(), 0u);
  EXPECT_EQ(*store_->QueueSeq(), 0u);
  EXPECT_FALSE(store_->GetMessageState("m-1")->has_value());
  EXPECT_FALSE(store_->LatestTreeHead()->has_value());
  size_t queued = 0;
  ASSERT_TRUE(
      store_->ScanQueueKeys([&](std::string_view, uint64_t) { return ++queued, true; }).ok());
  EXPECT_EQ(queued, 0u);
}

TEST_P(BrokerStoreConformanceTest, EveryRecordReadsBackAsWritten) {
  BrokerTransaction txn;
  core::Envelope envelope{"{\"h\":1}", std::string(64, 's'), std::string(48, 'p')};
  core::DedupEntry dedup{"flen.school", std::string(32, '\x02'), 0};
  core::ConsentRecord consent;
  consent.facts = core::ConsentFacts{
      "consent-1", kPseudonym, "flen.school", {"flen.school"}, {"support"}, 1, 2, false};
  core::TreeHead head;
  head.tree_size = 1;
  head.root.fill(3);
  head.timestamp = 7;
  head.key_id = "k";
  head.signature = std::string(64, 'g');
  core::Hash node;
  node.fill(4);
  core::DeadLetter letter{core::RecipientState::kExpired, core::Code::kExpired, 9};
  txn.PutEnvelope("m-1", envelope);
  txn.PutMessageState("m-1", SampleState(0));
  txn.PutDedup("m-1", dedup);
  txn.PutQueueEntry("flen.social", 1, MessageEntry("m-1"));
  txn.PutConsent(consent);
  txn.PutTreeHead(head);
  txn.AppendAuditLeaf(0, "{\"seq\":0}");
  txn.PutMerkleNode(0, 0, node);
  txn.PutTrailMapNode(std::string("\0\0", 2), "N node");
  txn.PutDeadLetter("m-1", "flen.social", letter);
  txn.PutQueueSeq(1);
  Commit(txn);
  EXPECT_EQ(**store_->GetEnvelope("m-1"), envelope);
  EXPECT_EQ(**store_->GetMessageState("m-1"), SampleState(0));
  EXPECT_EQ(**store_->GetDedup("m-1"), dedup);
  EXPECT_EQ(**store_->GetQueueEntry("flen.social", 1), MessageEntry("m-1"));
  EXPECT_TRUE(**store_->GetConsent("consent-1") == consent);
  EXPECT_EQ(**store_->GetTreeHead(1), head);
  EXPECT_EQ(**store_->GetAuditLeaf(0), "{\"seq\":0}");
  EXPECT_EQ(**store_->GetMerkleNode(0, 0), node);
  EXPECT_EQ(**store_->GetTrailMapNode(std::string("\0\0", 2)), "N node");
  EXPECT_EQ(**store_->GetDeadLetter("m-1", "flen.social"), letter);
  EXPECT_EQ(*store_->QueueSeq(), 1u);
  EXPECT_FALSE(store_->GetQueueEntry("flen.social", 2)->has_value());
  EXPECT_FALSE(store_->GetDeadLetter("m-1", "flen.health")->has_value());
}

TEST_P(BrokerStoreConformanceTest, DeletesRemoveAndLaterOperationsWin) {
  BrokerTransaction first;
  first.PutEnvelope("m-1", {"h", std::string(64, 's'), std::string(48, 'p')});
  first.PutQueueEntry("flen.social", 1, MessageEntry("m-1"));
  first.PutExpiry(50, "m-1");
  first.PutTrailLink({core::TrailKind::kConsentWaiting, "consent-1", "m-1"});
  first.PutMessageState("m-1", SampleState(0));
  first.PutDeadLetter("m-1", "flen.social",
                      core::DeadLetter{core::RecipientState::kExpired, core::Code::kExpired, 9});
  first.PutMessageState("m-3", SampleState(1));
  Commit(first);
  BrokerTransaction second;
  second.DeleteEnvelope("m-1");
  second.DeleteQueueEntry("flen.social", 1);
  second.DeleteExpiry(50, "m-1");
  second.DeleteTrailLink({core::TrailKind::kConsentWaiting, "consent-1", "m-1"});
  second.DeleteMessageState("m-1");  // retention
  second.DeleteDeadLetter("m-1", "flen.social");
  second.PutQueueEntry("flen.social", 2, MessageEntry("m-2"));
  second.DeleteQueueEntry("flen.social", 2);  // within one transaction, in order
  Commit(second);
  EXPECT_FALSE(store_->GetEnvelope("m-1")->has_value());
  EXPECT_FALSE(store_->GetQueueEntry("flen.social", 1)->has_value());
  EXPECT_FALSE(store_->GetQueueEntry("flen.social", 2)->has_value());
  EXPECT_FALSE(store_->GetMessageState("m-1")->has_value());
  EXPECT_FALSE(store_->GetDeadLetter("m-1", "flen.social")->has_value());
  EXPECT_TRUE(store_->GetMessageState("m-3")->has_value()) << "only what was named goes";
  size_t due = 0, links = 0;
  ASSERT_TRUE(
      store_->ScanExpiredBy(100, [&](core::Micros, std::string_view) { return ++due, true; }).ok());
  ASSERT_TRUE(store_
                  ->ScanTrailLinks(core::TrailKind::kConsentWaiting, "consent-1",
                                   [&](std::string_view) { return ++links, true; })
                  .ok());
  EXPECT_EQ(due, 0u);
  EXPECT_EQ(links, 0u);
}

// The gauge stafett_store_space_bytes: each space's bytes apart from the others'.
TEST_P(BrokerStoreConformanceTest, SpaceBytesCountEachSpaceApart) {
  std::array<uint64_t, kSpaceCount> empty = store_->SpaceBytes();
  BrokerTransaction transaction;
  for (int i = 0; i < 500; ++i) {
    transaction.PutEnvelope("m-" + std::to_string(i),  // random: incompressible
                            {"h", std::string(64, 's'), core::RandomBytes(2048)});
  }
  Commit(transaction);
  ASSERT_TRUE(store_->Flush().ok());
  std::array<uint64_t, kSpaceCount> bytes = store_->SpaceBytes();
  const uint64_t envelopes = bytes[static_cast<size_t>(Space::kEnvelopes)];
  EXPECT_GE(envelopes, 500u * 2048) << "the payloads, at least";
  EXPECT_LE(envelopes, 2u * 500 * (2048 + 64 + 16)) << "not much more than what was written";
  for (size_t space = 0; space < kSpaceCount; ++space) {
    if (space == static_cast<size_t>(Space::kEnvelopes)) continue;
    EXPECT_LE(bytes[space], empty[space] + 4096) << SpaceName(static_cast<Space>(space));
  }
}

TEST_P(BrokerStoreConformanceTest, ATransactionWithABadRecordWritesNothing) {
  BrokerTransaction txn;
  txn.PutQueueEntry("flen.social", 1, MessageEntry("m-1"));
  core::MessageState broken = SampleState(0);
  broken.from.clear();
  txn.PutMessageState("m-1", broken);
  txn.PutQueueSeq(1);
  core::Status committed = store_->Commit(txn);
  EXPECT_EQ(committed.code(), core::Code::kInternal);
  EXPECT_NE(committed.message().find("from missing"), std::string::npos) << committed.message();
  EXPECT_FALSE(store_->GetQueueEntry("flen.social", 1)->has_value());
  EXPECT_EQ(*store_->QueueSeq(), 0u);
}

TEST_P(BrokerStoreConformanceTest, QueueScansAreOrderedPerEndpointAndResume) {
  BrokerTransaction txn;
  // "a.b" is a prefix of "a.bc": the 0x00 after the endpoint keeps their queues apart.
  for (uint64_t seq : {300u, 2u, 256u, 1u}) {
    txn.PutQueueEntry("a.b", seq, MessageEntry("m-" + std::to_string(seq)));
  }
  txn.PutQueueEntry("a.bc", 3, MessageEntry("other"));
  txn.PutQueueEntry("a.a", 4, MessageEntry("other"));
  Commit(txn);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(store_
                  ->ScanQueue("a.b", 0,
                              [&](uint64_t seq, const core::QueueEntry& entry) {
                                EXPECT_EQ(std::get<core::QueuedMessage>(entry.item).message_id,
                                          "m-" + std::to_string(seq));
                                seqs.push_back(seq);
                                return true;
                              })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 256, 300}));
  seqs.clear();
  ASSERT_TRUE(store_
                  ->ScanQueue("a.b", 2,
                              [&](uint64_t seq, const core::QueueEntry&) {
                                seqs.push_back(seq);
                                return seqs.size() < 1;  // stop after one
                              })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{256}));
  std::vector<std::pair<std::string, uint64_t>> keys;
  ASSERT_TRUE(store_
                  ->ScanQueueKeys([&](std::string_view endpoint, uint64_t seq) {
                    keys.emplace_back(std::string(endpoint), seq);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_EQ(keys.front(), (std::pair<std::string, uint64_t>{"a.a", 4}));
  EXPECT_EQ(keys.back(), (std::pair<std::string, uint64_t>{"a.bc", 3}));
}

TEST_P(BrokerStoreConformanceTest, ExpiryScanReturnsOnlyWhatIsDueEarliestFirst) {
  BrokerTransaction txn;
  txn.PutExpiry(300, "late");
  txn.PutExpiry(100, "first");
  txn.PutExpiry(200, "second");
  Commit(txn);
  std::vector<std::string> due;
  ASSERT_TRUE(store_
                  ->ScanExpiredBy(200,
                                  [&](core::Micros at, std::string_view id) {
                                    due.push_back(std::to_string(at) + ":" + std::string(id));
                                    return true;
                                  })
                  .ok());
  EXPECT_EQ(due, (std::vector<std::string>{"100:first", "200:second"}));
}

TEST_P(BrokerStoreConformanceTest, TrailScansAreOrderedAndResume) {
  BrokerTransaction txn;
  for (uint64_t seq : {9u, 1u, 5u}) txn.PutTrailEntry({core::TrailKind::kSubject, kPseudonym, seq});
  txn.PutTrailEntry({core::TrailKind::kEndpoint, "flen.school", 2});
  txn.PutTrailLink({core::TrailKind::kSubjectConsent, kPseudonym, "consent-b"});
  txn.PutTrailLink({core::TrailKind::kSubjectConsent, kPseudonym, "consent-a"});
  Commit(txn);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(store_
                  ->ScanTrail(core::TrailKind::kSubject, kPseudonym, 1,
                              [&](uint64_t seq) {
                                seqs.push_back(seq);
                                return true;
                              })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{5, 9}));
  std::vector<std::string> consents;
  ASSERT_TRUE(store_
                  ->ScanTrailLinks(core::TrailKind::kSubjectConsent, kPseudonym,
                                   [&](std::string_view id) {
                                     consents.emplace_back(id);
                                     return true;
                                   })
                  .ok());
  EXPECT_EQ(consents, (std::vector<std::string>{"consent-a", "consent-b"}));
}

TEST_P(BrokerStoreConformanceTest, AuditSizeAndLatestHeadFollowTheLog) {
  for (uint64_t seq = 0; seq < 300; ++seq) {
    BrokerTransaction txn;
    txn.AppendAuditLeaf(seq, "{\"seq\":" + std::to_string(seq) + "}");
    if (seq % 100 == 99) {
      core::TreeHead head;
      head.tree_size = seq + 1;
      head.timestamp = static_cast<core::Micros>(seq);
      head.key_id = "k";
      head.signature = std::string(64, 'g');
      txn.PutTreeHead(head);
    }
    Commit(txn);
  }
  EXPECT_EQ(*store_->AuditSize(), 300u);
  core::Result<std::optional<core::TreeHead>> latest = store_->LatestTreeHead();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->tree_size, 300u);
  EXPECT_EQ((*store_->GetTreeHead(200))->tree_size, 200u);
  EXPECT_FALSE(store_->GetTreeHead(150)->has_value());
}

TEST_P(BrokerStoreConformanceTest, AVisitorMayReadTheStore) {
  BrokerTransaction txn;
  for (uint64_t seq = 1; seq <= 200; ++seq) {
    txn.PutQueueEntry("flen.social", seq, MessageEntry("m-1"));
  }
  txn.PutMessageState("m-1", SampleState(3));
  Commit(txn);
  size_t read = 0;
  ASSERT_TRUE(store_
                  ->ScanQueue("flen.social", 0,
                              [&](uint64_t, const core::QueueEntry& entry) {
                                const std::string& id =
                                    std::get<core::QueuedMessage>(entry.item).message_id;
                                read += store_->GetMessageState(id)->has_value() ? 1 : 0;
                                return true;
                              })
                  .ok());
  EXPECT_EQ(read, 200u);
}

TEST_P(BrokerStoreConformanceTest, AReopenedStoreHoldsEveryCommit) {
  for (uint64_t i = 1; i <= 20; ++i) {
    BrokerTransaction txn;
    txn.PutMessageState("m-" + std::to_string(i), SampleState(i));
    txn.PutQueueEntry("flen.social", i, MessageEntry("m-" + std::to_string(i)));
    if (i > 1) txn.DeleteQueueEntry("flen.social", i - 1);
    txn.PutQueueSeq(i);
    Commit(txn);
  }
  Reopen();
  EXPECT_EQ(*store_->QueueSeq(), 20u);
  for (uint64_t i = 1; i <= 20; ++i) {
    EXPECT_EQ(**store_->GetMessageState("m-" + std::to_string(i)), SampleState(i));
  }
  std::vector<uint64_t> left;
  ASSERT_TRUE(store_
                  ->ScanQueue("flen.social", 0,
                              [&](uint64_t seq, const core::QueueEntry&) {
                                left.push_back(seq);
                                return true;
                              })
                  .ok());
  EXPECT_EQ(left, (std::vector<uint64_t>{20}));
}

TEST_P(BrokerStoreConformanceTest, ADatabaseOfAnotherFormatVersionIsRefused) {
  BrokerTransaction txn;
  txn.PutQueueSeq(1);
  txn.OverwriteStoreFormat({core::StoreKind::kBroker, core::kBrokerStoreFormatVersion + 1});
  Commit(txn);
  store_.reset();
  core::Result<std::unique_ptr<BrokerStore>> reopened = harness_->Open();
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), core::Code::kCorruption);
  EXPECT_NE(reopened.status().message().find("format version 2; this build reads broker store "
                                             "format version 1; refusing to open it"),
            std::string::npos)
      << reopened.status().message();
}

INSTANTIATE_TEST_SUITE_P(AllStores, BrokerStoreConformanceTest,
                         ::testing::ValuesIn(testing::AllStoreHarnesses()),
                         [](const ::testing::TestParamInfo<StoreImplementation>& implementation) {
                           return implementation.param.name;
                         });

}  // namespace
}  // namespace stafett::store
