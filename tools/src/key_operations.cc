// Key generation, rotation and the key table for `stafett keys`.
// Thread-safety: free functions over files; no shared state.
#include "key_operations.h"

#include <sys/stat.h>

#include <algorithm>

#include "table.h"

namespace stafett::tools {

using core::Code;
using core::Status;

namespace {

std::string StateOf(const keys::PublicKeys& keys, const keys::PublicKeys* current,
                    core::Micros now) {
  if (&keys == current) return "current";
  if (now < keys.valid_from) return "future";
  if (now >= keys.valid_until) return "expired";
  return "valid";
}

}  // namespace

Status EnsureFolder(const std::filesystem::path& folder, mode_t mode) {
  std::error_code error;
  if (std::filesystem::is_directory(folder, error)) return Status::Ok();
  if (!folder.parent_path().empty()) {
    std::filesystem::create_directories(folder.parent_path(), error);
    if (error)
      return Status(Code::kIoError, folder.parent_path().string() + ": " + error.message());
  }
  if (::mkdir(folder.c_str(), mode) != 0 || ::chmod(folder.c_str(), mode) != 0) {
    return Status(Code::kIoError, folder.string() + ": cannot create the folder");
  }
  return Status::Ok();
}

core::Result<KeyFiles> GenerateKeyFiles(const std::string& id, const std::filesystem::path& out_dir,
                                        int valid_days, core::Micros now) {
  if (valid_days < 1) return Status(Code::kConfigInvalid, "--valid-days must be at least 1");
  core::Result<keys::KeySet> key_set =
      keys::GenerateKeySet(id, now - kClockSkewAllowance, now + valid_days * kMicrosPerDay);
  if (!key_set.ok()) return key_set.status();
  STAFETT_RETURN_IF_ERROR(EnsureFolder(out_dir, 0700));
  STAFETT_RETURN_IF_ERROR(keys::WriteKeySet(*key_set, out_dir));
  KeyFiles files{std::move(key_set).value(), {}, {}};
  files.secret_file = keys::SecretKeyFilePath(out_dir, files.key_set);
  files.public_file = keys::PublicKeyFilePath(out_dir, files.key_set);
  return files;
}

core::Result<Rotation> RotateKeys(const std::string& id, const std::filesystem::path& keys_dir,
                                  const std::filesystem::path& directory_file, int overlap_days,
                                  int valid_days, core::Micros now) {
  if (overlap_days < 0) return Status(Code::kConfigInvalid, "--overlap-days must not be negative");
  if (valid_days <= overlap_days) {
    return Status(Code::kConfigInvalid, "--valid-days must exceed --overlap-days");
  }
  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(directory_file);
  if (!directory.ok()) return directory.status();
  const keys::Principal* principal = directory->Find(id);
  if (principal == nullptr) {
    return Status(Code::kConfigInvalid, directory_file.string() + ": no principal " + id);
  }
  core::Result<std::vector<keys::KeySet>> existing = keys::LoadKeyDir(keys_dir);
  if (!existing.ok()) return existing.status();
  if (existing->front().principal != id) {
    return Status(Code::kKeyInvalid, keys_dir.string() + ": holds the keys of " +
                                         existing->front().principal + ", not " + id);
  }
  Rotation rotation;
  for (const keys::PublicKeys& keys : principal->keys)
    rotation.ended_key_ids.push_back(keys.key_id);
  rotation.old_valid_until = now + overlap_days * kMicrosPerDay;

  // The new set must start after every older one, or it would not be the current one.
  core::Micros valid_from = now - kClockSkewAllowance;
  for (const keys::PublicKeys& keys : principal->keys) {
    valid_from = std::max(valid_from, keys.valid_from + 1000);
  }
  core::Result<keys::KeySet> key_set =
      keys::GenerateKeySet(id, valid_from, now + valid_days * kMicrosPerDay);
  if (!key_set.ok()) return key_set.status();
  // Check the directory change before any file is written.
  STAFETT_RETURN_IF_ERROR(directory->Rotate(*key_set, rotation.old_valid_until));
  STAFETT_RETURN_IF_ERROR(keys::WriteKeySet(*key_set, keys_dir));
  rotation.created = {std::move(key_set).value(), {}, {}};
  rotation.created.secret_file = keys::SecretKeyFilePath(keys_dir, rotation.created.key_set);
  rotation.created.public_file = keys::PublicKeyFilePath(keys_dir, rotation.created.key_set);
  Status saved = directory->Save(directory_file);
  if (!saved.ok()) {
    return Status(saved.code(), saved.message() + " (the new key set " +
                                    rotation.created.key_set.key_id + " is in " +
                                    keys_dir.string() + " but not in the directory)");
  }
  return rotation;
}

std::string RenderKeyTable(const keys::TrustDirectory& directory, core::Micros now) {
  Table table(
      {"ID", "ROLE", "KIND", "MUNICIPALITY", "KEY_ID", "VALID_FROM", "VALID_UNTIL", "STATE"});
  for (const keys::Principal& principal : directory.principals()) {
    const keys::PublicKeys* current = directory.CurrentKeys(principal.id, now);
    for (const keys::PublicKeys& keys : principal.keys) {
      table.Add({principal.id, std::string(keys::RoleName(principal.role)),
                 principal.kind.empty() ? "-" : principal.kind,
                 principal.municipality.empty() ? "-" : principal.municipality, keys.key_id,
                 core::FormatRfc3339(keys.valid_from), core::FormatRfc3339(keys.valid_until),
                 StateOf(keys, current, now)});
    }
  }
  return table.Render();
}

}  // namespace stafett::tools
