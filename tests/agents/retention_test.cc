// Retention: the sweep's rules (docs/PRIVACY.md, "At the agents") on an in-memory journal and
// real folders, with an injected clock — what is finished goes, and nothing pending, waiting
// for a receipt, still in outbox/ or redeliverable by the broker does.
#include "retention.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inbox_files.h"
#include "source_key.h"
#include "stafett/store/memory_agent_journal.h"
#include "support/sandbox_files.h"

namespace stafett::agent {
namespace {

using core::Micros;
using core::OutgoingRecord;
using core::OutgoingState;
using core::ReceiptStatus;

constexpr Micros kDay = 86400LL * 1'000'000;
constexpr char kNameKey[] = "outbox name key for the test";

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.outbox = dir_.path() + "/outbox";
    config_.inbox = dir_.path() + "/inbox";
    for (const char* folder : {"outbox/sent", "outbox/rejected", "inbox"}) {
      std::filesystem::create_directories(dir_.path() + "/" + folder);
    }
    journal_ = std::move(store::OpenMemoryAgentJournal()).value();
    retention_ = std::make_unique<Retention>(config_, *journal_, kNameKey, clock_, &metrics_);
  }

  // A record handed over AGE ago, as the clock says.
  OutgoingRecord Record(const std::string& id, Micros age, OutgoingState state,
                        std::map<std::string, core::RecipientOutcome> recipients = {}) {
    OutgoingRecord record;
    record.message_id = id;
    record.state = state;
    record.type = "concern_report";
    record.to = {"flen.social", "flen.bvc"};
    record.subject = std::string(64, 'a');
    record.document_digest = std::string(32, '\x03');
    record.created_at = clock_.Now() - age;
    record.recipients = std::move(recipients);
    if (state == OutgoingState::kAccepted) record.accepted_at = record.created_at;
    if (state == OutgoingState::kRefused) record.refusal_code = core::Code::kConsentRequired;
    return record;
  }
  void Add(const OutgoingRecord& record, const std::string& source_key = "") {
    core::Envelope envelope{"{\"header\":1}", std::string(64, '\x01'), std::string(48, '\x02')};
    ASSERT_TRUE(journal_->AddOutgoing(record, envelope, source_key).ok());
  }
  bool Has(const std::string& id) { return journal_->GetOutgoing(id)->has_value(); }
  void Write(const std::string& relative, const std::string& content = "{}") {
    std::ofstream(dir_.path() + "/" + relative) << content;
  }
  bool Exists(const std::string& relative) {
    return std::filesystem::exists(dir_.path() + "/" + relative);
  }
  RetentionCounts PassNow() {
    std::optional<RetentionCutoffs> cutoffs = retention_->Due();
    EXPECT_TRUE(cutoffs.has_value());
    core::Result<RetentionCounts> counts = retention_->Pass(*cutoffs);
    EXPECT_TRUE(counts.ok()) << counts.status().ToString();
    return counts.ok() ? *counts : RetentionCounts{};
  }

  stafett::testing::TempDir dir_{"stafett-retention"};
  AgentConfig config_;
  // 40 days ahead of the real time: files written now are 40 days old to the retention.
  core::ManualClock clock_{core::SystemClock::Instance().Now() + 40 * kDay};
  Metrics metrics_;
  std::unique_ptr<store::AgentJournal> journal_;
  std::unique_ptr<Retention> retention_;
};

const core::RecipientOutcome kDelivered{ReceiptStatus::kDelivered, core::Code::kOk};
const core::RecipientOutcome kExpired{ReceiptStatus::kExpired, core::Code::kExpired};
const core::RecipientOutcome kWithheld{ReceiptStatus::kWithheld, core::Code::kConsentRequired};

TEST_F(RetentionTest, APendingDocumentOlderThanTheRetentionIsKept) {
  ASSERT_NO_FATAL_FAILURE(Add(Record("m-pending", 400 * kDay, OutgoingState::kPending)));
  ASSERT_NO_FATAL_FAILURE(Add(Record("m-refused", 31 * kDay, OutgoingState::kRefused)));
  RetentionCounts counts = PassNow();
  EXPECT_EQ(counts.outgoing_record, 1u);
  EXPECT_TRUE(Has("m-pending"));
  EXPECT_TRUE(journal_->GetEnvelope("m-pending")->has_value());
  EXPECT_FALSE(Has("m-refused"));
  EXPECT_EQ(journal_->pending_count(), 1u);
}

