// The RocksDB AgentJournal.
#include "stafett/store/rocksdb_agent_journal.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <utility>

namespace stafett::store {
namespace {

core::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return core::Status::Ok();
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsNoSpace()) return core::Status(core::Code::kStorageFull, message);
  if (status.IsCorruption()) return core::Status(core::Code::kCorruption, message);
  return core::Status(core::Code::kIoError, message);
}

rocksdb::Slice ToSlice(std::string_view text) { return rocksdb::Slice(text.data(), text.size()); }

// RocksDB's own warnings and errors go to the agent's log instead of a LOG file in data_dir:
// on a full disk that file fails too, and Debian's RocksDB asserts (and the agent dies) on the
// next line written to a file whose write failed. Nothing of a document is in these lines.
class JournalLogger : public rocksdb::Logger {
 public:
  JournalLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list arguments) override {
    char line[512];
    std::vsnprintf(line, sizeof line, format, arguments);
    std::string text(line);
    for (char& c : text) {
      if (c == '"' || c == '\n') c = '\'';
    }
    spdlog::warn("event=journal_storage_engine message=\"{}\"", text);
  }
};

class RocksDbAgentJournal final : public AgentJournal {
 public:
  ~RocksDbAgentJournal() override {
    if (db_) {
      db_->Close().PermitUncheckedError();
      db_.reset();
    }
  }

  core::Status Open(const std::filesystem::path& dir, const RocksDbJournalOptions& options) {
    rocksdb::Options db_options;
    if (options.file_system) {
      env_ = rocksdb::NewCompositeEnv(options.file_system);
      db_options.env = env_.get();
    }
    db_options.create_if_missing = true;
    db_options.max_open_files = 256;
    db_options.keep_log_file_num = 4;
    // Bounded memory whatever waits in the journal (issue 16: RSS flat from 10^4 to 10^5
    // documents waiting): two 16 MiB memtables at most, then the data is on disk; the agent's
    // reads are by key and by the small pending index, which the block cache serves.
    db_options.write_buffer_size = 16 << 20;
    db_options.max_write_buffer_number = 2;
    // After a write failed for want of space RocksDB would retry on its own in the background,
    // and its retry touches the write-ahead log that failed (an assertion in Debian's build
    // stops the agent). The agent resumes it itself once there is room (Storage::Check).
    db_options.max_bgerror_resume_count = 0;
    db_options.info_log = std::make_shared<JournalLogger>();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status opened = rocksdb::DB::Open(db_options, dir.string(), &raw);
    if (!opened.ok()) return FromRocks(opened, "journal " + dir.string());
    db_.reset(raw);
    return Initialise("journal " + dir.string());
  }

  core::Status Resume() override { return FromRocks(db_->Resume(), "journal resume"); }

 protected:
  core::Result<std::optional<std::string>> Read(std::string_view key) override {
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
    if (status.IsNotFound()) return std::optional<std::string>();
    if (!status.ok()) return FromRocks(status, "journal read");
    return std::optional<std::string>(std::move(value));
  }

  core::Status Apply(const std::vector<Write>& writes) override {
    rocksdb::WriteBatch batch;
    for (const Write& write : writes) {
      rocksdb::Status added =
          write.value ? batch.Put(write.key, *write.value) : batch.Delete(write.key);
      if (!added.ok()) return FromRocks(added, "journal write");
    }
    rocksdb::WriteOptions synced;
    synced.sync = true;
    return FromRocks(db_->Write(synced, &batch), "journal write");
  }

  core::Status Scan(std::string_view prefix, const EntryVisitor& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix));
         it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()),
                 std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    return FromRocks(it->status(), "journal read");
  }

 private:
  std::unique_ptr<rocksdb::Env> env_;  // outlives db_ (declared first, destroyed last)
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

core::Result<std::unique_ptr<AgentJournal>> OpenRocksDbAgentJournal(
    const std::filesystem::path& dir, const RocksDbJournalOptions& options) {
  auto journal = std::make_unique<RocksDbAgentJournal>();
  STAFETT_RETURN_IF_ERROR(journal->Open(dir, options));
  return std::unique_ptr<AgentJournal>(std::move(journal));
}

}  // namespace stafett::store
