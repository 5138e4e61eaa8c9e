// The AgentJournal conformance suite: the same tests against every implementation
// (store/support/journal_harness.cc lists them; `ctest -N` shows each test once per journal).
// It holds what the agent relies on: an outgoing record, its envelope and its source key are
// written together; the pending index follows the state; revocation is final; every write is
// durable once acknowledged; a journal of another format is refused.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "stafett/store/agent_journal.h"
#include "stafett/store/rocksdb_agent_journal.h"
#include "store/support/journal_harness.h"
#include "support/sandbox_files.h"

namespace stafett::store {
namespace {

using testing::JournalImplementation;

const std::string kPseudonym(64, 'a');

core::Envelope SomeEnvelope(char fill = '\x02') {
  return core::Envelope{"{\"header\":1}", std::string(64, '\x01'), std::string(48, fill)};
}

core::OutgoingRecord Pending(const std::string& message_id, core::Micros created_at) {
  core::OutgoingRecord record;
  record.message_id = message_id;
  record.type = "support_request";
  record.to = {"flen.social"};
  record.subject = kPseudonym;
  record.consent_id = "consent-1";
  record.document_digest = std::string(32, '\x03');
  record.created_at = created_at;
  return record;
}

core::ConsentRecord Granted() {
  core::ConsentRecord consent;
  consent.facts = core::ConsentFacts{
      "consent-1", kPseudonym, "flen.school", {"flen.school", "flen.social"}, {"support"},
      1,           2,          false};
  consent.granted = core::ConsentEvent{"m-grant", std::nullopt, "flen.school", 5};
  return consent;
}

class AgentJournalConformanceTest : public ::testing::TestWithParam<JournalImplementation> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make(dir_.path());
    Reopen();
  }
  void Reopen() {
    journal_.reset();
    core::Result<std::unique_ptr<AgentJournal>> opened = harness_->Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    journal_ = std::move(opened).value();
  }
  void Add(const core::OutgoingRecord& record, const std::string& source_key = "") {
    core::Status added = journal_->AddOutgoing(record, SomeEnvelope(), source_key);
    ASSERT_TRUE(added.ok()) << added.ToString();
  }
  core::Status SetState(const std::string& message_id, core::OutgoingState state) {
    return journal_->UpdateOutgoing(message_id, [&](core::OutgoingRecord& record) {
      record.state = state;
      record.refusal_code =
          state == core::OutgoingState::kRefused ? core::Code::kConsentScope : core::Code::kOk;
      record.accepted_at =
          state == core::OutgoingState::kAccepted ? std::optional<core::Micros>(9) : std::nullopt;
      return true;
    });
  }

  stafett::testing::TempDir dir_{"stafett-journal"};
  std::unique_ptr<testing::JournalHarness> harness_;
  std::unique_ptr<AgentJournal> journal_;
};

TEST_P(AgentJournalConformanceTest, ANewJournalIsEmpty) {
  EXPECT_EQ(journal_->pending_count(), 0u);
  EXPECT_TRUE(journal_->PendingIds().empty());
  EXPECT_FALSE(journal_->GetOutgoing("m-1")->has_value());
  EXPECT_FALSE(journal_->GetEnvelope("m-1")->has_value());
  EXPECT_FALSE(journal_->FindBySource("source")->has_value());
  EXPECT_FALSE(journal_->GetConsent("consent-1")->has_value());
  EXPECT_FALSE(*journal_->WasReceived("in-1"));
}

TEST_P(AgentJournalConformanceTest, AnOutgoingRecordIsWrittenWithItsEnvelopeAndSource) {
  core::OutgoingRecord record = Pending("m-1", 2);
  record.scope = core::ConsentScope{{"flen.school", "flen.social"}, {"support"}, 1, 2};
  ASSERT_NO_FATAL_FAILURE(Add(record, "source-a"));
  EXPECT_EQ(**journal_->GetOutgoing("m-1"), record);
  EXPECT_EQ(**journal_->GetEnvelope("m-1"), SomeEnvelope());
  EXPECT_EQ(**journal_->FindBySource("source-a"), core::SourceEntry{"m-1"});
  EXPECT_FALSE(journal_->FindBySource("source-b")->has_value());
  ASSERT_TRUE(journal_->PutSource("source-b", {"m-1"}).ok());
  EXPECT_EQ(**journal_->FindBySource("source-b"), core::SourceEntry{"m-1"});
}

