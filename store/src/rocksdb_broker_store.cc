// The RocksDB BrokerStore.
#include "stafett/store/rocksdb_broker_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/system_clock.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <vector>

#include "stafett/store/wal_check.h"

namespace stafett::store {
namespace {

constexpr char kRestoreAdvice[] =
    "the broker refuses to start rather than lose acknowledged records; restore data_dir from "
    "a backup (docs/STORAGE.md, \"A damaged database\")";

// RocksDB sleeps a second after a failed background flush or compaction
// (DBImpl::BackgroundCallFlush and ...Compaction), and closing the database waits for that
// sleep. A store that does not resume after errors (the fault-injecting one, whose every write
// fails after a simulated power cut) gains nothing by the wait: its sleeps are capped at 1 ms,
// or a thousand power cuts would cost minutes of sleep.
class ShortSleepClock final : public rocksdb::SystemClockWrapper {
 public:
  using rocksdb::SystemClockWrapper::SystemClockWrapper;
  static const char* kClassName() { return "StafettShortSleepClock"; }
  const char* Name() const override { return kClassName(); }
  void SleepForMicroseconds(int micros) override {
    target_->SleepForMicroseconds(std::min(micros, 1000));
  }
};

class ShortSleepEnv final : public rocksdb::EnvWrapper {
 public:
  explicit ShortSleepEnv(std::unique_ptr<rocksdb::Env>&& target)
      : rocksdb::EnvWrapper(std::move(target)) {
    system_clock_ = std::make_shared<ShortSleepClock>(system_clock_);  // what the DB sleeps on
  }
  static const char* kClassName() { return "StafettShortSleepEnv"; }
  const char* Name() const override { return kClassName(); }
  void SleepForMicroseconds(int micros) override {
    target()->SleepForMicroseconds(std::min(micros, 1000));
  }
};

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

core::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return core::Status::Ok();
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return core::Status(core::Code::kCorruption, message);
  if (status.IsNoSpace() || status.subcode() == rocksdb::Status::kNoSpace) {
    return core::Status(core::Code::kStorageFull, message);
  }
  return core::Status(core::Code::kIoError, message);
}

rocksdb::Slice ToSlice(std::string_view text) { return rocksdb::Slice(text.data(), text.size()); }

class RocksDbBrokerStore final : public BrokerStore {
 public:
  ~RocksDbBrokerStore() override {
    if (db_) {
      db_->Close().PermitUncheckedError();
      db_.reset();
    }
  }

  core::Status Open(const std::filesystem::path& dir, const RocksDbStoreOptions& options) {
    sync_ = options.sync;
    rocksdb::Options db_options;
    if (options.file_system) {
      env_ = rocksdb::NewCompositeEnv(options.file_system);
      if (!options.resume_after_errors) env_ = std::make_unique<ShortSleepEnv>(std::move(env_));
      db_options.env = env_.get();
    } else {
      std::error_code error;
      std::filesystem::create_directories(dir, error);
      if (error) {
        return core::Status(core::Code::kIoError,
                            dir.string() + ": cannot create data folder: " + error.message());
      }
    }
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.paranoid_checks = true;
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
    db_options.max_background_jobs = 2;
    db_options.db_write_buffer_size = options.memtable_bytes;
    db_options.max_total_wal_size = 2 * options.memtable_bytes;
    db_options.keep_log_file_num = 4;
    // Fail, rather than retry in the background, after an I/O error: the caller decides (the
    // broker resumes after a full disk and stops after anything else; docs/STORAGE.md).
    if (!options.resume_after_errors) db_options.max_bgerror_resume_count = 0;
    rocksdb::BlockBasedTableOptions table_options;
    table_options.block_cache = rocksdb::NewLRUCache(32 << 20);
    // Whole-key Bloom filters: most point reads miss (every new message id is looked up before
    // it is accepted), and a filter answers a miss without reading a data block — nor a damaged
    // one of another key space's table file.
    table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
    if (options.memtable_bytes < (4u << 20)) db_options.write_buffer_size = options.memtable_bytes;
    // One column family for every key space, each key prefixed with its space's byte
    // (docs/STORAGE.md, "Key spaces"): the spaces share one memtable budget, one WAL and one
    // set of options anyway, and a database with thirteen families costs thirteen memtables
    // and ~10x the CPU to open.
    // A broker restarted after a crash must find every acknowledged commit or refuse to start:
    // the WAL is replayed in absolute consistency, and only a torn tail of the newest log is
    // accepted, after checking that that is all it is (docs/STORAGE.md, "A damaged WAL").
    // Point-in-time recovery would stop at the first damaged record and start without the rest.
    rocksdb::DB* raw = nullptr;
    rocksdb::Status status = rocksdb::DB::Open(db_options, dir.string(), &raw);
    if (status.IsCorruption() && !options.file_system) {
      WalDiagnosis diagnosis = DiagnoseWals(dir);
      if (diagnosis.corrupted) return *diagnosis.corrupted;
      if (diagnosis.torn_file) {
        // Only the last commit was cut short; its fsync never returned, so nobody was told it
        // was accepted. Drop it, loudly: it is counted as a corruption so that the alert fires.
        spdlog::error("event=wal_torn_tail_dropped file={} offset={} reason=\"{}\"",
                      diagnosis.torn_file->string(), diagnosis.torn.offset, diagnosis.torn.reason);
        CountCorruption();
        db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
        status = rocksdb::DB::Open(db_options, dir.string(), &raw);
      }
    }
    if (!status.ok()) {
      if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
        return core::Status(core::Code::kUnavailable,
                            dir.string() + ": data folder is in use by another process");
      }
      if (status.IsCorruption()) {
        return core::Status(core::Code::kCorruption, dir.string() + ": the database is damaged (" +
                                                         status.ToString() + "); " +
                                                         kRestoreAdvice);
      }
      return FromRocks(status, dir.string() + ": cannot open the database");
    }
    dir_ = dir;
    db_.reset(raw);
    return InitialiseFormat(dir.string());
  }

