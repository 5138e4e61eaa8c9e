// BrokerStore: the broker's durable state behind an interface — transactions of typed verbs
// over the records of core/records/, point reads and ordered scans by typed keys. No RocksDB
// type appears here. Implementations: RocksDB (rocksdb_broker_store.h, the default), in memory
// (memory_broker_store.h) and RocksDB over a filesystem that loses unsynced data on a simulated
// power cut (fault_injection_file_system.h); tests/store/broker_store_conformance_test.cc runs
// the same tests against each. Key layout: docs/STORAGE.md, "Key spaces".
// Thread-safety: reads are safe from any thread, also during a Commit; one writer commits at a
// time. A BrokerTransaction is a value owned by one thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/merkle.h"
#include "stafett/core/records/consent_record.h"
#include "stafett/core/records/dead_letter.h"
#include "stafett/core/records/dedup_entry.h"
#include "stafett/core/records/message_state.h"
#include "stafett/core/records/queue_entry.h"
#include "stafett/core/records/store_format.h"
#include "stafett/core/records/trail_index.h"
#include "stafett/core/records/tree_head.h"
#include "stafett/core/status.h"

namespace stafett::store {

// The key spaces (RocksDB column families), in their fixed order.
enum class Space : uint8_t {
  kMeta,         // `format` → StoreFormat, `queue_seq` → be64
  kEnvelopes,    // message id → StoredEnvelope
  kMessages,     // message id → MessageState
  kDedup,        // message id → DedupEntry
  kQueues,       // endpoint 0x00 be64 queue seq → QueueEntry
  kExpiry,       // be64 expires_at message id → ""
  kAudit,        // be64 seq → canonical audit record JSON
  kMerkle,       // u8 level be64 index → 32-byte hash
  kHeads,        // be64 tree size → TreeHead
  kConsents,     // consent id → ConsentRecord
  kTrail,        // TrailEntry / TrailLink keys → ""
  kDeadLetters,  // message id 0x00 recipient → DeadLetter
  kTrailMap,     // trail map node key → node (core/sparse_map.h)
  kCount,
};
inline constexpr size_t kSpaceCount = static_cast<size_t>(Space::kCount);
// The space's name, also the RocksDB column family's: "meta", "envelopes", …
std::string_view SpaceName(Space space);

// One atomic unit of writes, built from typed verbs. A verb whose record breaks its rules
// (core/records: INTERNAL) is not added; the transaction remembers the first such error and
// Commit refuses the whole transaction with it, writing nothing.
class BrokerTransaction {
 public:
  struct Operation {
    Space space;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };

  void PutEnvelope(std::string_view message_id, const core::Envelope& envelope);
  void DeleteEnvelope(std::string_view message_id);
  void PutMessageState(std::string_view message_id, const core::MessageState& state);
  // Retention (docs/PRIVACY.md): a finished message's state, after its grace period.
  void DeleteMessageState(std::string_view message_id);
  void PutDedup(std::string_view message_id, const core::DedupEntry& entry);
  void PutQueueEntry(std::string_view endpoint, uint64_t queue_seq, const core::QueueEntry& entry);
  void DeleteQueueEntry(std::string_view endpoint, uint64_t queue_seq);
  void PutExpiry(core::Micros expires_at, std::string_view message_id);
  void DeleteExpiry(core::Micros expires_at, std::string_view message_id);
  void AppendAuditLeaf(uint64_t seq, std::string_view canonical_record);
  void PutMerkleNode(uint32_t level, uint64_t index, const core::Hash& hash);
  void PutTrailMapNode(std::string_view node_key, std::string_view node);
  void PutTreeHead(const core::TreeHead& head);
  void PutConsent(const core::ConsentRecord& record);
  void PutTrailEntry(const core::TrailEntry& entry);
  void PutTrailLink(const core::TrailLink& link);
  void DeleteTrailLink(const core::TrailLink& link);
  void DeleteTrailEntry(const core::TrailEntry& entry);
  void PutDeadLetter(std::string_view message_id, std::string_view recipient,
                     const core::DeadLetter& letter);
  void DeleteDeadLetter(std::string_view message_id, std::string_view recipient);
  // The largest queue seq ever used (seqs are never reused, also after their entries go).
  void PutQueueSeq(uint64_t queue_seq);
  // Replaces the database's format record. For tests of the version check and for a future
  // migration tool only; the store writes its own format when it creates a database.
  void OverwriteStoreFormat(const core::StoreFormat& format);
  // Raw bytes under a key, bypassing the records' codecs: for tests that plant damage (a
  // record that does not decode, an altered audit leaf) and for repair tools. The broker never
  // calls these.
  void PutRaw(Space space, std::string key, std::string value);
  void DeleteRaw(Space space, std::string key);