TEST_P(AgentJournalConformanceTest, AnUnwritableRecordWritesNothing) {
  core::OutgoingRecord record = Pending("m-1", 2);
  record.to.clear();
  EXPECT_EQ(journal_->AddOutgoing(record, SomeEnvelope(), "source-a").code(),
            core::Code::kInternal);
  EXPECT_EQ(journal_->AddOutgoing(Pending("m-1", 2), core::Envelope{}, "source-a").code(),
            core::Code::kInternal);
  EXPECT_FALSE(journal_->GetOutgoing("m-1")->has_value());
  EXPECT_FALSE(journal_->FindBySource("source-a")->has_value());
  EXPECT_EQ(journal_->pending_count(), 0u);
}

TEST_P(AgentJournalConformanceTest, ThePendingIndexFollowsTheStateOldestFirst) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2)));
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-0", 1)));
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-2", 3)));
  EXPECT_EQ(journal_->pending_count(), 3u);
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-0", "m-1", "m-2"}));

  ASSERT_TRUE(SetState("m-0", core::OutgoingState::kAccepted).ok());
  ASSERT_TRUE(SetState("m-2", core::OutgoingState::kRefused).ok());
  EXPECT_EQ(journal_->pending_count(), 1u);
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-1"}));
  EXPECT_EQ((**journal_->GetOutgoing("m-0")).state, core::OutgoingState::kAccepted);

  // Refused ids are free again: a retry puts the message back into the index.
  ASSERT_TRUE(SetState("m-2", core::OutgoingState::kPending).ok());
  EXPECT_EQ(journal_->pending_count(), 2u);
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-1", "m-2"}));

  // A record added as accepted is never in the index.
  core::OutgoingRecord accepted = Pending("m-3", 0);
  accepted.state = core::OutgoingState::kAccepted;
  ASSERT_NO_FATAL_FAILURE(Add(accepted));
  EXPECT_EQ(journal_->pending_count(), 2u);
}

TEST_P(AgentJournalConformanceTest, UpdateIsAReadModifyWriteThatMayLeaveTheRecord) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2)));
  EXPECT_EQ(journal_->UpdateOutgoing("nope", [](core::OutgoingRecord&) { return true; }).code(),
            core::Code::kNotFound);
  bool called = false;
  ASSERT_TRUE(journal_
                  ->UpdateOutgoing("m-1",
                                   [&](core::OutgoingRecord& record) {
                                     called = true;
                                     record.state = core::OutgoingState::kAccepted;
                                     return false;  // left as it was
                                   })
                  .ok());
  EXPECT_TRUE(called);
  EXPECT_EQ(**journal_->GetOutgoing("m-1"), Pending("m-1", 2));
  EXPECT_EQ(journal_->pending_count(), 1u);
  // A change that breaks the record's rules (refused without a code) is not written.
  EXPECT_EQ(journal_
                ->UpdateOutgoing("m-1",
                                 [](core::OutgoingRecord& record) {
                                   record.state = core::OutgoingState::kRefused;
                                   return true;
                                 })
                .code(),
            core::Code::kInternal);
  EXPECT_EQ(**journal_->GetOutgoing("m-1"), Pending("m-1", 2));
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-1"}));
}

TEST_P(AgentJournalConformanceTest, ConcurrentUpdatesOfOneRecordAreSerialised) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string recipient = "r" + std::to_string(t) + "x" + std::to_string(i) + ".social";
        journal_
            ->UpdateOutgoing("m-1",
                             [&](core::OutgoingRecord& record) {
                               record.recipients[recipient] = core::RecipientOutcome{};
                               return true;
                             })
            .ok();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ((**journal_->GetOutgoing("m-1")).recipients.size(), 40u);
}

