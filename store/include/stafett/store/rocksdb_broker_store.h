// The RocksDB BrokerStore, the default: one database, one column family, each key prefixed with
// its space's byte; every commit one WriteBatch written with sync (fsync of the WAL) unless
// opened for benchmarks without. Opened with paranoid checks and WAL recovery in absolute
// consistency, as docs/STORAGE.md ("A damaged WAL") explains. Thread-safety: as BrokerStore
// (RocksDB is thread-safe).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "stafett/store/broker_store.h"

namespace rocksdb {
class FileSystem;
}

namespace stafett::store {

struct RocksDbStoreOptions {
  bool sync = true;  // fsync every commit; turning it off is for benchmarks only
  // Memtable budget for all key spaces together. Small values make flushes (and so table
  // files, MANIFEST updates and directory syncs) happen within a short test.
  size_t memtable_bytes = 64 << 20;
  // After a background I/O error, let RocksDB retry by itself (its default). The fault-injecting
  // store turns it off: after a simulated power cut nothing can succeed, and each retry waits.
  // With a FILE_SYSTEM it also cuts RocksDB's one-second pause after a failed background flush
  // or compaction to a millisecond (closing the store waits for that pause).
  bool resume_after_errors = true;
  // The filesystem RocksDB uses; null: the operating system's. Tests pass a
  // FaultInjectionFileSystem.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

// Opens (creating if missing) the database in DIR. UNAVAILABLE when another process holds it,
// CORRUPTION for a damaged database or one of another format (naming DIR), IO_ERROR otherwise.
core::Result<std::unique_ptr<BrokerStore>> OpenRocksDbBrokerStore(
    const std::filesystem::path& dir, const RocksDbStoreOptions& options = {});

}  // namespace stafett::store