  const core::Status& status() const { return status_; }
  const std::vector<Operation>& operations() const { return operations_; }
  bool empty() const { return operations_.empty(); }
  void Clear();

 private:
  void Put(Space space, std::string key, core::Result<std::string> value);
  void Put(Space space, std::string key, std::string value);
  void Delete(Space space, std::string key);
  void Fail(const core::Status& status);

  std::vector<Operation> operations_;
  core::Status status_;
};

class BrokerStore {
 public:
  using EntryVisitor = std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~BrokerStore() = default;
  BrokerStore(const BrokerStore&) = delete;
  BrokerStore& operator=(const BrokerStore&) = delete;

  // Applies every operation of TRANSACTION atomically, durably (fsync) unless the store was
  // opened without sync, and in order. Its status first: a transaction holding an encoding
  // error is refused with it. On any error nothing of it is applied. STORAGE_FULL when the
  // disk is full, IO_ERROR otherwise.
  virtual core::Status Commit(const BrokerTransaction& transaction) = 0;

  // Point reads: nullopt when absent; CORRUPTION when the stored bytes do not decode.
  core::Result<std::optional<core::Envelope>> GetEnvelope(std::string_view message_id) const;
  core::Result<std::optional<core::MessageState>> GetMessageState(
      std::string_view message_id) const;
  core::Result<std::optional<core::DedupEntry>> GetDedup(std::string_view message_id) const;
  core::Result<std::optional<core::QueueEntry>> GetQueueEntry(std::string_view endpoint,
                                                              uint64_t queue_seq) const;
  core::Result<std::optional<core::ConsentRecord>> GetConsent(std::string_view consent_id) const;
  core::Result<std::optional<core::TreeHead>> GetTreeHead(uint64_t tree_size) const;
  core::Result<std::optional<core::TreeHead>> LatestTreeHead() const;
  core::Result<std::optional<std::string>> GetAuditLeaf(uint64_t seq) const;
  // One past the largest audit seq stored (0 for an empty log).
  core::Result<uint64_t> AuditSize() const;
  core::Result<std::optional<core::Hash>> GetMerkleNode(uint32_t level, uint64_t index) const;
  core::Result<std::optional<std::string>> GetTrailMapNode(std::string_view node_key) const;
  core::Result<std::optional<core::DeadLetter>> GetDeadLetter(std::string_view message_id,
                                                              std::string_view recipient) const;
  // The largest queue seq recorded by PutQueueSeq, 0 if none.
  core::Result<uint64_t> QueueSeq() const;

  // Ordered scans; the visitor returns false to stop. A record that does not decode stops the
  // scan with CORRUPTION.
  // ENDPOINT's entries with a queue seq above AFTER_SEQ, ascending.
  core::Status ScanQueue(std::string_view endpoint, uint64_t after_seq,
                         const std::function<bool(uint64_t, const core::QueueEntry&)>& visit) const;
  // Every queue key (endpoint, seq), by endpoint then seq; values are not read.
  core::Status ScanQueueKeys(
      const std::function<bool(std::string_view endpoint, uint64_t seq)>& visit) const;
  // Expiry entries due by NOW (expires_at ≤ NOW), earliest first.
  core::Status ScanExpiredBy(
      core::Micros now,
      const std::function<bool(core::Micros, std::string_view message_id)>& visit) const;
  // A trail's seqs above AFTER_SEQ, ascending (kind s, e or m).
  core::Status ScanTrail(core::TrailKind kind, std::string_view id, uint64_t after_seq,
                         const std::function<bool(uint64_t)>& visit) const;
  // A trail's seqs from FROM_SEQ on (inclusive), ascending.
  core::Status ScanTrailFrom(core::TrailKind kind, std::string_view id, uint64_t from_seq,
                             const std::function<bool(uint64_t)>& visit) const;
  // The other ids linked to ID (kind c or k), ascending.
  core::Status ScanTrailLinks(core::TrailKind kind, std::string_view id,
                              const std::function<bool(std::string_view other)>& visit) const;

