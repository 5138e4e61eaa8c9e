// BrokerTransaction: typed verbs encoded into key-space operations.
#include "broker_keys.h"
#include "stafett/core/records/key_encoding.h"
#include "stafett/core/records/stored_envelope.h"
#include "stafett/store/broker_store.h"

namespace stafett::store {

std::string_view SpaceName(Space space) {
  static constexpr std::string_view kNames[kSpaceCount] = {
      "meta",   "envelopes", "messages", "dedup", "queues",       "expiry",   "audit",
      "merkle", "heads",     "consents", "trail", "dead_letters", "trail_map"};
  size_t index = static_cast<size_t>(space);
  return index < kSpaceCount ? kNames[index] : "?";
}

void BrokerTransaction::Fail(const core::Status& status) {
  if (status_.ok()) status_ = status;
}

void BrokerTransaction::Put(Space space, std::string key, core::Result<std::string> value) {
  if (!value.ok()) return Fail(value.status());
  operations_.push_back({space, std::move(key), std::move(value).value()});
}

void BrokerTransaction::Put(Space space, std::string key, std::string value) {
  operations_.push_back({space, std::move(key), std::move(value)});
}

void BrokerTransaction::Delete(Space space, std::string key) {
  operations_.push_back({space, std::move(key), std::nullopt});
}

void BrokerTransaction::Clear() {
  operations_.clear();
  status_ = core::Status::Ok();
}

void BrokerTransaction::PutEnvelope(std::string_view message_id, const core::Envelope& envelope) {
  Put(Space::kEnvelopes, std::string(message_id), core::EncodeStoredEnvelope(envelope));
}

void BrokerTransaction::DeleteEnvelope(std::string_view message_id) {
  Delete(Space::kEnvelopes, std::string(message_id));
}

void BrokerTransaction::PutMessageState(std::string_view message_id,
                                        const core::MessageState& state) {
  Put(Space::kMessages, std::string(message_id), core::EncodeMessageState(state));
}

void BrokerTransaction::DeleteMessageState(std::string_view message_id) {
  Delete(Space::kMessages, std::string(message_id));
}

void BrokerTransaction::PutDedup(std::string_view message_id, const core::DedupEntry& entry) {
  Put(Space::kDedup, std::string(message_id), core::EncodeDedupEntry(entry));
}

void BrokerTransaction::PutQueueEntry(std::string_view endpoint, uint64_t queue_seq,
                                      const core::QueueEntry& entry) {
  Put(Space::kQueues, keys::Queue(endpoint, queue_seq), core::EncodeQueueEntry(entry));
}

void BrokerTransaction::DeleteQueueEntry(std::string_view endpoint, uint64_t queue_seq) {
  Delete(Space::kQueues, keys::Queue(endpoint, queue_seq));
}

void BrokerTransaction::PutExpiry(core::Micros expires_at, std::string_view message_id) {
  Put(Space::kExpiry, keys::Expiry(expires_at, message_id), std::string());
}

void BrokerTransaction::DeleteExpiry(core::Micros expires_at, std::string_view message_id) {
  Delete(Space::kExpiry, keys::Expiry(expires_at, message_id));
}

void BrokerTransaction::AppendAuditLeaf(uint64_t seq, std::string_view canonical_record) {
  Put(Space::kAudit, core::BigEndian64(seq), std::string(canonical_record));
}

void BrokerTransaction::PutMerkleNode(uint32_t level, uint64_t index, const core::Hash& hash) {
  Put(Space::kMerkle, keys::Merkle(level, index),
      std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
}

void BrokerTransaction::PutTrailMapNode(std::string_view node_key, std::string_view node) {
  Put(Space::kTrailMap, std::string(node_key), std::string(node));
}

void BrokerTransaction::PutTreeHead(const core::TreeHead& head) {
  Put(Space::kHeads, core::BigEndian64(head.tree_size), core::EncodeTreeHead(head));
}

void BrokerTransaction::PutConsent(const core::ConsentRecord& record) {
  Put(Space::kConsents, record.facts.consent_id, core::EncodeConsentRecord(record));
}

void BrokerTransaction::PutTrailEntry(const core::TrailEntry& entry) {
  core::Result<std::string> key = core::EncodeTrailEntryKey(entry);
  if (!key.ok()) return Fail(key.status());
  Put(Space::kTrail, std::move(key).value(), std::string());
}

void BrokerTransaction::PutTrailLink(const core::TrailLink& link) {
  core::Result<std::string> key = core::EncodeTrailLinkKey(link);
  if (!key.ok()) return Fail(key.status());
  Put(Space::kTrail, std::move(key).value(), std::string());
}

void BrokerTransaction::DeleteTrailLink(const core::TrailLink& link) {
  core::Result<std::string> key = core::EncodeTrailLinkKey(link);
  if (!key.ok()) return Fail(key.status());
  Delete(Space::kTrail, std::move(key).value());
}

void BrokerTransaction::DeleteTrailEntry(const core::TrailEntry& entry) {
  core::Result<std::string> key = core::EncodeTrailEntryKey(entry);
  if (!key.ok()) return Fail(key.status());
  Delete(Space::kTrail, std::move(key).value());
}

void BrokerTransaction::PutRaw(Space space, std::string key, std::string value) {
  Put(space, std::move(key), std::move(value));
}

void BrokerTransaction::DeleteRaw(Space space, std::string key) { Delete(space, std::move(key)); }

void BrokerTransaction::PutDeadLetter(std::string_view message_id, std::string_view recipient,
                                      const core::DeadLetter& letter) {
  Put(Space::kDeadLetters, keys::DeadLetter(message_id, recipient), core::EncodeDeadLetter(letter));
}

void BrokerTransaction::DeleteDeadLetter(std::string_view message_id, std::string_view recipient) {
  Delete(Space::kDeadLetters, keys::DeadLetter(message_id, recipient));
}

void BrokerTransaction::PutQueueSeq(uint64_t queue_seq) {
  Put(Space::kMeta, std::string(keys::kQueueSeq), core::BigEndian64(queue_seq));
}

void BrokerTransaction::OverwriteStoreFormat(const core::StoreFormat& format) {
  Put(Space::kMeta, std::string(keys::kFormat), core::EncodeStoreFormat(format));
}

}  // namespace stafett::store