TEST_P(AgentJournalConformanceTest, ARevokedConsentStaysRevoked) {
  ASSERT_TRUE(journal_->PutConsent(Granted()).ok());
  EXPECT_EQ(**journal_->GetConsent("consent-1"), Granted());
  core::ConsentRecord revoked = Granted();
  revoked.facts.revoked = true;
  revoked.revocation = core::ConsentEvent{"m-revoke", std::nullopt, "flen.school", 9};
  ASSERT_TRUE(journal_->PutConsent(revoked).ok());
  // The grant seen again (a redelivery, a resend's ACCEPTED) does not bring the consent back.
  ASSERT_TRUE(journal_->PutConsent(Granted()).ok());
  core::ConsentRecord stored = **journal_->GetConsent("consent-1");
  EXPECT_TRUE(stored.facts.revoked);
  EXPECT_EQ(stored, revoked);
  EXPECT_EQ(journal_->PutConsent(core::ConsentRecord{}).code(), core::Code::kInternal);
}

TEST_P(AgentJournalConformanceTest, ReceivedIdsAreKept) {
  ASSERT_TRUE(journal_->MarkReceived("in-1", {5, "concern_report"}).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-2", {6, ""}).ok());
  EXPECT_TRUE(*journal_->WasReceived("in-1"));
  EXPECT_FALSE(*journal_->WasReceived("in-3"));
  EXPECT_EQ(**journal_->GetReceived("in-1"), (core::ReceivedRecord{5, "concern_report"}));
  EXPECT_EQ(**journal_->GetReceived("in-2"), (core::ReceivedRecord{6, ""}));
}

// Retention (docs/PRIVACY.md, "At the agents"): the visits see every record, a removal takes
// the record, its envelope and its own source entries in one write, and a pending record or one
// the rule no longer allows stays.
TEST_P(AgentJournalConformanceTest, RetentionVisitsAndRemovesFinishedRecordsWhole) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 1), "source-a"));
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-2", 2), "source-b"));
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-3", 3)));
  ASSERT_TRUE(journal_->PutSource("source-c", {"m-1"}).ok());
  ASSERT_TRUE(journal_->PutSource("source-d", {"m-2"}).ok());
  ASSERT_TRUE(SetState("m-1", core::OutgoingState::kRefused).ok());
  ASSERT_TRUE(SetState("m-2", core::OutgoingState::kAccepted).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(journal_
                  ->ForEachOutgoing([&](const core::OutgoingRecord& record) {
                    seen.push_back(record.message_id);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"m-1", "m-2", "m-3"}));
  std::vector<std::string> sources;
  ASSERT_TRUE(journal_
                  ->ForEachSource([&](std::string_view key, const core::SourceEntry& entry) {
                    sources.push_back(std::string(key) + "=" + entry.message_id);
                    return key != "source-c";  // stops after it
                  })
                  .ok());
  EXPECT_EQ(sources, (std::vector<std::string>{"source-a=m-1", "source-b=m-2", "source-c=m-1"}));

  auto always = [](const core::OutgoingRecord&) { return true; };
  // A pending record is never removed, whatever the rule says; nor one the rule now refuses.
  EXPECT_FALSE(*journal_->RemoveOutgoing("m-3", always, {}));
  EXPECT_FALSE(*journal_->RemoveOutgoing("m-2", [](const core::OutgoingRecord&) { return false; },
                                         {"source-b"}));
  EXPECT_TRUE(journal_->GetOutgoing("m-2")->has_value());
  EXPECT_FALSE(*journal_->RemoveOutgoing("m-9", always, {}));
  // source-b names m-2, not m-1: it stays.
  EXPECT_TRUE(*journal_->RemoveOutgoing("m-1", always, {"source-a", "source-c", "source-b"}));
  Reopen();
  EXPECT_FALSE(journal_->GetOutgoing("m-1")->has_value());
  EXPECT_FALSE(journal_->GetEnvelope("m-1")->has_value());
  EXPECT_FALSE(journal_->FindBySource("source-a")->has_value());
  EXPECT_FALSE(journal_->FindBySource("source-c")->has_value());
  EXPECT_EQ(**journal_->FindBySource("source-b"), core::SourceEntry{"m-2"});
  EXPECT_TRUE(journal_->GetEnvelope("m-2")->has_value());
  EXPECT_EQ(journal_->pending_count(), 1u);
}