  // Every consent with an id above AFTER ("" for all), in id order.
  core::Status ScanConsents(std::string_view after,
                            const std::function<bool(const core::ConsentRecord&)>& visit) const;
  // Audit leaves from FROM_SEQ on, ascending.
  core::Status ScanAudit(uint64_t from_seq,
                         const std::function<bool(uint64_t, std::string_view leaf)>& visit) const;
  // Every entry of SPACE in key order, raw bytes: for tools and tests that inspect the layout.
  core::Status ScanSpace(Space space, const EntryVisitor& visit) const {
    return Corrupted(Scan(space, "", "", visit), space);
  }

  // A consistent copy of the whole store in DIR, which must not exist (an online backup).
  // UNAVAILABLE for a store with no files to copy (in memory).
  virtual core::Status Checkpoint(const std::filesystem::path& dir) const = 0;
  // Free space where the store keeps its files, in bytes (UINT64_MAX in memory).
  virtual uint64_t FreeBytes() const = 0;
  // What each key space takes, approximately, in bytes: its table files on disk and what its
  // memtables hold, compressed as stored (the gauge stafett_store_space_bytes; the benchmark's
  // reading of the data folder after retention). Deleted keys count until compaction drops them.
  virtual std::array<uint64_t, kSpaceCount> SpaceBytes() const = 0;
  // After a failed Commit: OK when the store takes writes again (a full disk with space back,
  // RocksDB resumed); an error when it stays read-only until reopened (after a failed sync the
  // kernel may have dropped pages, so nothing in memory can be trusted).
  virtual core::Status Resume() = 0;
  // Writes everything in memory out to table files (tests that damage a table file).
  virtual core::Status Flush() = 0;

  // Logs and counts damage the caller found in what it read (a trail entry naming a missing
  // audit record): the space and what failed, never a key or a value. Returns the CORRUPTION
  // status to hand on. Thread-safe.
  core::Status ReportCorruption(Space space, std::string_view what) const;
  // How many stored records failed to decode since open (a torn WAL tail dropped at open counts
  // as one).
  uint64_t corruptions() const { return corruptions_.load(); }

 protected:
  BrokerStore() = default;
  void CountCorruption() const { corruptions_.fetch_add(1); }

  // The byte-level primitives an implementation provides.
  virtual core::Result<std::optional<std::string>> Read(Space space,
                                                        std::string_view key) const = 0;
  // Keys in [LOWER, UPPER) ascending; an empty UPPER is no bound.
  virtual core::Status Scan(Space space, std::string_view lower, std::string_view upper,
                            const EntryVisitor& visit) const = 0;
  // The last key in [LOWER, UPPER); an empty UPPER is no bound.
  virtual core::Result<std::optional<std::string>> LastKey(Space space, std::string_view lower,
                                                           std::string_view upper) const = 0;

  // Called by an implementation once it is open: checks the format record of a database that
  // holds data (CORRUPTION for another kind or version, naming WHERE) and writes the current
  // one into a new, empty database.
  core::Status InitialiseFormat(std::string_view where);

 private:
  // Counts and logs STATUS if it is a corruption (of SPACE, when known); returns it.
  core::Status Corrupted(const core::Status& status,
                         std::optional<Space> space = std::nullopt) const;
  template <typename T, typename Decode>
  core::Result<std::optional<T>> ReadRecord(Space space, std::string_view key, Decode decode) const;

  mutable std::atomic<uint64_t> corruptions_{0};
};

}  // namespace stafett::store
