// Store: the broker's one RocksDB database, its column families and key layout
// (docs/STORAGE.md). Every event's writes go into one WriteBatch committed with sync=true.
// Thread-safety: RocksDB handles are thread-safe; the broker loop is the only writer.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::broker {

// The column families, in the order they are opened.
enum class Family : size_t {
  kDefault,    // unused (RocksDB requires it)
  kMeta,       // "schema_version" → "1"
  kEnvelopes,  // message_id → envelope (header, signature, payload), until every recipient is done
  kMessages,   // message_id → message state JSON (the dedup index)
  kQueues,     // endpoint 0x00 be64(queue_seq) → queue entry JSON
  kExpiry,     // be64(expires_at_us) message_id → ""
  kAudit,      // be64(seq) → canonical audit record JSON (the Merkle leaf input)
  kMerkle,     // u8(level) be64(index) → 32-byte hash of a perfect subtree
  kHeads,      // be64(tree_size) → signed tree head JSON
  kConsents,   // consent_id → consent state JSON
  kTrail,      // 's'|'e'|'m' 0x00 key 0x00 be64(seq) → "" (trail indexes)
  kDeadLetters,  // message_id 0x00 recipient → dead letter JSON
  kTrailMap,     // be16(depth) key prefix → trail map node (core/sparse_map.h)
  kCount,
};

std::string EncodeBigEndian64(uint64_t value);
uint64_t DecodeBigEndian64(std::string_view bytes);

// Key builders; one place so the layout stays as documented.
std::string QueueKey(std::string_view endpoint, uint64_t queue_seq);
std::string QueuePrefix(std::string_view endpoint);
std::string ExpiryKey(int64_t expires_at, std::string_view message_id);
std::string MerkleKey(uint32_t level, uint64_t index);
std::string TrailKey(char kind, std::string_view key, uint64_t seq);
std::string TrailPrefix(char kind, std::string_view key);
std::string DeadLetterKey(std::string_view message_id, std::string_view recipient);

class Store {
 public:
  struct Options {
    bool sync = true;  // fsync every batch; turning it off is for benchmarks only
  };

  static core::Result<std::unique_ptr<Store>> Open(const std::filesystem::path& dir,
                                                   Options options);
  ~Store();

  rocksdb::ColumnFamilyHandle* Handle(Family family) const {
    return handles_[static_cast<size_t>(family)];
  }
  rocksdb::DB* db() const { return db_.get(); }

  // Point read; nullopt when absent. IO errors become kIoError / kCorruption.
  core::Result<std::optional<std::string>> Get(Family family, std::string_view key) const;
  // Commits BATCH atomically with the configured durability (sync=true by default).
  core::Status Commit(rocksdb::WriteBatch* batch);
  // An iterator over one family (caller owns it).
  std::unique_ptr<rocksdb::Iterator> NewIterator(Family family) const;
  // An iterator that ends at the last key starting with PREFIX (iterate_upper_bound), so a
  // Seek never walks the deleted entries of the next prefix — acknowledged queue entries of
  // the next endpoint leave tombstones until compaction.
  std::unique_ptr<rocksdb::Iterator> NewPrefixIterator(Family family,
                                                       std::string_view prefix) const;
  // An iterator over the keys below UPPER (iterate_upper_bound): it stops at the first key at
  // or above UPPER, deleted or not, instead of walking the tombstones beyond it.
  std::unique_ptr<rocksdb::Iterator> NewIteratorBelow(Family family, std::string upper) const;
  // The last key of FAMILY that starts with PREFIX, if any; a read error is an error.
  core::Result<std::optional<std::string>> LastKeyWithPrefix(Family family,
                                                             std::string_view prefix) const;
  // The status of an iterator over FAMILY once it stopped: a corruption is reported.
  core::Status IteratorStatus(Family family, const rocksdb::Iterator& it) const;

  // Logs and counts stored data that failed an integrity check or does not decode: the family
  // and what failed (RocksDB's message names files and offsets), never a key or a value.
  // Returns the CORRUPTION status to hand to whoever asked. Thread-safe.
  core::Status ReportCorruption(Family family, std::string_view what) const;
  // How many corruptions were reported since the store was opened (a torn WAL tail dropped at
  // open counts as one).
  uint64_t corruptions() const { return corruptions_.load(); }

  // A consistent online copy (RocksDB checkpoint) in DIR, which must not exist.
  core::Status Checkpoint(const std::filesystem::path& dir) const;
  // Free space on the data folder's filesystem, in bytes.
  uint64_t FreeBytes() const;

 private:
  Store() = default;
  std::filesystem::path dir_;
  Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  mutable std::atomic<uint64_t> corruptions_{0};
};

// The name of FAMILY as RocksDB knows it.
std::string_view FamilyName(Family family);

// Maps a RocksDB status to ours (no payload data in messages).
core::Status FromRocks(const rocksdb::Status& status, std::string_view what);

}  // namespace stafett::broker
