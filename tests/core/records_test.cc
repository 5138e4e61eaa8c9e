// The stored records (core/records/): every codec round-trips, and bad bytes, missing required
// fields, unknown fields and unknown enum values are CORRUPTION — never a silent default.
#include <gtest/gtest.h>

#include <string>

#include "stafett/core/records/consent_record.h"
#include "stafett/core/records/dead_letter.h"
#include "stafett/core/records/dedup_entry.h"
#include "stafett/core/records/key_encoding.h"
#include "stafett/core/records/message_state.h"
#include "stafett/core/records/outgoing_record.h"
#include "stafett/core/records/queue_entry.h"
#include "stafett/core/records/received_record.h"
#include "stafett/core/records/source_entry.h"
#include "stafett/core/records/store_format.h"
#include "stafett/core/records/stored_envelope.h"
#include "stafett/core/records/trail_index.h"
#include "stafett/core/records/tree_head.h"

namespace stafett::core {
namespace {

const std::string kPseudonym(64, 'a');
const std::string kDigest(32, '\x11');
const std::string kSignature(64, '\x22');

// An extra varint field, number 99, that no record has.
std::string WithUnknownField(std::string bytes) { return bytes + std::string("\x98\x06\x01", 3); }

template <typename T, typename Encode, typename Decode>
void ExpectRoundTrip(const T& value, Encode encode, Decode decode) {
  Result<std::string> bytes = encode(value);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  Result<T> decoded = decode(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(*decoded == value);
  Result<std::string> again = encode(*decoded);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes) << "the encoding is deterministic";
  // Damaged forms of the same bytes.
  Result<T> unknown = decode(WithUnknownField(*bytes));
  EXPECT_EQ(unknown.status().code(), Code::kCorruption);
  EXPECT_NE(unknown.status().message().find("#99"), std::string::npos)
      << unknown.status().message();
  EXPECT_EQ(decode(std::string("\xff\xff\xff", 3)).status().code(), Code::kCorruption);
  if (bytes->size() > 2) {
    EXPECT_EQ(decode(bytes->substr(0, bytes->size() - 1)).status().code(), Code::kCorruption)
        << "a truncated record";
  }
}

MessageState SampleMessageState() {
  MessageState state;
  state.seq = 0;  // the first audit position is a real value, not "missing"
  state.status = MessageStatus::kAccepted;
  state.type = "support_request";
  state.from = "flen.school";
  state.to = {"flen.social", "flen.health"};
  state.subject = kPseudonym;
  state.consent_id = "consent-1";
  state.accepted_at = 1'700'000'000'000'000;
  state.expires_at = 1'700'604'800'000'000;
  state.payload_digest = kDigest;
  state.header_digest = std::string(32, '\x33');
  state.recipients["flen.social"] =
      RecipientDelivery{RecipientState::kQueued, 7, {}, Code::kOk, {}};
  state.recipients["flen.health"] =
      RecipientDelivery{RecipientState::kWithheld, 8, 1'700'000'100'000'000, Code::kConsentRevoked,
                        1'700'000'200'000'000};
  return state;
}

TEST(MessageStateTest, RoundTrips) {
  ExpectRoundTrip(SampleMessageState(), EncodeMessageState, DecodeMessageState);
  MessageState done = SampleMessageState();
  done.recipients["flen.social"] =
      RecipientDelivery{RecipientState::kRejected, 7, 5, Code::kDecryptFailed, {}};
  done.status = MessageStatus::kRejected;
  ExpectRoundTrip(done, EncodeMessageState, DecodeMessageState);
}

TEST(MessageStateTest, RefusesToWriteWhatBreaksItsRules) {
  MessageState state = SampleMessageState();
  state.from = "";
  EXPECT_EQ(EncodeMessageState(state).status().code(), Code::kInternal);
  state = SampleMessageState();
  state.recipients.erase("flen.health");
  EXPECT_NE(EncodeMessageState(state).status().message().find("recipients do not match to"),
            std::string::npos);
  state = SampleMessageState();
  state.recipients["flen.health"].code = Code::kOk;
  EXPECT_EQ(EncodeMessageState(state).status().code(), Code::kInternal) << "withheld needs a code";
  state = SampleMessageState();
  state.status = MessageStatus::kDelivered;
  EXPECT_EQ(EncodeMessageState(state).status().code(), Code::kInternal)
      << "delivered while a recipient is queued";
  state = SampleMessageState();
  state.payload_digest = "short";
  EXPECT_EQ(EncodeMessageState(state).status().code(), Code::kInternal);
}

TEST(MessageStateTest, EmptyBytesAreMissingFieldsNotDefaults) {
  Result<MessageState> decoded = DecodeMessageState("");
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  EXPECT_NE(decoded.status().message().find("seq missing"), std::string::npos)
      << decoded.status().message();
}

TEST(MessageStateTest, AnUnknownRecipientStateIsCorruption) {
  Result<std::string> bytes = EncodeMessageState(SampleMessageState());
  ASSERT_TRUE(bytes.ok());
  // Replace the queued recipient's state (field 1 of the map value, varint 1) with 42: find
  // "\x08\x01\x10\x07" (state=1, queue_seq=7).
  std::string damaged = *bytes;
  size_t at = damaged.find(std::string("\x08\x01\x10\x07", 4));
  ASSERT_NE(at, std::string::npos);
  damaged[at + 1] = 42;
  Result<MessageState> decoded = DecodeMessageState(damaged);
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  EXPECT_NE(decoded.status().message().find("state missing or unknown"), std::string::npos)
      << decoded.status().message();
}

TEST(MessageStateTest, AnUnknownFieldInARecipientIsCorruptionNamingIt) {
  Result<std::string> bytes = EncodeMessageState(SampleMessageState());
  ASSERT_TRUE(bytes.ok());
  // Inside the queued recipient's map value, retag queue_seq (field 2, "\x10\x07") as field 15,
  // a field this build does not know, keeping every length as it is.
  std::string damaged = *bytes;
  size_t at = damaged.find(std::string("\x08\x01\x10\x07", 4));
  ASSERT_NE(at, std::string::npos);
  damaged[at + 2] = static_cast<char>(15 << 3);
  Result<MessageState> decoded = DecodeMessageState(damaged);
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  EXPECT_NE(decoded.status().message().find("#15 is not one this build knows"), std::string::npos)
      << decoded.status().message();
  EXPECT_NE(decoded.status().message().find("recipients["), std::string::npos)
      << decoded.status().message();
}

TEST(MessageStateTest, TheFinishedStatusIsDeliveredOnlyWhenEveryRecipientWas) {
  EXPECT_EQ(FinishedStatus(RecipientState::kDelivered, true), MessageStatus::kDelivered);
  EXPECT_EQ(FinishedStatus(RecipientState::kDelivered, false), MessageStatus::kDelivered);
  EXPECT_EQ(FinishedStatus(RecipientState::kExpired, false), MessageStatus::kExpired);
  EXPECT_EQ(FinishedStatus(RecipientState::kWithheld, false), MessageStatus::kWithheld);
  EXPECT_EQ(FinishedStatus(RecipientState::kRejected, false), MessageStatus::kRejected);
  EXPECT_EQ(FinishedStatus(RecipientState::kQueued, false), MessageStatus::kAccepted);
}

TEST(StoredEnvelopeTest, RoundTrips) {
  Envelope envelope{"{\"v\":1}", kSignature, std::string(40, '\x44')};
  ExpectRoundTrip(envelope, EncodeStoredEnvelope, DecodeStoredEnvelope);
  envelope.signature = "short";
  EXPECT_EQ(EncodeStoredEnvelope(envelope).status().code(), Code::kInternal);
}

// Regression: the broker's hand-written envelope decoder added a stored length to an offset
// without an overflow check. The stored form is protobuf now; a huge length is just bad bytes.
TEST(StoredEnvelopeTest, AHugeLengthIsCorruptionNotAnOverflow) {
  std::string bytes = "\x0a\xff\xff\xff\xff\x0f";
  EXPECT_EQ(DecodeStoredEnvelope(bytes).status().code(), Code::kCorruption);
}

TEST(QueueEntryTest, RoundTripsBothKinds) {
  ExpectRoundTrip(QueueEntry{12, QueuedMessage{"m-1"}}, EncodeQueueEntry, DecodeQueueEntry);
  QueuedReceipt receipt{
      "m-1",     "flen.social", ReceiptStatus::kDelivered, Code::kOk, 13, 4, "0123456789abcdef",
      kSignature};
  ExpectRoundTrip(QueueEntry{14, receipt}, EncodeQueueEntry, DecodeQueueEntry);
  QueuedReceipt expired{"m-2", "flen.social", ReceiptStatus::kExpired, Code::kExpired, 15, 5, "",
                        ""};
  ExpectRoundTrip(QueueEntry{16, expired}, EncodeQueueEntry, DecodeQueueEntry);
  expired.code = Code::kOk;
  EXPECT_EQ(EncodeQueueEntry(QueueEntry{16, expired}).status().code(), Code::kInternal);
}

TEST(QueueEntryTest, AnEntryOfNeitherKindIsCorruption) {
  // queued_at only.
  Result<QueueEntry> decoded = DecodeQueueEntry(std::string("\x08\x01", 2));
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  EXPECT_NE(decoded.status().message().find("neither"), std::string::npos);
}

ConsentRecord SampleConsent() {
  ConsentRecord record;
  record.facts = ConsentFacts{
      "consent-1", kPseudonym, "flen.school", {"flen.school", "flen.social"}, {"support"},
      10,          20,         true};
  record.granted = ConsentEvent{"m-grant", 3, "flen.school", 10};
  record.revocation = ConsentEvent{"m-revoke", 9, "flen.school", 15};
  return record;
}

TEST(ConsentRecordTest, RoundTrips) {
  ExpectRoundTrip(SampleConsent(), EncodeConsentRecord, DecodeConsentRecord);
  ConsentRecord agents = SampleConsent();
  agents.facts.revoked = false;
  agents.granted->seq.reset();  // an agent may not know the audit position
  agents.revocation.reset();
  ExpectRoundTrip(agents, EncodeConsentRecord, DecodeConsentRecord);
}

TEST(ConsentRecordTest, RequiredFieldsAreChecked) {
  ConsentRecord record = SampleConsent();
  record.facts.revoked = false;
  EXPECT_NE(EncodeConsentRecord(record).status().message().find("revocation without revoked"),
            std::string::npos);
  record = SampleConsent();
  record.facts.purposes.clear();
  EXPECT_EQ(EncodeConsentRecord(record).status().code(), Code::kInternal);
  record = SampleConsent();
  record.facts.valid_until = 5;
  EXPECT_EQ(EncodeConsentRecord(record).status().code(), Code::kInternal);
  Result<ConsentRecord> empty = DecodeConsentRecord("");
  EXPECT_EQ(empty.status().code(), Code::kCorruption);
}

TEST(ConsentRecordTest, LearnConsentFromGrantAndRevocation) {
  const std::string subject(64, 'a');
  ConsentScope scope{{"flen.school", "flen.social"}, {"support"}, 10, 20};
  ConsentEvent granted_by{"m-grant", 4, "flen.social", 100};
  std::optional<ConsentRecord> granted =
      LearnConsent("consent_granted", "c-1", subject, "flen.social", scope, granted_by, {});
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->facts.consent_id, "c-1");
  EXPECT_EQ(granted->facts.recorded_by, "flen.social");
  EXPECT_EQ(granted->facts.parties, scope.parties);
  EXPECT_EQ(granted->facts.valid_until, 20);
  EXPECT_FALSE(granted->facts.revoked);
  EXPECT_EQ(granted->granted, granted_by);
  // A grant without its scope, another type, a revocation of an unknown consent: nothing.
  EXPECT_FALSE(LearnConsent("consent_granted", "c-1", subject, "flen.social", {}, granted_by, {}));
  EXPECT_FALSE(
      LearnConsent("support_request", "c-1", subject, "flen.social", scope, granted_by, granted));
  ConsentEvent revoked_by{"m-revoke", 9, "flen.social", 200};
  EXPECT_FALSE(LearnConsent("consent_revoked", "c-1", subject, "flen.social", {}, revoked_by, {}));
  std::optional<ConsentRecord> revoked =
      LearnConsent("consent_revoked", "c-1", subject, "flen.social", {}, revoked_by, granted);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_TRUE(revoked->facts.revoked);
  EXPECT_EQ(revoked->granted, granted_by);
  EXPECT_EQ(revoked->revocation, revoked_by);
  EXPECT_EQ(revoked->facts.parties, scope.parties);
}

TEST(TreeHeadTest, RoundTripsV1AndV2) {
  TreeHead head;
  head.tree_size = 0;
  head.root.fill(7);
  head.timestamp = 1'700'000'000'123'000;
  head.key_id = "0123456789abcdef";
  head.signature = kSignature;
  ExpectRoundTrip(head, EncodeTreeHead, DecodeTreeHead);
  head.map_root.emplace();
  head.map_root->fill(9);
  ExpectRoundTrip(head, EncodeTreeHead, DecodeTreeHead);
}

TEST(DedupEntryTest, RoundTrips) {
  ExpectRoundTrip(DedupEntry{"flen.school", kDigest, 0}, EncodeDedupEntry, DecodeDedupEntry);
  EXPECT_EQ(EncodeDedupEntry(DedupEntry{"", kDigest, 0}).status().code(), Code::kInternal);
}

TEST(DeadLetterTest, RoundTrips) {
  ExpectRoundTrip(DeadLetter{RecipientState::kExpired, Code::kExpired, 5}, EncodeDeadLetter,
                  DecodeDeadLetter);
  ExpectRoundTrip(DeadLetter{RecipientState::kRejected, Code::kDecryptFailed, 6}, EncodeDeadLetter,
                  DecodeDeadLetter);
  EXPECT_EQ(
      EncodeDeadLetter(DeadLetter{RecipientState::kDelivered, Code::kExpired, 5}).status().code(),
      Code::kInternal);
}

TEST(TrailIndexTest, KeysRoundTripAndSortBySeq) {
  TrailEntry entry{TrailKind::kSubject, kPseudonym, 258};
  Result<std::string> key = EncodeTrailEntryKey(entry);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, "s" + std::string(1, '\0') + kPseudonym + std::string(1, '\0') +
                      std::string("\0\0\0\0\0\0\x01\x02", 8));
  Result<TrailEntry> decoded = DecodeTrailEntryKey(*key);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, entry);
  EXPECT_LT(*EncodeTrailEntryKey({TrailKind::kEndpoint, "a.b", 255}),
            *EncodeTrailEntryKey({TrailKind::kEndpoint, "a.b", 256}));
  EXPECT_EQ(key->rfind(TrailIndexPrefix(TrailKind::kSubject, kPseudonym), 0), 0u);

