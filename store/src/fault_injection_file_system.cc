// FaultInjectionFileSystem: durable-state tracking and the simulated power cut.
#include "stafett/store/fault_injection_file_system.h"

#include <algorithm>

namespace stafett::store {
namespace {

std::string Normal(const std::string& path) {
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::string DirectoryOf(const std::string& path) {
  return Normal(std::filesystem::path(Normal(path)).parent_path().string());
}

rocksdb::IOStatus PowerCut() { return rocksdb::IOStatus::IOError("simulated power cut"); }

class TrackedFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string name,
              FaultInjectionFileSystem* file_system, uint64_t position)
      : FSWritableFileOwnerWrapper(std::move(file)),
        name_(std::move(name)),
        file_system_(file_system),
        position_(position) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus allowed = file_system_->BeforeMutation();
    if (!allowed.ok()) return allowed;
    rocksdb::IOStatus status = target()->Append(data, options, debug);
    if (status.ok()) {
      position_ += data.size();
      file_system_->RecordWrite(name_, position_, false);
    }
    return status;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo&,
                           rocksdb::IODebugContext* debug) override {
    return Append(data, options, debug);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus allowed = file_system_->BeforeMutation();
    if (!allowed.ok()) return allowed;
    rocksdb::IOStatus status = target()->PositionedAppend(data, offset, options, debug);
    if (status.ok()) {
      position_ = std::max(position_, offset + data.size());
      file_system_->RecordWrite(name_, position_, false);
    }
    return status;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo&,
                                     rocksdb::IODebugContext* debug) override {
    return PositionedAppend(data, offset, options, debug);
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus allowed = file_system_->BeforeMutation();
    if (!allowed.ok()) return allowed;
    rocksdb::IOStatus status = target()->Truncate(size, options, debug);
    if (status.ok()) {
      position_ = size;
      file_system_->RecordWrite(name_, size, true);
    }
    return status;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* debug) override {
    return SyncFile(options, debug);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* debug) override {
    return SyncFile(options, debug);
  }
  // sync_file_range makes no durability promise: not a sync here.
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                              rocksdb::IODebugContext*) override {
    return file_system_->powered() ? rocksdb::IOStatus::OK() : PowerCut();
  }

 private:
  rocksdb::IOStatus SyncFile(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) {
    rocksdb::IOStatus allowed = file_system_->BeforeMutation();
    if (!allowed.ok()) return allowed;
    rocksdb::IOStatus status = target()->Flush(options, debug);
    if (status.ok() && forward_sync_) status = target()->Sync(options, debug);
    if (status.ok()) file_system_->RecordSync(name_);
    return status;
  }

  std::string name_;
  FaultInjectionFileSystem* file_system_;
  uint64_t position_;
  bool forward_sync_ = false;
  friend class stafett::store::FaultInjectionFileSystem;
};

class TrackedDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(std::unique_ptr<rocksdb::FSDirectory> directory, std::string name,
                   FaultInjectionFileSystem* file_system, bool forward)
      : FSDirectoryWrapper(std::move(directory)),
        name_(std::move(name)),
        file_system_(file_system),
        forward_(forward) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus allowed = file_system_->BeforeMutation();
    if (!allowed.ok()) return allowed;
    rocksdb::IOStatus status =
        forward_ ? FSDirectoryWrapper::Fsync(options, debug) : rocksdb::IOStatus::OK();
    if (status.ok()) file_system_->RecordDirectorySync(name_);
    return status;
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* debug,
                                        const rocksdb::DirFsyncOptions&) override {
    return Fsync(options, debug);
  }

 private:
  std::string name_;
  FaultInjectionFileSystem* file_system_;
  bool forward_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem(Options options)
    : FileSystemWrapper(rocksdb::FileSystem::Default()), options_(options) {}

void FaultInjectionFileSystem::CutPower() { powered_ = false; }

void FaultInjectionFileSystem::CutPowerAfter(uint64_t operations) { cut_after_ = operations; }

