// BrokerStore: typed reads and scans over the byte-level primitives, and the format check.
#include "stafett/store/broker_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker_keys.h"
#include "stafett/core/records/key_encoding.h"
#include "stafett/core/records/stored_envelope.h"

namespace stafett::store {

using core::Result;
using core::Status;

Status BrokerStore::Corrupted(const Status& status, std::optional<Space> space) const {
  if (status.code() == core::Code::kCorruption) {
    corruptions_.fetch_add(1);
    // What failed (RocksDB's message names files and offsets; ours the record and the rule),
    // never a key or a value.
    spdlog::error("event=storage_corruption space={} error=\"{}\"",
                  space ? SpaceName(*space) : std::string_view("?"), status.message());
  }
  return status;
}

template <typename T, typename Decode>
Result<std::optional<T>> BrokerStore::ReadRecord(Space space, std::string_view key,
                                                 Decode decode) const {
  Result<std::optional<std::string>> stored = Read(space, key);
  if (!stored.ok()) return Corrupted(stored.status(), space);
  if (!stored->has_value()) return std::optional<T>();
  Result<T> decoded = decode(**stored);
  if (!decoded.ok()) return Corrupted(decoded.status(), space);
  return std::optional<T>(std::move(decoded).value());
}

Result<std::optional<core::Envelope>> BrokerStore::GetEnvelope(std::string_view message_id) const {
  return ReadRecord<core::Envelope>(Space::kEnvelopes, message_id, core::DecodeStoredEnvelope);
}

Result<std::optional<core::MessageState>> BrokerStore::GetMessageState(
    std::string_view message_id) const {
  return ReadRecord<core::MessageState>(Space::kMessages, message_id, core::DecodeMessageState);
}

Result<std::optional<core::DedupEntry>> BrokerStore::GetDedup(std::string_view message_id) const {
  return ReadRecord<core::DedupEntry>(Space::kDedup, message_id, core::DecodeDedupEntry);
}

Result<std::optional<core::QueueEntry>> BrokerStore::GetQueueEntry(std::string_view endpoint,
                                                                   uint64_t queue_seq) const {
  return ReadRecord<core::QueueEntry>(Space::kQueues, keys::Queue(endpoint, queue_seq),
                                      core::DecodeQueueEntry);
}

Result<std::optional<core::ConsentRecord>> BrokerStore::GetConsent(
    std::string_view consent_id) const {
  return ReadRecord<core::ConsentRecord>(Space::kConsents, consent_id, core::DecodeConsentRecord);
}

Result<std::optional<core::TreeHead>> BrokerStore::GetTreeHead(uint64_t tree_size) const {
  return ReadRecord<core::TreeHead>(Space::kHeads, core::BigEndian64(tree_size),
                                    core::DecodeTreeHead);
}

Result<std::optional<core::TreeHead>> BrokerStore::LatestTreeHead() const {
  Result<std::optional<std::string>> last = LastKey(Space::kHeads, "", "");
  if (!last.ok()) return Corrupted(last.status());
  if (!last->has_value()) return std::optional<core::TreeHead>();
  std::optional<uint64_t> size = core::ReadBigEndian64(**last);
  if (!size) return Corrupted(Status(core::Code::kCorruption, "heads: a key is not be64"));
  return GetTreeHead(*size);
}

Result<std::optional<std::string>> BrokerStore::GetAuditLeaf(uint64_t seq) const {
  Result<std::optional<std::string>> stored = Read(Space::kAudit, core::BigEndian64(seq));
  if (!stored.ok()) return Corrupted(stored.status());
  return stored;
}

Result<uint64_t> BrokerStore::AuditSize() const {
  Result<std::optional<std::string>> last = LastKey(Space::kAudit, "", "");
  if (!last.ok()) return Corrupted(last.status());
  if (!last->has_value()) return uint64_t{0};
  std::optional<uint64_t> seq = core::ReadBigEndian64(**last);
  if (!seq) return Corrupted(Status(core::Code::kCorruption, "audit: a key is not be64"));
  return *seq + 1;
}

Result<std::optional<core::Hash>> BrokerStore::GetMerkleNode(uint32_t level, uint64_t index) const {
  return ReadRecord<core::Hash>(
      Space::kMerkle, keys::Merkle(level, index), [](std::string_view bytes) -> Result<core::Hash> {
        core::Hash hash;
        if (bytes.size() != hash.size()) {
          return Status(core::Code::kCorruption, "merkle: a node is not 32 bytes");
        }
        std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(hash.data()));
        return hash;
      });
}

