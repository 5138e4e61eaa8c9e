// The RocksDB BrokerStore.
#include "stafett/store/rocksdb_broker_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <vector>

namespace stafett::store {
namespace {

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
    db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
    if (options.memtable_bytes < (4u << 20)) db_options.write_buffer_size = options.memtable_bytes;
    // One column family for every key space, each key prefixed with its space's byte
    // (docs/STORAGE.md, "Key spaces"): the spaces share one memtable budget, one WAL and one
    // set of options anyway, and a database with thirteen families costs thirteen memtables
    // and ~10x the CPU to open.
    rocksdb::DB* raw = nullptr;
    rocksdb::Status status = rocksdb::DB::Open(db_options, dir.string(), &raw);
    if (!status.ok()) {
      if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
        return core::Status(core::Code::kUnavailable,
                            dir.string() + ": data folder is in use by another process");
      }
      return FromRocks(status, dir.string() + ": cannot open the database");
    }
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