rocksdb::IOStatus FaultInjectionFileSystem::BeforeMutation() {
  if (!powered_) return PowerCut();
  uint64_t left = cut_after_.load();
  while (left > 0 && !cut_after_.compare_exchange_weak(left, left - 1)) {
  }
  if (left == 1) powered_ = false;
  if (!powered_) return PowerCut();
  ++operations_;
  return rocksdb::IOStatus::OK();
}

void FaultInjectionFileSystem::RecordWrite(const std::string& name, uint64_t end, bool truncate) {
  std::lock_guard<std::mutex> lock(mutex_);
  FileState& state = files_[Normal(name)];
  state.size = truncate ? end : std::max(state.size, end);
  state.synced_size = std::min(state.synced_size, state.size);
}

void FaultInjectionFileSystem::RecordSync(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  FileState& state = files_[Normal(name)];
  state.synced_size = state.size;
}

void FaultInjectionFileSystem::RecordDirectorySync(const std::string& directory) {
  std::string dir = Normal(directory);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [name, state] : files_) {
    if (DirectoryOf(name) == dir) state.created_unsynced = false;
  }
  renames_.erase(std::remove_if(renames_.begin(), renames_.end(),
                                [&](const PendingRename& rename) {
                                  return DirectoryOf(rename.target) == dir;
                                }),
                 renames_.end());
}

rocksdb::IOStatus FaultInjectionFileSystem::Track(const std::string& name, rocksdb::IOStatus opened,
                                                  std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                  bool created, uint64_t existing_size) {
  if (!opened.ok()) return opened;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = files_.find(Normal(name));
    if (created) {
      // A new file, or an existing one truncated: nothing of it is durable yet.
      bool entry_durable =
          found != files_.end() ? !found->second.created_unsynced : existing_size != UINT64_MAX;
      files_[Normal(name)] = FileState{0, 0, !entry_durable};
    } else if (found == files_.end()) {
      files_[Normal(name)] = FileState{existing_size, existing_size, false};
    }
  }
  auto tracked =
      std::make_unique<TrackedFile>(std::move(*result), name, this, created ? 0 : existing_size);
  tracked->forward_sync_ = options_.forward_syncs;
  *result = std::move(tracked);
  return opened;
}

rocksdb::IOStatus FaultInjectionFileSystem::NewWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus allowed = BeforeMutation();
  if (!allowed.ok()) return allowed;
  uint64_t existing = UINT64_MAX;  // UINT64_MAX: the file did not exist
  if (target()->FileExists(name, rocksdb::IOOptions(), debug).ok()) existing = 0;
  return Track(name, target()->NewWritableFile(name, options, result, debug), result, true,
               existing);
}

rocksdb::IOStatus FaultInjectionFileSystem::ReopenWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus allowed = BeforeMutation();
  if (!allowed.ok()) return allowed;
  uint64_t size = 0;
  bool existed = target()->GetFileSize(name, rocksdb::IOOptions(), &size, debug).ok();
  rocksdb::IOStatus opened = target()->ReopenWritableFile(name, options, result, debug);
  if (!existed) return Track(name, opened, result, true, UINT64_MAX);
  return Track(name, opened, result, false, size);
}

rocksdb::IOStatus FaultInjectionFileSystem::ReuseWritableFile(
    const std::string& name, const std::string& old_name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus allowed = BeforeMutation();
  if (!allowed.ok()) return allowed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    files_.erase(Normal(old_name));
  }
  return Track(name, target()->ReuseWritableFile(name, old_name, options, result, debug), result,
               true, UINT64_MAX);
}

