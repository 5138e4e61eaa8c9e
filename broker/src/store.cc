// Store: opening RocksDB with the broker's column families, batches and checkpoints.
#include "store.h"

#include <rocksdb/cache.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <array>

#include "wal_check.h"

namespace stafett::broker {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Family::kCount)> kFamilyNames = {
    "default", "meta",  "envelopes", "messages", "queues",       "expiry",   "audit",
    "merkle",  "heads", "consents",  "trail",    "dead_letters", "trail_map"};

// The write-ahead log files in DIR, oldest (lowest number) first.
std::vector<std::filesystem::path> WalFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".log" && entry.is_regular_file()) files.push_back(entry);
  }
  std::sort(files.begin(), files.end());  // fixed-width numbers: lexical order is numeric
  return files;
}

constexpr char kRestoreAdvice[] =
    "the broker refuses to start rather than lose acknowledged records; restore data_dir from "
    "a backup (docs/STORAGE.md, \"A damaged database\")";

// After an open in absolute consistency failed with a corruption: whether the write-ahead logs
// explain it. A torn write at the end of the newest log (a batch cut short by a crash, whose
// fsync never returned, so never acknowledged) is TORN; anything else names the damaged file.
struct WalDiagnosis {
  std::optional<core::Status> corrupted;
  std::optional<std::filesystem::path> torn_file;
  WalCheck torn;
};

WalDiagnosis DiagnoseWals(const std::filesystem::path& dir) {
  WalDiagnosis diagnosis;
  std::vector<std::filesystem::path> files = WalFiles(dir);
  for (size_t i = 0; i < files.size(); ++i) {
    WalCheck check = CheckWalFile(files[i]);
    if (check.verdict == WalCheck::Verdict::kWhole) continue;
    bool newest = i + 1 == files.size();
    if (check.verdict == WalCheck::Verdict::kTornTail && newest) {
      diagnosis.torn_file = files[i];
      diagnosis.torn = check;
      continue;
    }
    diagnosis.corrupted = core::Status(
        core::Code::kCorruption,
        files[i].string() + ": the write-ahead log is damaged at offset " +
            std::to_string(check.offset) + " (" +
            (check.verdict == WalCheck::Verdict::kTornTail ? "cut short, but not the newest log"
                                                           : check.reason) +
            "); " + kRestoreAdvice);
    return diagnosis;
  }
  return diagnosis;
}

}  // namespace

std::string_view FamilyName(Family family) { return kFamilyNames[static_cast<size_t>(family)]; }

std::string EncodeBigEndian64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

uint64_t DecodeBigEndian64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

std::string QueuePrefix(std::string_view endpoint) {
  std::string key(endpoint);
  key.push_back('\0');
  return key;
}

std::string QueueKey(std::string_view endpoint, uint64_t queue_seq) {
  return QueuePrefix(endpoint) + EncodeBigEndian64(queue_seq);
}

std::string ExpiryKey(int64_t expires_at, std::string_view message_id) {
  return EncodeBigEndian64(static_cast<uint64_t>(expires_at)) + std::string(message_id);
}

std::string MerkleKey(uint32_t level, uint64_t index) {
  return std::string(1, static_cast<char>(level)) + EncodeBigEndian64(index);
}

std::string TrailPrefix(char kind, std::string_view key) {
  std::string out(1, kind);
  out.push_back('\0');
  out.append(key);
  out.push_back('\0');
  return out;
}

std::string TrailKey(char kind, std::string_view key, uint64_t seq) {
  return TrailPrefix(kind, key) + EncodeBigEndian64(seq);
}

std::string DeadLetterKey(std::string_view message_id, std::string_view recipient) {
  std::string key(message_id);
  key.push_back('\0');
  key.append(recipient);
  return key;
}

core::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return core::Status::Ok();
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return core::Status(core::Code::kCorruption, message);
  if (status.IsNoSpace() || status.subcode() == rocksdb::Status::kNoSpace) {
    return core::Status(core::Code::kStorageFull, message);
  }
  return core::Status(core::Code::kIoError, message);
}