TEST_P(AgentJournalConformanceTest, RetentionRemovesReceivedIdsOneByOne) {
  ASSERT_TRUE(journal_->MarkReceived("in-1", {5, "concern_report", 50}).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-2", {6, "", 0}).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(journal_
                  ->ForEachReceived([&](std::string_view id, const core::ReceivedRecord& record) {
                    seen.push_back(std::string(id) + "@" + std::to_string(record.expires_at));
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"in-1@50", "in-2@0"}));
  ASSERT_TRUE(journal_->RemoveReceived("in-1").ok());
  ASSERT_TRUE(journal_->RemoveReceived("in-3").ok());  // none: ok
  Reopen();
  EXPECT_FALSE(*journal_->WasReceived("in-1"));
  EXPECT_EQ(**journal_->GetReceived("in-2"), (core::ReceivedRecord{6, "", 0}));
}

TEST_P(AgentJournalConformanceTest, TheWriteObserverSeesEveryWrite) {
  size_t writes = 0;
  journal_->set_write_observer([&](const core::Status& status) {
    EXPECT_TRUE(status.ok()) << status.ToString();
    ++writes;
  });
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2), "source-a"));
  ASSERT_TRUE(SetState("m-1", core::OutgoingState::kAccepted).ok());
  ASSERT_TRUE(journal_->PutSource("source-b", {"m-1"}).ok());
  ASSERT_TRUE(journal_->PutConsent(Granted()).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-1", {5, ""}).ok());
  EXPECT_EQ(writes, 5u);
  EXPECT_TRUE(journal_->Resume().ok());
}

TEST_P(AgentJournalConformanceTest, AReopenedJournalHoldsEveryWrite) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2), "source-a"));
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-0", 1)));
  ASSERT_TRUE(SetState("m-0", core::OutgoingState::kAccepted).ok());
  ASSERT_TRUE(journal_->PutConsent(Granted()).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-1", {5, "concern_report"}).ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(journal_->pending_count(), 1u);
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-1"}));
  EXPECT_EQ(**journal_->GetOutgoing("m-1"), Pending("m-1", 2));
  EXPECT_EQ((**journal_->GetOutgoing("m-0")).state, core::OutgoingState::kAccepted);
  EXPECT_EQ(**journal_->GetEnvelope("m-1"), SomeEnvelope());
  EXPECT_EQ(**journal_->FindBySource("source-a"), core::SourceEntry{"m-1"});
  EXPECT_EQ(**journal_->GetConsent("consent-1"), Granted());
  EXPECT_TRUE(*journal_->WasReceived("in-1"));
}

// Group commit: a batch's writes are seen by its own thread at once, by no other thread and
// by no reader of the journal on disk until it is committed, and then all together.
TEST_P(AgentJournalConformanceTest, ABatchIsSeenByItsThreadAndCommittedAsOneWrite) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2), "source-1"));
  size_t writes = 0;
  journal_->set_write_observer([&](const core::Status&) { ++writes; });
  journal_->BeginBatch();
  EXPECT_TRUE(journal_->in_batch());
  ASSERT_TRUE(SetState("m-1", core::OutgoingState::kAccepted).ok());
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-2", 3)));
  ASSERT_TRUE(journal_->MarkReceived("in-1", {5, ""}).ok());
  ASSERT_TRUE(journal_->PutConsent(Granted()).ok());
  EXPECT_EQ((**journal_->GetOutgoing("m-1")).state, core::OutgoingState::kAccepted);
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-2"}));
  EXPECT_TRUE(*journal_->WasReceived("in-1"));
  std::thread other([&] {
    EXPECT_FALSE(journal_->in_batch());
    EXPECT_EQ((**journal_->GetOutgoing("m-1")).state, core::OutgoingState::kPending);
    EXPECT_FALSE(journal_->GetOutgoing("m-2")->has_value());
    EXPECT_FALSE(*journal_->WasReceived("in-1"));
    EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-1"}));
  });
  other.join();
  EXPECT_EQ(writes, 0u);
  ASSERT_TRUE(journal_->CommitBatch().ok());
  EXPECT_EQ(writes, 1u);
  EXPECT_FALSE(journal_->in_batch());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-2"}));
  EXPECT_EQ(journal_->pending_count(), 1u);
  EXPECT_EQ((**journal_->GetOutgoing("m-1")).state, core::OutgoingState::kAccepted);
  EXPECT_TRUE(*journal_->WasReceived("in-1"));
  EXPECT_TRUE(journal_->GetConsent("consent-1")->has_value());
}