rocksdb::IOStatus FaultInjectionFileSystem::NewDirectory(
    const std::string& name, const rocksdb::IOOptions& options,
    std::unique_ptr<rocksdb::FSDirectory>* result, rocksdb::IODebugContext* debug) {
  std::unique_ptr<rocksdb::FSDirectory> directory;
  rocksdb::IOStatus status = target()->NewDirectory(name, options, &directory, debug);
  if (!status.ok()) return status;
  *result =
      std::make_unique<TrackedDirectory>(std::move(directory), name, this, options_.forward_syncs);
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::DeleteFile(const std::string& name,
                                                       const rocksdb::IOOptions& options,
                                                       rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus allowed = BeforeMutation();
  if (!allowed.ok()) return allowed;
  rocksdb::IOStatus status = target()->DeleteFile(name, options, debug);
  if (status.ok()) {
    std::lock_guard<std::mutex> lock(mutex_);
    files_.erase(Normal(name));
  }
  return status;
}

rocksdb::IOStatus FaultInjectionFileSystem::RenameFile(const std::string& source,
                                                       const std::string& target_name,
                                                       const rocksdb::IOOptions& options,
                                                       rocksdb::IODebugContext* debug) {
  rocksdb::IOStatus allowed = BeforeMutation();
  if (!allowed.ok()) return allowed;
  PendingRename rename{Normal(source), Normal(target_name), std::nullopt};
  std::string replaced;
  if (rocksdb::ReadFileToString(target(), target_name, &replaced).ok()) {
    rename.replaced = std::move(replaced);
  }
  rocksdb::IOStatus status = target()->RenameFile(source, target_name, options, debug);
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = files_.find(rename.source);
  if (found != files_.end()) {
    files_[rename.target] = found->second;
    files_.erase(found);
  } else {
    files_.erase(rename.target);
  }
  renames_.push_back(std::move(rename));
  return status;
}

core::Result<size_t> FaultInjectionFileSystem::LoseUnsyncedData() {
  if (powered_) {
    return core::Status(core::Code::kInternal, "LoseUnsyncedData needs the power cut first");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  size_t changed = 0;
  rocksdb::IOOptions io;
  // Renames first, newest first: a file renamed after its creation goes back to its old name
  // before the creation itself is judged.
  for (auto rename = renames_.rbegin(); rename != renames_.rend(); ++rename) {
    if (target()->RenameFile(rename->target, rename->source, io, nullptr).ok()) {
      auto found = files_.find(rename->target);
      if (found != files_.end()) {
        files_[rename->source] = found->second;
        files_.erase(found);
      }
      ++changed;
    }
    if (rename->replaced) {
      rocksdb::IOStatus restored =
          rocksdb::WriteStringToFile(target(), *rename->replaced, rename->target, false);
      if (!restored.ok()) return core::Status(core::Code::kIoError, restored.ToString());
    }
  }
  renames_.clear();
  for (const auto& [name, state] : files_) {
    rocksdb::IOStatus status;
    if (state.created_unsynced) {
      status = target()->DeleteFile(name, io, nullptr);
      if (status.IsNotFound() || status.IsPathNotFound()) status = rocksdb::IOStatus::OK();
      ++changed;
    } else if (state.size > state.synced_size) {
      // Through a reopened handle: the POSIX FileSystem has no Truncate by name.
      std::unique_ptr<rocksdb::FSWritableFile> file;
      status = target()->ReopenWritableFile(name, rocksdb::FileOptions(), &file, nullptr);
      if (status.ok()) status = file->Truncate(state.synced_size, io, nullptr);
      if (status.ok()) status = file->Close(io, nullptr);
      ++changed;
    }
    if (!status.ok()) return core::Status(core::Code::kIoError, name + ": " + status.ToString());
  }
  files_.clear();
  cut_after_ = 0;
  powered_ = true;
  return changed;
}

core::Result<std::unique_ptr<BrokerStore>> OpenFaultInjectingBrokerStore(
    const std::filesystem::path& dir, std::shared_ptr<FaultInjectionFileSystem> file_system,
    size_t memtable_bytes) {
  RocksDbStoreOptions options;
  options.memtable_bytes = memtable_bytes;
  options.file_system = std::move(file_system);
  options.resume_after_errors = false;
  return OpenRocksDbBrokerStore(dir, options);
}

core::Result<std::unique_ptr<AgentJournal>> OpenFaultInjectingAgentJournal(
    const std::filesystem::path& dir, std::shared_ptr<FaultInjectionFileSystem> file_system) {
  RocksDbJournalOptions options;
  options.file_system = std::move(file_system);
  return OpenRocksDbAgentJournal(dir, options);
}

}  // namespace stafett::store