TEST_F(RetentionTest, AnAcceptedMessageWaitingForAReceiptIsKept) {
  ASSERT_NO_FATAL_FAILURE(
      Add(Record("m-waiting", 60 * kDay, OutgoingState::kAccepted, {{"flen.social", kDelivered}}),
          "source-waiting"));
  EXPECT_EQ(PassNow().outgoing_record, 0u);
  EXPECT_TRUE(Has("m-waiting"));
  // The second recipient's receipt comes: it is finished, and goes with envelope and source.
  ASSERT_TRUE(journal_
                  ->UpdateOutgoing("m-waiting",
                                   [](OutgoingRecord& record) {
                                     record.recipients["flen.bvc"] = kExpired;
                                     return true;
                                   })
                  .ok());
  EXPECT_EQ(PassNow().outgoing_record, 1u);
  EXPECT_FALSE(Has("m-waiting"));
  EXPECT_FALSE(journal_->GetEnvelope("m-waiting")->has_value());
  EXPECT_FALSE(journal_->FindBySource("source-waiting")->has_value());
}

TEST_F(RetentionTest, FinishedMessagesGoOnceOlderThanTheRetention) {
  auto both = [](core::RecipientOutcome a, core::RecipientOutcome b) {
    return std::map<std::string, core::RecipientOutcome>{{"flen.social", a}, {"flen.bvc", b}};
  };
  ASSERT_NO_FATAL_FAILURE(Add(
      Record("m-delivered", 31 * kDay, OutgoingState::kAccepted, both(kDelivered, kDelivered))));
  ASSERT_NO_FATAL_FAILURE(
      Add(Record("m-withheld", 31 * kDay, OutgoingState::kAccepted, both(kWithheld, kDelivered))));
  // A delivered receipt that did not verify is final all the same: nothing more will come.
  core::RecipientOutcome unverified{ReceiptStatus::kDelivered, core::Code::kBadSignature};
  ASSERT_NO_FATAL_FAILURE(Add(
      Record("m-unverified", 31 * kDay, OutgoingState::kAccepted, both(unverified, kDelivered))));
  ASSERT_NO_FATAL_FAILURE(
      Add(Record("m-young", 29 * kDay, OutgoingState::kAccepted, both(kDelivered, kDelivered))));
  EXPECT_EQ(PassNow().outgoing_record, 3u);
  EXPECT_FALSE(Has("m-delivered"));
  EXPECT_FALSE(Has("m-withheld"));
  EXPECT_FALSE(Has("m-unverified"));
  EXPECT_TRUE(Has("m-young"));
  EXPECT_NE(
      metrics_.Render().find("stafett_agent_retention_removed_total{what=\"outgoing_record\"} 3"),
      std::string::npos);
}

TEST_F(RetentionTest, AFileStillInTheOutboxKeepsItsMessage) {
  std::string content = "{\"type\":\"concern_report\"}";
  Write("outbox/report.json", content);
  ASSERT_NO_FATAL_FAILURE(Add(Record("m-1", 31 * kDay, OutgoingState::kRefused),
                              SourceKey(kNameKey, "report.json", content)));
  EXPECT_EQ(PassNow().outgoing_record, 0u);
  EXPECT_TRUE(Has("m-1"));
  EXPECT_TRUE(Exists("outbox/report.json"));
  std::filesystem::rename(dir_.path() + "/outbox/report.json",
                          dir_.path() + "/outbox/rejected/report.json");
  RetentionCounts counts = PassNow();
  EXPECT_EQ(counts.outgoing_record, 1u);
  EXPECT_EQ(counts.rejected_file, 1u);
}

TEST_F(RetentionTest, ReceivedIdsAreKeptUntilTheBrokerCannotDeliverAgain) {
  Micros now = clock_.Now();
  ASSERT_TRUE(journal_->MarkReceived("in-live", {now - 40 * kDay, "x", now + kDay}).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-margin", {now - 40 * kDay, "x", now - 6 * kDay}).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-done", {now - 40 * kDay, "x", now - 8 * kDay}).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-young", {now - 20 * kDay, "x", now - 10 * kDay}).ok());
  ASSERT_TRUE(journal_->MarkReceived("in-unknown", {now - 40 * kDay, "", 0}).ok());
  EXPECT_EQ(PassNow().received_record, 1u);
  EXPECT_FALSE(*journal_->WasReceived("in-done"));
  // Exactly once: a redelivery of a kept id is recognised with no inbox file left to find.
  InboxFiles inbox(config_.inbox, *journal_, PosixFileSystem());
  for (const char* kept : {"in-live", "in-margin", "in-young", "in-unknown"}) {
    EXPECT_TRUE(*inbox.AlreadyKept(kept, now)) << kept;
  }
  EXPECT_FALSE(*inbox.AlreadyKept("in-done", now));
  // A year on, even the record without an expiry is past the longest ttl.
  clock_.Advance(366 * kDay);
  EXPECT_EQ(PassNow().received_record, 4u);
}

