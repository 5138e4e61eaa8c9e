// FaultInjectionFileSystem: a RocksDB FileSystem that remembers what reached the disk durably
// and can lose the rest, as a power cut would — leveldb's fault_injection_test is the model.
// It tracks per file how many bytes were written since the last Sync/Fsync, and which files
// were created or renamed since their directory was last synced. On CutPower every later
// write, sync, create, rename and delete fails and changes nothing; LoseUnsyncedData then
// truncates every file to its synced length, deletes files whose creation no directory sync
// made durable, and undoes renames no directory sync made durable.
// Not modelled: deletes are durable at once (a lost delete would bring a file back), and
// RandomRW files (unused by the broker store) are not tracked.
// For tests only. Thread-safety: safe for concurrent use (RocksDB's background threads).
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "stafett/core/status.h"
#include "stafett/store/agent_journal.h"
#include "stafett/store/broker_store.h"
#include "stafett/store/rocksdb_agent_journal.h"
#include "stafett/store/rocksdb_broker_store.h"

namespace stafett::store {

class FaultInjectionFileSystem : public rocksdb::FileSystemWrapper {
 public:
  struct Options {
    // Pass Sync/Fsync on to the real filesystem. Off, a sync is only recorded: the simulated
    // power cut decides what survives, and a test of a thousand cuts runs in seconds.
    bool forward_syncs = false;
  };

  explicit FaultInjectionFileSystem(Options options);
  FaultInjectionFileSystem() : FaultInjectionFileSystem(Options{}) {}
  static const char* kClassName() { return "StafettFaultInjectionFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // Cuts the power now.
  void CutPower();
  // Cuts the power just before the Nth next mutating operation (append, sync, create, rename,
  // delete), which fails: a commit in progress stops part way. 0 cancels.
  void CutPowerAfter(uint64_t operations);
  bool powered() const { return powered_.load(); }
  // With the power cut and every file closed (the store destroyed): drops everything not made
  // durable, then powers on again. The count of files truncated, deleted or renamed back.
  core::Result<size_t> LoseUnsyncedData();
  // How many mutating operations were made since construction (to choose where to cut).
  uint64_t operations() const { return operations_.load(); }

  // FileSystem.
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus RenameFile(const std::string& source, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;

  // Called by the file and directory wrappers.
  rocksdb::IOStatus BeforeMutation();  // counts; fails once the power is cut
  void RecordWrite(const std::string& name, uint64_t end, bool truncate);
  void RecordSync(const std::string& name);
  void RecordDirectorySync(const std::string& directory);

 private:
  struct FileState {
    uint64_t size = 0;              // bytes written
    uint64_t synced_size = 0;       // bytes made durable by Sync/Fsync
    bool created_unsynced = false;  // its directory entry is not durable yet
  };
  struct PendingRename {
    std::string source, target;
    std::optional<std::string> replaced;  // what TARGET held before, restored on loss
  };
  rocksdb::IOStatus Track(const std::string& name, rocksdb::IOStatus opened,
                          std::unique_ptr<rocksdb::FSWritableFile>* result, bool created,
                          uint64_t existing_size);

  Options options_;
  std::atomic<bool> powered_{true};
  std::atomic<uint64_t> operations_{0};
  std::atomic<uint64_t> cut_after_{0};  // 0: no scheduled cut
  std::mutex mutex_;
  std::map<std::string, FileState> files_;
  std::vector<PendingRename> renames_;
};

// The RocksDB store over FILE_SYSTEM in DIR, with small memtables so that flushes happen.
core::Result<std::unique_ptr<BrokerStore>> OpenFaultInjectingBrokerStore(
    const std::filesystem::path& dir, std::shared_ptr<FaultInjectionFileSystem> file_system,
    size_t memtable_bytes = 256 << 10);
// The RocksDB agent journal over FILE_SYSTEM in DIR.
core::Result<std::unique_ptr<AgentJournal>> OpenFaultInjectingAgentJournal(
    const std::filesystem::path& dir, std::shared_ptr<FaultInjectionFileSystem> file_system);

}  // namespace stafett::store
