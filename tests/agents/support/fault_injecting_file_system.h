// FaultInjectingFileSystem: an in-memory agent::FileSystem that remembers what reached the disk
// durably and can lose the rest, as a power cut would (the agent's files; the journal's RocksDB
// has store/fault_injection_file_system.h). A file's content is durable once fsynced (inside
// WriteFileDurably); a name change (create, rename, remove) once a folder it touches is synced —
// which, as a journalling filesystem does, makes every earlier name change durable too (the
// durable names are always a prefix of the changes made). A rename is one change: it is never
// half durable. On a cut every later mutating step fails and changes nothing; LoseUnsyncedData
// then keeps only the durable names and the synced contents (a durable name whose content was
// never synced is an empty file). Folders are taken to exist, durably.
// For tests only. Thread-safety: safe for concurrent use (one mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "file_system.h"

namespace stafett::agent {

class FaultInjectingFileSystem : public FileSystem {
 public:
  // Cuts the power now.
  void CutPower();
  // Cuts the power just before the Nth next mutating step (create, fsync, rename, remove, folder
  // sync), which fails. 0 cancels.
  void CutPowerAfter(uint64_t steps);
  bool powered() const;
  // Drops everything not durable, then powers on again. How many name changes and file
  // contents were lost.
  size_t LoseUnsyncedData();
  uint64_t operations() const;

  core::Result<std::string> ReadFile(const std::filesystem::path& file, size_t max_bytes) override;
  core::Status WriteFileDurably(const std::filesystem::path& folder, const std::string& name,
                                std::string_view content) override;
  core::Result<std::filesystem::path> MoveWithoutOverwrite(
      const std::filesystem::path& from, const std::filesystem::path& to_folder) override;
  core::Result<std::vector<std::string>> List(const std::filesystem::path& folder) override;
  core::Result<bool> Exists(const std::filesystem::path& file) override;
  core::Status Remove(const std::filesystem::path& file) override;
  core::Status SyncFolder(const std::filesystem::path& folder) override;

 private:
  struct Inode {
    std::string content;
    std::optional<std::string> synced;
  };
  // One name change: FROM empty for a create, TO empty for a remove.
  struct Change {
    std::filesystem::path from, to;
    uint64_t inode = 0;
  };
  core::Status Step();  // counts a mutating step; fails once the power is cut
  void Rename(const std::filesystem::path& from, const std::filesystem::path& to);
  void SyncFolderLocked(const std::filesystem::path& folder);

  mutable std::mutex mutex_;
  bool powered_ = true;
  uint64_t operations_ = 0;
  uint64_t cut_after_ = 0;  // 0: no scheduled cut
  uint64_t next_inode_ = 1;
  uint64_t next_temp_ = 1;
  std::map<std::filesystem::path, uint64_t> names_;          // as a reader sees them now
  std::map<std::filesystem::path, uint64_t> durable_names_;  // what a power cut leaves
  std::vector<Change> pending_;                              // not yet durable, oldest first
  std::map<uint64_t, Inode> inodes_;
};

}  // namespace stafett::agent
