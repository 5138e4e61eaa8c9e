// What `stafett keys generate | rotate | show` do, apart from the CLI wiring: write a new key
// set, rotate a principal's keys in the trust directory, render the directory's keys.
// Thread-safety: free functions; callers must not run two against the same files at once.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::tools {

// New key sets start this much before "now", so that a peer whose clock is a little behind
// already accepts them.
inline constexpr core::Micros kClockSkewAllowance = 5LL * 60 * 1000000;
inline constexpr core::Micros kMicrosPerDay = 86400LL * 1000000;

// Creates FOLDER (and its parents) if missing; a newly created FOLDER gets exactly MODE.
core::Status EnsureFolder(const std::filesystem::path& folder, mode_t mode);

struct KeyFiles {
  keys::KeySet key_set;
  std::filesystem::path secret_file;
  std::filesystem::path public_file;
};

// A key set for ID valid from NOW (less the skew allowance) for VALID_DAYS, written into
// OUT_DIR (created with mode 0700 if missing).
core::Result<KeyFiles> GenerateKeyFiles(const std::string& id, const std::filesystem::path& out_dir,
                                        int valid_days, core::Micros now);

struct Rotation {
  KeyFiles created;
  std::vector<std::string> ended_key_ids;  // the older key sets, now ending at old_valid_until
  core::Micros old_valid_until = 0;
};

// Rotates ID's keys: KEYS_DIR must hold ID's current secret files; a new key set valid for
// VALID_DAYS is written beside them, added to DIRECTORY_FILE, and every older key of ID ends at
// NOW + OVERLAP_DAYS (never later than it did). The directory is rewritten atomically.
core::Result<Rotation> RotateKeys(const std::string& id, const std::filesystem::path& keys_dir,
                                  const std::filesystem::path& directory_file, int overlap_days,
                                  int valid_days, core::Micros now);

// One row per key in the directory: id, role, kind, municipality, key id, validity and its
// state at NOW (current, valid, expired, future).
std::string RenderKeyTable(const keys::TrustDirectory& directory, core::Micros now);

}  // namespace stafett::tools