TEST_P(AgentJournalConformanceTest, AnAbortedBatchLeavesNothing) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2)));
  journal_->BeginBatch();
  ASSERT_TRUE(SetState("m-1", core::OutgoingState::kAccepted).ok());
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-2", 3)));
  EXPECT_EQ(journal_->pending_count(), 1u);
  journal_->AbortBatch();
  EXPECT_EQ(journal_->pending_count(), 1u);
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-1"}));
  EXPECT_FALSE(journal_->GetOutgoing("m-2")->has_value());
  EXPECT_EQ((**journal_->GetOutgoing("m-1")).state, core::OutgoingState::kPending);
}

// Another thread's read-modify-write waits for the batch, so it never works on a record the
// batch is changing (and never loses the batch's change).
// True once thread TID of this process is asleep (state S: here, waiting for a lock), within
// ten seconds.
bool WaitUntilAsleep(pid_t tid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t end = line.rfind(')');  // "tid (name) S …": the name may hold spaces
    if (end != std::string::npos && end + 2 < line.size() && line[end + 2] == 'S') return true;
    std::this_thread::yield();
  }
  return false;
}

TEST_P(AgentJournalConformanceTest, AnotherThreadsUpdateWaitsForTheBatch) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2)));
  journal_->BeginBatch();
  ASSERT_TRUE(journal_
                  ->UpdateOutgoing("m-1",
                                   [](core::OutgoingRecord& record) {
                                     record.recipients["flen.social"] = {};
                                     return true;
                                   })
                  .ok());
  std::atomic<pid_t> other_tid{0};
  std::thread other([&] {
    other_tid = static_cast<pid_t>(syscall(SYS_gettid));
    EXPECT_TRUE(SetState("m-1", core::OutgoingState::kAccepted).ok());
  });
  while (other_tid == 0) std::this_thread::yield();
  // The other thread's update is under way and blocked on the batch before the batch commits.
  // Had it not waited, one of the two changes would be lost: its write of the record as
  // committed before the batch, or the batch's write over it.
  EXPECT_TRUE(WaitUntilAsleep(other_tid)) << "the other thread's update did not wait";
  ASSERT_TRUE(journal_->CommitBatch().ok());
  other.join();
  core::OutgoingRecord record = **journal_->GetOutgoing("m-1");
  EXPECT_EQ(record.state, core::OutgoingState::kAccepted);
  EXPECT_EQ(record.recipients.count("flen.social"), 1u);
}

TEST_P(AgentJournalConformanceTest, AJournalOfAnotherFormatIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2)));
  ASSERT_TRUE(journal_
                  ->OverwriteStoreFormat(
                      {core::StoreKind::kAgentJournal, core::kAgentJournalFormatVersion + 1})
                  .ok());
  journal_.reset();
  core::Result<std::unique_ptr<AgentJournal>> newer = harness_->Open();
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), core::Code::kCorruption);
  EXPECT_NE(newer.status().message().find("format version 2; this build reads agent journal "
                                          "format version 1"),
            std::string::npos)
      << newer.status().message();

  // A fresh journal beside it (the refused one is left as it is) given a broker store's format.
  std::filesystem::create_directories(dir_.path() + "/second");
  harness_ = GetParam().make(dir_.path() + "/second");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_TRUE(
      journal_->OverwriteStoreFormat(core::CurrentStoreFormat(core::StoreKind::kBroker)).ok());
  journal_.reset();
  core::Result<std::unique_ptr<AgentJournal>> broker = harness_->Open();
  ASSERT_FALSE(broker.ok());
  EXPECT_NE(broker.status().message().find("'broker store', not 'agent journal'"),
            std::string::npos)
      << broker.status().message();
}

INSTANTIATE_TEST_SUITE_P(AllJournals, AgentJournalConformanceTest,
                         ::testing::ValuesIn(testing::AllJournalHarnesses()),
                         [](const ::testing::TestParamInfo<JournalImplementation>& implementation) {
                           return implementation.param.name;
                         });

// The same fixture, run on the implementations whose filesystem can lose power (the
// fault-injecting one; a replicated store would join here too).
class AgentJournalPowerCutTest : public AgentJournalConformanceTest {};