  core::Status Commit(const BrokerTransaction& transaction) override {
    if (!transaction.status().ok()) return transaction.status();
    rocksdb::WriteBatch batch;
    for (const BrokerTransaction::Operation& operation : transaction.operations()) {
      std::string key = KeyIn(operation.space, operation.key);
      rocksdb::Status added =
          operation.value ? batch.Put(key, ToSlice(*operation.value)) : batch.Delete(key);
      if (!added.ok()) return FromRocks(added, "commit");
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = sync_;
    return FromRocks(db_->Write(write_options, &batch), "commit");
  }

  core::Status Checkpoint(const std::filesystem::path& dir) const override {
    rocksdb::Checkpoint* raw = nullptr;
    STAFETT_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    return FromRocks(checkpoint->CreateCheckpoint(dir.string()), "checkpoint " + dir.string());
  }

  uint64_t FreeBytes() const override {
    struct statvfs info {};
    if (statvfs(dir_.c_str(), &info) != 0) return UINT64_MAX;
    return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
  }

  std::array<uint64_t, kSpaceCount> SpaceBytes() const override {
    // Every space is a key prefix of the one column family (Open): its range is [byte, byte+1).
    std::array<std::string, kSpaceCount + 1> bounds;
    for (size_t space = 0; space <= kSpaceCount; ++space) {
      bounds[space] = std::string(1, static_cast<char>(space));
    }
    std::array<rocksdb::Range, kSpaceCount> ranges;
    for (size_t space = 0; space < kSpaceCount; ++space) {
      ranges[space] = rocksdb::Range(bounds[space], bounds[space + 1]);
    }
    rocksdb::SizeApproximationOptions options;
    options.include_memtables = true;
    options.include_files = true;
    std::array<uint64_t, kSpaceCount> sizes{};
    rocksdb::Status status = db_->GetApproximateSizes(options, db_->DefaultColumnFamily(),
                                                      ranges.data(), kSpaceCount, sizes.data());
    if (!status.ok()) return {};
    return sizes;
  }

  core::Status Resume() override { return FromRocks(db_->Resume(), "resume after a failed write"); }

  core::Status Flush() override { return FromRocks(db_->Flush(rocksdb::FlushOptions()), "flush"); }

 protected:
  core::Result<std::optional<std::string>> Read(Space space, std::string_view key) const override {
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), KeyIn(space, key), &value);
    if (status.IsNotFound()) return std::optional<std::string>();
    if (!status.ok()) return FromRocks(status, "read " + std::string(SpaceName(space)));
    return std::optional<std::string>(std::move(value));
  }

  core::Status Scan(Space space, std::string_view lower, std::string_view upper,
                    const EntryVisitor& visit) const override {
    // The upper bound stops the iterator at the first key above it, deleted or not, instead of
    // walking tombstones beyond it.
    std::string end = UpperIn(space, upper);
    rocksdb::ReadOptions read_options;
    rocksdb::Slice bound(end);
    read_options.iterate_upper_bound = &bound;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options));
    for (it->Seek(KeyIn(space, lower)); it->Valid(); it->Next()) {
      rocksdb::Slice key = it->key();
      rocksdb::Slice value = it->value();
      key.remove_prefix(1);
      if (!visit(std::string_view(key.data(), key.size()),
                 std::string_view(value.data(), value.size()))) {
        break;
      }
    }
    return FromRocks(it->status(), "scan " + std::string(SpaceName(space)));
  }

  core::Result<std::optional<std::string>> LastKey(Space space, std::string_view lower,
                                                   std::string_view upper) const override {
    std::string end = UpperIn(space, upper);
    std::string start = KeyIn(space, lower);
    rocksdb::ReadOptions read_options;
    rocksdb::Slice bound(end);
    read_options.iterate_upper_bound = &bound;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options));
    it->SeekToLast();
    if (it->Valid() && it->key().compare(rocksdb::Slice(start)) >= 0) {
      return std::optional<std::string>(it->key().ToString().substr(1));
    }
    STAFETT_RETURN_IF_ERROR(FromRocks(it->status(), "scan " + std::string(SpaceName(space))));
    return std::optional<std::string>();
  }

 private:
  // A space's key: its byte, then the key.
  static std::string KeyIn(Space space, std::string_view key) {
    std::string out(1, static_cast<char>(space));
    out.append(key);
    return out;
  }
  // The exclusive end of [.., UPPER) in SPACE; an empty UPPER is the end of the space.
  static std::string UpperIn(Space space, std::string_view upper) {
    if (upper.empty()) return std::string(1, static_cast<char>(static_cast<uint8_t>(space) + 1));
    return KeyIn(space, upper);
  }

  std::unique_ptr<rocksdb::Env> env_;  // outlives db_ (declared first, destroyed last)
  std::unique_ptr<rocksdb::DB> db_;
  std::filesystem::path dir_;
  bool sync_ = true;
};

}  // namespace

core::Result<std::unique_ptr<BrokerStore>> OpenRocksDbBrokerStore(
    const std::filesystem::path& dir, const RocksDbStoreOptions& options) {
  auto store = std::make_unique<RocksDbBrokerStore>();
  STAFETT_RETURN_IF_ERROR(store->Open(dir, options));
  return std::unique_ptr<BrokerStore>(std::move(store));
}

}  // namespace stafett::store
