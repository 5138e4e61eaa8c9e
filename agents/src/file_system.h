// FileSystem: the agent's file operations on its outbox and inbox folders — read a dropped
// document, write a file durably, move a file without overwriting, list, check, remove, sync a
// folder — behind one interface, so that a test can put a filesystem under the agent that
// forgets, at a simulated power cut, everything not made durable
// (tests/agents/support/fault_injecting_file_system.h; the RocksDB journal has its own,
// store/fault_injection_file_system.h). Production uses PosixFileSystem(): file_util.h's calls.
// Thread-safety: implementations are safe for concurrent use; callers serialise work on one
// path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::agent {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // FILE's content if it is a regular file (never through a symlink) of at most MAX_BYTES.
  // kNotFound when gone, kSchemaInvalid for a symlink or non-regular file, kTooLarge when larger.
  virtual core::Result<std::string> ReadFile(const std::filesystem::path& file,
                                             size_t max_bytes) = 0;
  // Replaces FOLDER/NAME by CONTENT: readers see the whole file or none, and once this returns
  // ok the file survives a power cut (temp file in FOLDER/.tmp, fsync, rename, fsync of FOLDER).
  virtual core::Status WriteFileDurably(const std::filesystem::path& folder,
                                        const std::string& name, std::string_view content) = 0;
  // A burst of WriteFileDurably into one FOLDER, made durable together (the POSIX one: every
  // temp file written, one syncfs of FOLDER's filesystem, the renames, one fsync of FOLDER).
  // FILES are (name, content). Ok once every file is durable; on an error some files may be
  // in place, durable or not, and the others are not — the caller treats all as not written.
  virtual core::Status WriteFilesDurably(
      const std::filesystem::path& folder,
      const std::vector<std::pair<std::string, std::string>>& files) {
    for (const auto& [name, content] : files) {
      STAFETT_RETURN_IF_ERROR(WriteFileDurably(folder, name, content));
    }
    return core::Status::Ok();
  }
  // Moves FROM into TO_FOLDER under its name, or "stem.1.ext", … when taken (never overwrites),
  // durably (both folders synced). The final path; kNotFound when FROM is gone.
  virtual core::Result<std::filesystem::path> MoveWithoutOverwrite(
      const std::filesystem::path& from, const std::filesystem::path& to_folder) = 0;
  // A burst of MoveWithoutOverwrite from one folder into TO_FOLDER, made durable together (the
  // POSIX one: the renames, then one fsync of each folder). The final path of each, or its
  // error, in the order of FROMS.
  virtual std::vector<core::Result<std::filesystem::path>> MoveAllWithoutOverwrite(
      const std::vector<std::filesystem::path>& froms, const std::filesystem::path& to_folder) {
    std::vector<core::Result<std::filesystem::path>> moved;
    for (const std::filesystem::path& from : froms) {
      moved.push_back(MoveWithoutOverwrite(from, to_folder));
    }
    return moved;
  }
  // The names in FOLDER (dot-files included), sorted.
  virtual core::Result<std::vector<std::string>> List(const std::filesystem::path& folder) = 0;
  virtual core::Result<bool> Exists(const std::filesystem::path& file) = 0;
  // Removes FILE (kNotFound when it is not there); durable once its folder is synced.
  virtual core::Status Remove(const std::filesystem::path& file) = 0;
  virtual core::Status SyncFolder(const std::filesystem::path& folder) = 0;
};

// The real filesystem (file_util.h). One instance for the process.
FileSystem& PosixFileSystem();

}  // namespace stafett::agent