std::vector<JournalImplementation> PowerCuttableJournals() {
  std::vector<JournalImplementation> out;
  for (const JournalImplementation& implementation : testing::AllJournalHarnesses()) {
    stafett::testing::TempDir dir{"stafett-journal-probe"};
    if (implementation.make(dir.path())->faults() != nullptr) out.push_back(implementation);
  }
  return out;
}

// Every write is synced: what was acknowledged before a power cut is there after it, and a
// write the cut stopped is wholly there or wholly absent (record, envelope, index, source).
TEST_P(AgentJournalPowerCutTest, SyncedWritesSurviveAPowerCut) {
  FaultInjectionFileSystem* faults = harness_->faults();
  ASSERT_NE(faults, nullptr);
  ASSERT_NO_FATAL_FAILURE(Add(Pending("m-1", 2), "source-1"));
  ASSERT_TRUE(journal_->PutConsent(Granted()).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-1", {5, ""}).ok());
  faults->CutPower();
  EXPECT_FALSE(journal_->AddOutgoing(Pending("m-2", 3), SomeEnvelope(), "source-2").ok());
  journal_.reset();
  ASSERT_TRUE(faults->LoseUnsyncedData().ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(journal_->PendingIds(), (std::vector<std::string>{"m-1"}));
  EXPECT_EQ(**journal_->GetEnvelope("m-1"), SomeEnvelope());
  EXPECT_EQ(**journal_->FindBySource("source-1"), core::SourceEntry{"m-1"});
  EXPECT_TRUE(journal_->GetConsent("consent-1")->has_value());
  EXPECT_TRUE(*journal_->WasReceived("in-1"));
  EXPECT_FALSE(journal_->GetOutgoing("m-2")->has_value());
  EXPECT_FALSE(journal_->FindBySource("source-2")->has_value());
}

TEST_P(AgentJournalPowerCutTest, AWriteCutShortIsWhollyThereOrAbsent) {
  FaultInjectionFileSystem* faults = harness_->faults();
  ASSERT_NE(faults, nullptr);
  size_t acknowledged = 0;
  for (uint64_t cut = 1; cut <= 4; ++cut) {
    std::string id = "m-" + std::to_string(cut);
    faults->CutPowerAfter(cut);
    bool ok = journal_
                  ->AddOutgoing(Pending(id, static_cast<core::Micros>(cut)), SomeEnvelope(),
                                "source-" + id)
                  .ok();
    if (faults->powered()) faults->CutPower();
    journal_.reset();
    ASSERT_TRUE(faults->LoseUnsyncedData().ok());
    ASSERT_NO_FATAL_FAILURE(Reopen());
    bool present = journal_->GetOutgoing(id)->has_value();
    if (ok) {
      EXPECT_TRUE(present) << "an acknowledged write was lost at cut " << cut;
    }
    EXPECT_EQ(journal_->GetEnvelope(id)->has_value(), present) << cut;
    EXPECT_EQ(journal_->FindBySource("source-" + id)->has_value(), present) << cut;
    acknowledged += present ? 1 : 0;
    EXPECT_EQ(journal_->pending_count(), acknowledged) << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(PowerCuttableJournals, AgentJournalPowerCutTest,
                         ::testing::ValuesIn(PowerCuttableJournals()),
                         [](const ::testing::TestParamInfo<JournalImplementation>& implementation) {
                           return implementation.param.name;
                         });

// Regression guard: a journal of an earlier build (JSON records, no format) is refused, not
// read with defaults.
TEST(RocksDbAgentJournalTest, AJsonJournalOfAnEarlierBuildIsRefused) {
  stafett::testing::TempDir dir{"stafett-journal"};
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path() + "/journal", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "m/m-1", "{\"state\":\"pending\"}").ok());
    ASSERT_TRUE(db->Close().ok());
  }
  core::Result<std::unique_ptr<AgentJournal>> opened =
      OpenRocksDbAgentJournal(dir.path() + "/journal");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), core::Code::kCorruption);
  EXPECT_NE(opened.status().message().find("no format version"), std::string::npos)
      << opened.status().message();
}

}  // namespace
}  // namespace stafett::store
