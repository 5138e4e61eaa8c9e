// Storage: whether this agent's own disk can take new work — free space of data_dir, inbox
// and outbox against min_free_bytes, and whether a write failed for want of space (ENOSPC:
// the journal's RocksDB, an inbox file). Read by /readyz, POST /v1/messages, GET
// /v1/messages/{id}, the send pipeline and the outbox watcher (docs/AGENT.md, "Storage").
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "agent_config.h"
#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::agent {

class Storage {
 public:
  // RESUME asks the journal to write again after a failure (AgentJournal::Resume).
  Storage(const AgentConfig& config, const core::Clock& clock,
          std::function<core::Status()> resume);

  // Ok, or kStorageFull naming the folder below min_free_bytes or the write that failed for
  // want of space. After such a failure, once every folder is above the floor again, this
  // resumes the journal (at most once a second) and is ok if that works.
  core::Status Check();
  // The outcome of a write in WHERE ("journal", "inbox"): kStorageFull marks the disk full; ok
  // marks it writable again. Other errors change nothing.
  void NoteWrite(const core::Status& status, const std::string& where);
  // {"full", "min_free_bytes", "free_bytes": {"data_dir", "inbox", "outbox"}, "write_failed"?}
  nlohmann::json ToJson();

 private:
  uint64_t FreeBytes(const std::filesystem::path& folder) const;

  const AgentConfig& config_;
  const core::Clock& clock_;
  std::function<core::Status()> resume_;
  std::atomic<bool> write_failed_{false};
  std::atomic<bool> below_floor_{false};  // for logging the transitions only
  std::mutex mutex_;
  std::string failed_where_;        // guarded by mutex_
  core::MonotonicTime resumed_at_;  // guarded by mutex_
};

}  // namespace stafett::agent