  TrailLink link{TrailKind::kConsentWaiting, "consent-1", "m-1"};
  Result<std::string> link_key = EncodeTrailLinkKey(link);
  ASSERT_TRUE(link_key.ok());
  Result<TrailLink> link_decoded = DecodeTrailLinkKey(*link_key);
  ASSERT_TRUE(link_decoded.ok());
  EXPECT_EQ(*link_decoded, link);

  EXPECT_EQ(EncodeTrailEntryKey({TrailKind::kConsentWaiting, "x", 1}).status().code(),
            Code::kInternal);
  EXPECT_EQ(EncodeTrailEntryKey({TrailKind::kSubject, std::string("a\0b", 3), 1}).status().code(),
            Code::kInternal);
  EXPECT_EQ(DecodeTrailEntryKey(std::string("s\0abc", 5)).status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeTrailLinkKey("q").status().code(), Code::kCorruption);
}

TEST(KeyEncodingTest, BigEndianIsExactlyEightBytes) {
  EXPECT_EQ(BigEndian64(0x0102030405060708), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(ReadBigEndian64(BigEndian64(UINT64_MAX)), UINT64_MAX);
  EXPECT_FALSE(ReadBigEndian64("1234567"));
  EXPECT_FALSE(ReadBigEndian64("123456789"));
}

OutgoingRecord SampleOutgoing() {
  OutgoingRecord record;
  record.message_id = "m-1";
  record.type = "consent_granted";
  record.to = {"flen.social"};
  record.subject = kPseudonym;
  record.consent_id = "consent-1";
  record.document_digest = kDigest;
  record.scope = ConsentScope{{"flen.school", "flen.social"}, {"support"}, 10, 20};
  record.recipients["flen.social"] = RecipientOutcome{ReceiptStatus::kDelivered, Code::kOk};
  record.created_at = 5;
  record.accepted_at = 6;
  record.state = OutgoingState::kAccepted;
  return record;
}

TEST(OutgoingRecordTest, RoundTrips) {
  ExpectRoundTrip(SampleOutgoing(), EncodeOutgoingRecord, DecodeOutgoingRecord);
  OutgoingRecord pending = SampleOutgoing();
  pending.state = OutgoingState::kPending;
  pending.accepted_at.reset();
  pending.retry_code = Code::kStorageFull;
  ExpectRoundTrip(pending, EncodeOutgoingRecord, DecodeOutgoingRecord);
  OutgoingRecord refused = SampleOutgoing();
  refused.state = OutgoingState::kRefused;
  refused.accepted_at.reset();
  refused.refusal_code = Code::kConsentScope;
  refused.refusal_message = "the consent does not cover this purpose";
  ExpectRoundTrip(refused, EncodeOutgoingRecord, DecodeOutgoingRecord);
  refused.refusal_code = Code::kOk;
  EXPECT_EQ(EncodeOutgoingRecord(refused).status().code(), Code::kInternal);
}

// The agent journals a delivery receipt that did not verify (receipt_invalid) as delivered with
// the failed check's code; withheld and expired always carry theirs.
TEST(OutgoingRecordTest, RecipientOutcomesCarryTheirCodes) {
  OutgoingRecord record = SampleOutgoing();
  record.recipients["flen.social"] =
      RecipientOutcome{ReceiptStatus::kDelivered, Code::kBadSignature};
  record.recipients["flen.health"] =
      RecipientOutcome{ReceiptStatus::kWithheld, Code::kConsentRevoked};
  ExpectRoundTrip(record, EncodeOutgoingRecord, DecodeOutgoingRecord);
  EXPECT_FALSE(record.recipients["flen.social"].verified_delivery());
  EXPECT_TRUE((RecipientOutcome{ReceiptStatus::kDelivered, Code::kOk}).verified_delivery());
  record.recipients["flen.health"].code = Code::kOk;
  EXPECT_EQ(EncodeOutgoingRecord(record).status().code(), Code::kInternal);
}

TEST(JournalRecordsTest, ReceivedAndSourceRoundTrip) {
  ExpectRoundTrip(ReceivedRecord{5, "support_request"}, EncodeReceivedRecord, DecodeReceivedRecord);
  ExpectRoundTrip(ReceivedRecord{0, ""}, EncodeReceivedRecord, DecodeReceivedRecord);
  ExpectRoundTrip(ReceivedRecord{5, "support_request", 7}, EncodeReceivedRecord,
                  DecodeReceivedRecord);
  ExpectRoundTrip(SourceEntry{"m-1"}, EncodeSourceEntry, DecodeSourceEntry);
  EXPECT_EQ(EncodeSourceEntry(SourceEntry{""}).status().code(), Code::kInternal);
  EXPECT_EQ(DecodeReceivedRecord("").status().code(), Code::kCorruption);
}

TEST(StoreFormatTest, RoundTripsAndRefusesOtherVersionsAndKinds) {
  ExpectRoundTrip(CurrentStoreFormat(StoreKind::kBroker), EncodeStoreFormat, DecodeStoreFormat);
  std::string current = *EncodeStoreFormat(CurrentStoreFormat(StoreKind::kBroker));
  EXPECT_TRUE(CheckStoreFormat(StoreKind::kBroker, current, true, "data").ok());
  EXPECT_TRUE(CheckStoreFormat(StoreKind::kBroker, std::nullopt, false, "data").ok())
      << "a new, empty database";

  Status old = CheckStoreFormat(StoreKind::kBroker, std::nullopt, true, "data");
  EXPECT_EQ(old.code(), Code::kCorruption);
  EXPECT_NE(old.message().find("no format version"), std::string::npos) << old.message();

  std::string next =
      *EncodeStoreFormat(StoreFormat{StoreKind::kBroker, kBrokerStoreFormatVersion + 1});
  Status newer = CheckStoreFormat(StoreKind::kBroker, next, true, "data");
  EXPECT_EQ(newer.code(), Code::kCorruption);
  EXPECT_NE(
      newer.message().find("format version 2; this build reads broker store format version 1"),
      std::string::npos)
      << newer.message();

  std::string journal = *EncodeStoreFormat(CurrentStoreFormat(StoreKind::kAgentJournal));
  Status kind = CheckStoreFormat(StoreKind::kBroker, journal, true, "data");
  EXPECT_NE(kind.message().find("'agent journal', not 'broker store'"), std::string::npos)
      << kind.message();
  EXPECT_EQ(CheckStoreFormat(StoreKind::kBroker, std::string("junk"), true, "data").code(),
            Code::kCorruption);
}

}  // namespace
}  // namespace stafett::core