Result<std::optional<std::string>> BrokerStore::GetTrailMapNode(std::string_view node_key) const {
  Result<std::optional<std::string>> stored = Read(Space::kTrailMap, node_key);
  if (!stored.ok()) return Corrupted(stored.status());
  return stored;
}

Result<std::optional<core::DeadLetter>> BrokerStore::GetDeadLetter(
    std::string_view message_id, std::string_view recipient) const {
  return ReadRecord<core::DeadLetter>(Space::kDeadLetters, keys::DeadLetter(message_id, recipient),
                                      core::DecodeDeadLetter);
}

Result<uint64_t> BrokerStore::QueueSeq() const {
  Result<std::optional<uint64_t>> seq = ReadRecord<uint64_t>(
      Space::kMeta, keys::kQueueSeq, [](std::string_view bytes) -> Result<uint64_t> {
        std::optional<uint64_t> value = core::ReadBigEndian64(bytes);
        if (!value) return Status(core::Code::kCorruption, "meta: queue_seq is not be64");
        return *value;
      });
  if (!seq.ok()) return seq.status();
  return seq->value_or(0);
}

Status BrokerStore::ScanQueue(
    std::string_view endpoint, uint64_t after_seq,
    const std::function<bool(uint64_t, const core::QueueEntry&)>& visit) const {
  if (after_seq == UINT64_MAX) return Status::Ok();
  std::string prefix = keys::QueuePrefix(endpoint);
  Status failure;
  Status scanned =
      Scan(Space::kQueues, keys::Queue(endpoint, after_seq + 1), keys::PrefixEnd(prefix),
           [&](std::string_view key, std::string_view value) {
             std::optional<uint64_t> seq = core::ReadBigEndian64(key.substr(prefix.size()));
             Result<core::QueueEntry> entry = core::DecodeQueueEntry(value);
             if (!seq || !entry.ok()) {
               failure =
                   seq ? entry.status()
                       : Status(core::Code::kCorruption, "queues: a key is not endpoint 0x00 be64");
               return false;
             }
             return visit(*seq, *entry);
           });
  if (!failure.ok()) return Corrupted(failure);
  return Corrupted(scanned);
}

Status BrokerStore::ScanQueueKeys(
    const std::function<bool(std::string_view endpoint, uint64_t seq)>& visit) const {
  Status failure;
  Status scanned = Scan(Space::kQueues, "", "", [&](std::string_view key, std::string_view) {
    if (key.size() < 1 + core::kBigEndian64Bytes ||
        key[key.size() - 1 - core::kBigEndian64Bytes] != '\0') {
      failure = Status(core::Code::kCorruption, "queues: a key is not endpoint 0x00 be64");
      return false;
    }
    std::string_view endpoint = key.substr(0, key.size() - 1 - core::kBigEndian64Bytes);
    return visit(endpoint, *core::ReadBigEndian64(key.substr(key.size() - 8)));
  });
  if (!failure.ok()) return Corrupted(failure);
  return Corrupted(scanned);
}

Status BrokerStore::ScanExpiredBy(
    core::Micros now,
    const std::function<bool(core::Micros, std::string_view message_id)>& visit) const {
  if (now < 0) return Status::Ok();
  std::string upper = core::BigEndian64(static_cast<uint64_t>(now) + 1);
  Status failure;
  Status scanned = Scan(Space::kExpiry, "", upper, [&](std::string_view key, std::string_view) {
    std::optional<uint64_t> at =
        key.size() > 8 ? core::ReadBigEndian64(key.substr(0, 8)) : std::nullopt;
    if (!at) {
      failure = Status(core::Code::kCorruption, "expiry: a key is not be64 message id");
      return false;
    }
    return visit(static_cast<core::Micros>(*at), key.substr(8));
  });
  if (!failure.ok()) return Corrupted(failure);
  return Corrupted(scanned);
}