TEST_F(RetentionTest, SentAndRejectedFilesGoAfterTheRetentionNotBefore) {
  Write("outbox/sent/a.json");
  Write("outbox/rejected/b.json");
  Write("outbox/rejected/b.json.error.json");
  Write("outbox/c.json");
  std::filesystem::create_directories(dir_.path() + "/outbox/sent/.tmp");
  Write("outbox/sent/.tmp/d.json");
  core::ManualClock today(core::SystemClock::Instance().Now());
  Retention fresh(config_, *journal_, kNameKey, today, nullptr);
  RetentionCounts none = *fresh.Pass(*fresh.Due());
  EXPECT_EQ(none.sent_file + none.rejected_file, 0u);

  RetentionCounts counts = PassNow();
  EXPECT_EQ(counts.sent_file, 1u);
  EXPECT_EQ(counts.rejected_file, 2u);
  EXPECT_FALSE(Exists("outbox/sent/a.json"));
  EXPECT_FALSE(Exists("outbox/rejected/b.json.error.json"));
  EXPECT_TRUE(Exists("outbox/c.json"));  // still the local system's hand-over
  EXPECT_TRUE(Exists("outbox/sent/.tmp/d.json"));
}

TEST_F(RetentionTest, ZeroDaysKeepsForEver) {
  config_.retention_finished_days = 0;
  EXPECT_FALSE(retention_->Due().has_value());
  config_.retention_inbox_taken_days = 1;
  ASSERT_NO_FATAL_FAILURE(Add(Record("m-refused", 3000 * kDay, OutgoingState::kRefused)));
  Write("outbox/sent/a.json");
  RetentionCounts counts = PassNow();
  EXPECT_EQ(counts.outgoing_record + counts.sent_file, 0u);
  EXPECT_TRUE(Has("m-refused"));
}

TEST_F(RetentionTest, InboxFilesGoOnlyWhenOptedInAndTheirIdIsKnown) {
  Micros now = clock_.Now();
  ASSERT_TRUE(journal_->MarkReceived("in-1", {now - 40 * kDay, "x", now + kDay}).ok());
  Write("inbox/in-1.json");
  Write("inbox/in-2.json");  // its id not in the journal: a redelivery would be written again
  Write("inbox/receipt-m-1-flen.social.json");
  Write("inbox/notes.txt");
  EXPECT_EQ(PassNow().inbox_file, 0u);  // off by default

  config_.retention_inbox_taken_days = 14;
  EXPECT_EQ(PassNow().inbox_file, 2u);
  EXPECT_FALSE(Exists("inbox/in-1.json"));
  EXPECT_FALSE(Exists("inbox/receipt-m-1-flen.social.json"));
  EXPECT_TRUE(Exists("inbox/in-2.json"));
  EXPECT_TRUE(Exists("inbox/notes.txt"));
  EXPECT_TRUE(*journal_->WasReceived("in-1"));  // still redeliverable: the id stays
}

TEST_F(RetentionTest, APassIsBoundedAndAPurgeGoesOnUntilDone) {
  for (int n = 0; n < 5; ++n) {
    ASSERT_NO_FATAL_FAILURE(
        Add(Record("m-" + std::to_string(n), 31 * kDay, OutgoingState::kRefused)));
  }
  RetentionCounts first = *retention_->Pass(*retention_->Due(), 2);
  EXPECT_EQ(first.outgoing_record, 2u);
  EXPECT_TRUE(first.more);
  ASSERT_NO_FATAL_FAILURE(Add(Record("m-young", kDay, OutgoingState::kRefused)));
  ASSERT_NO_FATAL_FAILURE(Add(Record("m-pending", kDay, OutgoingState::kPending)));
  // An erasure request: the cutoff is the request's, not the retention's.
  RetentionCounts purged = *retention_->Purge(clock_.Now());
  EXPECT_EQ(purged.outgoing_record, 4u);
  EXPECT_FALSE(purged.more);
  EXPECT_FALSE(Has("m-young"));
  EXPECT_TRUE(Has("m-pending"));
}

TEST(PurgeTime, IsAnRfc3339TimeOrADate) {
  EXPECT_EQ(ParsePurgeTime("2026-11-23"), core::ParseRfc3339("2026-11-23T00:00:00Z"));
  EXPECT_EQ(ParsePurgeTime("2026-11-23T08:15:00+01:00"),
            core::ParseRfc3339("2026-11-23T07:15:00Z"));
  EXPECT_FALSE(ParsePurgeTime("yesterday").has_value());
  EXPECT_FALSE(ParsePurgeTime("2026-13-45").has_value());
}

}  // namespace
}  // namespace stafett::agent