core::Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& dir,
                                                 Options options) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return core::Status(core::Code::kIoError,
                        dir.string() + ": cannot create data folder: " + error.message());
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  // A broker restarted after a crash must find every acknowledged batch or refuse to start:
  // replay the WAL in absolute consistency, and accept only a torn tail of the newest log,
  // after checking that that is all it is (below; docs/STORAGE.md, "A damaged WAL").
  // Point-in-time recovery would stop at the first damaged record and start without the rest.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
  db_options.max_background_jobs = 2;
  // One memtable budget for all thirteen families and a bounded WAL: memory with a large
  // backlog stays flat, and recovery replays at most this much (bench/results/
  // broker-experiments.md: RSS at 10^5 queued 235 → 100 MiB, restart 4.0 → 0.9 s).
  db_options.db_write_buffer_size = 64 << 20;
  db_options.max_total_wal_size = 128 << 20;
  db_options.keep_log_file_num = 4;

  rocksdb::ColumnFamilyOptions family_options;
  rocksdb::BlockBasedTableOptions table_options;
  table_options.filter_policy.reset();
  // One block cache for all families, of RocksDB's default size but stated here: with the
  // memtable budget above it bounds the broker's memory whatever the backlog (a heap profile
  // at 3·10^5 queued: memtables 62 MiB, cached blocks 13 MiB, anything else under 3 MiB;
  // bench/results/broker-experiments.md, §7).
  table_options.block_cache = rocksdb::NewLRUCache(32 << 20);
  family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::string_view name : kFamilyNames) {
    descriptors.emplace_back(std::string(name), family_options);
  }
  auto store = std::unique_ptr<Store>(new Store());
  store->dir_ = dir;
  store->options_ = options;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status =
      rocksdb::DB::Open(db_options, dir.string(), descriptors, &store->handles_, &raw);
  if (status.IsCorruption()) {
    WalDiagnosis diagnosis = DiagnoseWals(dir);
    if (diagnosis.corrupted) return *diagnosis.corrupted;
    if (diagnosis.torn_file) {
      // Only the last batch was cut short; its fsync never returned, so nobody was told it was
      // accepted. Drop it, loudly: it is counted as a corruption so that the alert fires.
      spdlog::error("event=wal_torn_tail_dropped file={} offset={} reason=\"{}\"",
                    diagnosis.torn_file->string(), diagnosis.torn.offset, diagnosis.torn.reason);
      store->corruptions_ = 1;
      store->handles_.clear();
      db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
      status = rocksdb::DB::Open(db_options, dir.string(), descriptors, &store->handles_, &raw);
    }
  }
  if (!status.ok()) {
    if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
      return core::Status(core::Code::kUnavailable,
                          dir.string() + ": data folder is in use by another broker");
    }
    if (status.IsCorruption()) {
      return core::Status(core::Code::kCorruption, dir.string() + ": the database is damaged (" +
                                                       status.ToString() + "); " + kRestoreAdvice);
    }
    return FromRocks(status, dir.string() + ": cannot open the database");
  }
  store->db_.reset(raw);
  return store;
}

core::Status Store::ReportCorruption(Family family, std::string_view what) const {
  corruptions_.fetch_add(1);
  spdlog::error("event=storage_corruption family={} error=\"{}\"", FamilyName(family), what);
  return core::Status(core::Code::kCorruption,
                      std::string("stored data failed an integrity check (") +
                          std::string(FamilyName(family)) + "): " + std::string(what));
}

core::Status Store::IteratorStatus(Family family, const rocksdb::Iterator& it) const {
  rocksdb::Status status = it.status();
  if (status.IsCorruption()) return ReportCorruption(family, status.ToString());
  return FromRocks(status, "read");
}

Store::~Store() {
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    db_->Close().PermitUncheckedError();
  }
}

core::Result<std::optional<std::string>> Store::Get(Family family, std::string_view key) const {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), Handle(family),
                                    rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (status.IsCorruption()) return ReportCorruption(family, status.ToString());
  if (!status.ok()) return FromRocks(status, "read");
  return std::optional<std::string>(std::move(value));
}

core::Status Store::Commit(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync;
  return FromRocks(db_->Write(write_options, batch), "commit");
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(Family family) const {
  return std::unique_ptr<rocksdb::Iterator>(
      db_->NewIterator(rocksdb::ReadOptions(), Handle(family)));
}

std::unique_ptr<rocksdb::Iterator> Store::NewPrefixIterator(Family family,
                                                            std::string_view prefix) const {
  // The smallest key greater than every key with PREFIX: drop trailing 0xff bytes, then
  // increment the last byte. Our prefixes end in 0x00, so this is one increment.
  std::string upper(prefix);
  while (!upper.empty() && static_cast<uint8_t>(upper.back()) == 0xff) upper.pop_back();
  if (upper.empty()) return NewIterator(family);
  upper.back() = static_cast<char>(static_cast<uint8_t>(upper.back()) + 1);
  return NewIteratorBelow(family, std::move(upper));
}

std::unique_ptr<rocksdb::Iterator> Store::NewIteratorBelow(Family family, std::string upper) const {
  auto* text = new std::string(std::move(upper));
  auto* bound = new rocksdb::Slice(*text);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, Handle(family)));
  // The bound must live as long as the iterator.
  it->RegisterCleanup(
      [](void* slice, void* owned) {
        delete static_cast<rocksdb::Slice*>(slice);
        delete static_cast<std::string*>(owned);
      },
      bound, text);
  return it;
}

core::Result<std::optional<std::string>> Store::LastKeyWithPrefix(Family family,
                                                                  std::string_view prefix) const {
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(family);
  std::string upper(prefix);
  // Seek just past every key with PREFIX: the prefix followed by 0xff bytes is enough for our
  // fixed-width suffixes (be64 numbers).
  upper.append(16, '\xff');
  it->SeekForPrev(upper);
  if (it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) {
    return std::optional<std::string>(it->key().ToString());
  }
  STAFETT_RETURN_IF_ERROR(IteratorStatus(family, *it));
  return std::optional<std::string>();
}

core::Status Store::Checkpoint(const std::filesystem::path& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  STAFETT_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(dir.string()), "checkpoint " + dir.string());
}

uint64_t Store::FreeBytes() const {
  struct statvfs info {};
  if (statvfs(dir_.c_str(), &info) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

}  // namespace stafett::broker
