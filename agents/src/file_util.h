// Small, durable file operations the outbox and inbox rely on: reading a regular file without
// following symlinks, atomic writes (temp file, fsync, rename, fsync of the folder) and moves
// that never overwrite. Thread-safety: free functions; callers serialise work on one path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stafett/core/durable_file.h"
#include "stafett/core/status.h"

namespace stafett::agent {

// Reads PATH if it is a regular file (never through a symlink: O_NOFOLLOW and fstat) and at most
// MAX_BYTES long. kSchemaInvalid for a symlink or other non-regular file, kTooLarge when larger,
// kNotFound when gone, kIoError otherwise.
core::Result<std::string> ReadRegularFile(const std::filesystem::path& path, size_t max_bytes);

// Writes CONTENT to FOLDER/NAME atomically: a temp file in FOLDER/.tmp (created if needed),
// fsync, rename over the final name, fsync of FOLDER. Readers see the whole file or none.
core::Status WriteFileAtomically(const std::filesystem::path& folder, const std::string& name,
                                 std::string_view content);

// WriteFileAtomically for a burst of files into FOLDER: every temp file written (no sync each),
// one syncfs of FOLDER's filesystem, the renames, one fsync of FOLDER. FILES are (name, content)
// pairs. On an error the temp files left are removed; files already renamed stay.
core::Status WriteFilesAtomically(const std::filesystem::path& folder,
                                  const std::vector<std::pair<std::string, std::string>>& files);

// Moves FROM into folder TO_FOLDER under FROM's name, or "stem.1.json", "stem.2.json", … when it is
// taken (renameat2 RENAME_NOREPLACE: never overwrites), then fsyncs both folders. Returns the
// final path.
core::Result<std::filesystem::path> MoveWithoutOverwrite(const std::filesystem::path& from,
                                                         const std::filesystem::path& to_folder);

// MoveWithoutOverwrite for a burst out of one folder: the renames, then one fsync of TO_FOLDER and
// one of the source folder. The final path of each, or its error, in the order of FROMS.
std::vector<core::Result<std::filesystem::path>> MoveAllWithoutOverwrite(
    const std::vector<std::filesystem::path>& froms, const std::filesystem::path& to_folder);

// fsync of a folder, so that renames and new names in it are durable (core's).
using core::SyncFolder;

// Creates FOLDER (and parents) if needed and checks that this process can write there.
core::Status EnsureWritableFolder(const std::filesystem::path& folder);

// Takes an exclusive lock (flock) on FOLDER/agent.lock, created if needed, and returns its file
// descriptor; the lock lasts until the descriptor is closed or the process ends (also by
// SIGKILL). kUnavailable "another agent is running with this data_dir (FOLDER)" when another
// process holds it.
core::Result<int> LockDataDir(const std::filesystem::path& folder);

}  // namespace stafett::agent
