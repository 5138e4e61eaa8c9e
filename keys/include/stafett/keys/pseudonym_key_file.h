// The county pseudonym key file: 64 hex characters and a newline, mode 0600 (docs/DESIGN.md).
// Agents and auditors hold it; the broker never does.
// Thread-safety: free functions; no shared state.
#pragma once

#include <filesystem>

#include "stafett/core/pseudonym.h"
#include "stafett/core/status.h"

namespace stafett::keys {

// Creates FILE (which must not exist) with mode 0600 and fsyncs it.
core::Status WritePseudonymKeyFile(const std::filesystem::path& file,
                                   const core::PseudonymKey& key);

// kKeyInvalid for a missing file, a mode open to group or others, or anything but 64 hex digits
// (the message never echoes the file's content).
core::Result<core::PseudonymKey> LoadPseudonymKeyFile(const std::filesystem::path& file);

}  // namespace stafett::keys
