// Durable small files: a whole file written so that after a crash or a power cut either the old
// content or the new one is there, never a torn mix, and the new name survives (temp file in the
// same folder, fsync, rename over the name, fsync of the folder). For state files such as the
// auditor's saved tree head; the agent's inbox and outbox go through agents' FileSystem.
// Thread-safety: free functions; callers serialise writes to one path.
#pragma once

#include <filesystem>
#include <string_view>

#include "stafett/core/status.h"

namespace stafett::core {

// Replaces FILE by CONTENT durably: TEMP_FOLDER/.NAME.tmp-<pid>-<n> (TEMP_FOLDER: FILE's own
// folder unless given; on the same filesystem, so the rename is atomic), fsync, rename over
// FILE, fsync of FILE's folder (which must exist). kStorageFull on a full disk or quota,
// kIoError otherwise; on failure the old FILE is unchanged and the temp file removed.
Status WriteFileDurably(const std::filesystem::path& file, std::string_view content,
                        const std::filesystem::path& temp_folder = {});

// fsync of a folder, so that renames and new names in it are durable.
Status SyncFolder(const std::filesystem::path& folder);

}  // namespace stafett::core
