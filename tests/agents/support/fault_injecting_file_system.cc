// FaultInjectingFileSystem: names and contents in memory, with their durable state beside them.
#include "agents/support/fault_injecting_file_system.h"

#include <set>

namespace stafett::agent {

using core::Code;
using core::Status;

void FaultInjectingFileSystem::CutPower() {
  std::lock_guard<std::mutex> lock(mutex_);
  powered_ = false;
}

void FaultInjectingFileSystem::CutPowerAfter(uint64_t steps) {
  std::lock_guard<std::mutex> lock(mutex_);
  cut_after_ = steps;
}

bool FaultInjectingFileSystem::powered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return powered_;
}

uint64_t FaultInjectingFileSystem::operations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return operations_;
}

size_t FaultInjectingFileSystem::LoseUnsyncedData() {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t lost = pending_.size();
  pending_.clear();
  names_ = durable_names_;
  std::set<uint64_t> named;
  for (const auto& [name, inode] : names_) named.insert(inode);
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    if (named.count(it->first) == 0) {
      it = inodes_.erase(it);
      continue;
    }
    std::string kept = it->second.synced.value_or("");
    if (kept != it->second.content) ++lost;
    it->second.content = kept;
    it->second.synced = kept;
    ++it;
  }
  powered_ = true;
  cut_after_ = 0;
  return lost;
}

Status FaultInjectingFileSystem::Step() {
  if (powered_ && cut_after_ > 0 && --cut_after_ == 0) powered_ = false;
  if (!powered_) return Status(Code::kIoError, "the power is cut");
  ++operations_;
  return Status::Ok();
}

void FaultInjectingFileSystem::Rename(const std::filesystem::path& from,
                                      const std::filesystem::path& to) {
  uint64_t inode = names_.at(from);
  names_.erase(from);
  names_[to] = inode;
  pending_.push_back({from, to, inode});
}

void FaultInjectingFileSystem::SyncFolderLocked(const std::filesystem::path& folder) {
  // Every change up to the last one that touches FOLDER becomes durable, in order.
  size_t last = pending_.size();
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Change& change = pending_[i];
    if ((!change.from.empty() && change.from.parent_path() == folder) ||
        (!change.to.empty() && change.to.parent_path() == folder)) {
      last = i;
    }
  }
  if (last == pending_.size()) return;
  for (size_t i = 0; i <= last; ++i) {
    const Change& change = pending_[i];
    if (!change.from.empty()) durable_names_.erase(change.from);
    if (!change.to.empty()) durable_names_[change.to] = change.inode;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(last + 1));
}

core::Result<std::string> FaultInjectingFileSystem::ReadFile(const std::filesystem::path& file,
                                                             size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = names_.find(file);
  if (found == names_.end()) return Status(Code::kNotFound, "the file is gone");
  const std::string& content = inodes_.at(found->second).content;
  if (content.size() > max_bytes) {
    return Status(Code::kTooLarge, "the document exceeds " + std::to_string(max_bytes) + " bytes");
  }
  return content;
}

Status FaultInjectingFileSystem::WriteFileDurably(const std::filesystem::path& folder,
                                                  const std::string& name,
                                                  std::string_view content) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::filesystem::path temp = folder / ".tmp" / (".tmp-" + std::to_string(next_temp_++));
  STAFETT_RETURN_IF_ERROR(Step());  // create and write
  uint64_t inode = next_inode_++;
  inodes_[inode] = Inode{std::string(content), std::nullopt};
  names_[temp] = inode;
  pending_.push_back({"", temp, inode});
  STAFETT_RETURN_IF_ERROR(Step());  // fsync
  inodes_[inode].synced = std::string(content);
  STAFETT_RETURN_IF_ERROR(Step());  // rename over the final name
  std::filesystem::path target = folder / name;
  if (names_.count(target) != 0) names_.erase(target);
  Rename(temp, target);
  STAFETT_RETURN_IF_ERROR(Step());  // fsync of the folder
  SyncFolderLocked(folder);
  return Status::Ok();
}

core::Result<std::filesystem::path> FaultInjectingFileSystem::MoveWithoutOverwrite(
    const std::filesystem::path& from, const std::filesystem::path& to_folder) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (names_.count(from) == 0) return Status(Code::kNotFound, "the file is gone");
  std::string name = from.filename().string();
  std::string stem = from.stem().string(), extension = from.extension().string();
  std::filesystem::path target = to_folder / name;
  for (int attempt = 1; names_.count(target) != 0; ++attempt) {
    target = to_folder / (stem + "." + std::to_string(attempt) + extension);
  }
  STAFETT_RETURN_IF_ERROR(Step());  // renameat2 RENAME_NOREPLACE
  Rename(from, target);
  STAFETT_RETURN_IF_ERROR(Step());
  SyncFolderLocked(to_folder);
  STAFETT_RETURN_IF_ERROR(Step());
  SyncFolderLocked(from.parent_path());
  return target;
}

core::Result<std::vector<std::string>> FaultInjectingFileSystem::List(
    const std::filesystem::path& folder) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<std::string> names;
  for (const auto& [path, inode] : names_) {
    if (path.parent_path() == folder) names.insert(path.filename().string());
    // A file in a subfolder shows the subfolder, as a directory listing would.
    if (path.parent_path().parent_path() == folder) {
      names.insert(path.parent_path().filename().string());
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

core::Result<bool> FaultInjectingFileSystem::Exists(const std::filesystem::path& file) {
  std::lock_guard<std::mutex> lock(mutex_);
  return names_.count(file) != 0;
}

Status FaultInjectingFileSystem::Remove(const std::filesystem::path& file) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (names_.count(file) == 0) return Status(Code::kNotFound, "the file is gone");
  STAFETT_RETURN_IF_ERROR(Step());
  pending_.push_back({file, "", names_.at(file)});
  names_.erase(file);
  return Status::Ok();
}

Status FaultInjectingFileSystem::SyncFolder(const std::filesystem::path& folder) {
  std::lock_guard<std::mutex> lock(mutex_);
  STAFETT_RETURN_IF_ERROR(Step());
  SyncFolderLocked(folder);
  return Status::Ok();
}

}  // namespace stafett::agent