Status BrokerStore::ScanTrail(core::TrailKind kind, std::string_view id, uint64_t after_seq,
                              const std::function<bool(uint64_t)>& visit) const {
  if (after_seq == UINT64_MAX) return Status::Ok();
  return ScanTrailFrom(kind, id, after_seq + 1, visit);
}

Status BrokerStore::ScanTrailFrom(core::TrailKind kind, std::string_view id, uint64_t from_seq,
                                  const std::function<bool(uint64_t)>& visit) const {
  std::string prefix = core::TrailIndexPrefix(kind, id);
  Status failure;
  Status scanned = Scan(
      Space::kTrail, prefix + core::BigEndian64(from_seq), keys::PrefixEnd(prefix),
      [&](std::string_view key, std::string_view) {
        std::optional<uint64_t> seq = core::ReadBigEndian64(key.substr(prefix.size()));
        if (!seq) {
          failure = Status(core::Code::kCorruption, "trail: a key is not kind 0x00 id 0x00 be64");
          return false;
        }
        return visit(*seq);
      });
  if (!failure.ok()) return Corrupted(failure);
  return Corrupted(scanned);
}

Status BrokerStore::ScanTrailLinks(core::TrailKind kind, std::string_view id,
                                   const std::function<bool(std::string_view other)>& visit) const {
  std::string prefix = core::TrailIndexPrefix(kind, id);
  return Corrupted(Scan(
      Space::kTrail, prefix, keys::PrefixEnd(prefix),
      [&](std::string_view key, std::string_view) { return visit(key.substr(prefix.size())); }));
}

Status BrokerStore::ScanConsents(
    std::string_view after, const std::function<bool(const core::ConsentRecord&)>& visit) const {
  // The smallest key above AFTER: AFTER followed by a 0x00 byte.
  std::string lower(after);
  if (!lower.empty()) lower.push_back('\0');
  Status failure;
  Status scanned = Scan(Space::kConsents, lower, "", [&](std::string_view, std::string_view value) {
    Result<core::ConsentRecord> record = core::DecodeConsentRecord(value);
    if (!record.ok()) {
      failure = record.status();
      return false;
    }
    return visit(*record);
  });
  if (!failure.ok()) return Corrupted(failure);
  return Corrupted(scanned);
}

Status BrokerStore::ScanAudit(
    uint64_t from_seq, const std::function<bool(uint64_t, std::string_view leaf)>& visit) const {
  Status failure;
  Status scanned = Scan(Space::kAudit, core::BigEndian64(from_seq), "",
                        [&](std::string_view key, std::string_view value) {
                          std::optional<uint64_t> seq = core::ReadBigEndian64(key);
                          if (!seq || key.size() != core::kBigEndian64Bytes) {
                            failure = Status(core::Code::kCorruption, "audit: a key is not be64");
                            return false;
                          }
                          return visit(*seq, value);
                        });
  if (!failure.ok()) return Corrupted(failure);
  return Corrupted(scanned);
}

Status BrokerStore::ReportCorruption(Space space, std::string_view what) const {
  corruptions_.fetch_add(1);
  spdlog::error("event=storage_corruption space={} error=\"{}\"", SpaceName(space), what);
  return Status(core::Code::kCorruption, std::string("stored data failed an integrity check (") +
                                             std::string(SpaceName(space)) +
                                             "): " + std::string(what));
}

Status BrokerStore::InitialiseFormat(std::string_view where) {
  Result<std::optional<std::string>> stored = Read(Space::kMeta, keys::kFormat);
  if (!stored.ok()) return stored.status();
  // Whether anything else is stored matters only without a format record (data of an unknown
  // format is refused); with one, the open reads nothing more.
  bool has_data = stored->has_value();
  for (size_t space = 0; space < kSpaceCount && !has_data; ++space) {
    STAFETT_RETURN_IF_ERROR(
        Scan(static_cast<Space>(space), "", "", [&](std::string_view, std::string_view) {
          has_data = true;
          return false;
        }));
  }
  STAFETT_RETURN_IF_ERROR(
      core::CheckStoreFormat(core::StoreKind::kBroker, *stored, has_data, where));
  if (stored->has_value()) return Status::Ok();
  BrokerTransaction format;
  format.OverwriteStoreFormat(core::CurrentStoreFormat(core::StoreKind::kBroker));
  return Commit(format);
}

}  // namespace stafett::store
