// The RocksDB AgentJournal, the agent's default: one database in data_dir/journal, every write
// one WriteBatch with sync (fsync of the WAL). RocksDB's own log lines go to the agent's log,
// and after a failed write it waits for Resume() instead of retrying in the background
// (docs/AGENT.md, "Storage"). Thread-safety: as AgentJournal (RocksDB is thread-safe).
#pragma once

#include <filesystem>
#include <memory>

#include "stafett/store/agent_journal.h"

namespace rocksdb {
class FileSystem;
}

namespace stafett::store {

struct RocksDbJournalOptions {
  // The filesystem RocksDB uses; null: the operating system's. Tests pass a
  // FaultInjectionFileSystem.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

// Opens (creating if missing) the journal in DIR. CORRUPTION for a damaged journal or one of
// another format (naming DIR), STORAGE_FULL or IO_ERROR otherwise.
core::Result<std::unique_ptr<AgentJournal>> OpenRocksDbAgentJournal(
    const std::filesystem::path& dir, const RocksDbJournalOptions& options = {});

}  // namespace stafett::store
