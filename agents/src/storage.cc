// Storage: the free-space floor and ENOSPC state of the agent's folders.
#include "storage.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

namespace stafett::agent {

using core::Code;
using core::Status;

Storage::Storage(const AgentConfig& config, const core::Clock& clock,
                 std::function<Status()> resume)
    : config_(config), clock_(clock), resume_(std::move(resume)) {}

uint64_t Storage::FreeBytes(const std::filesystem::path& folder) const {
  struct statvfs info {};
  if (::statvfs(folder.c_str(), &info) != 0) return UINT64_MAX;  // unknown: not "full"
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

Status Storage::Check() {
  const std::pair<const char*, const std::filesystem::path*> folders[] = {
      {"data_dir", &config_.data_dir}, {"inbox", &config_.inbox}, {"outbox", &config_.outbox}};
  uint64_t floor = static_cast<uint64_t>(config_.min_free_bytes);
  for (const auto& [name, path] : folders) {
    uint64_t free = FreeBytes(*path);
    if (floor > 0 && free < floor) {
      if (!below_floor_.exchange(true)) {
        spdlog::warn("event=agent_storage_full where={} free_bytes={} min_free_bytes={}", name,
                     free, floor);
      }
      return Status(Code::kStorageFull, std::string("the agent's ") + name + " has " +
                                            std::to_string(free) + " bytes free, below " +
                                            "min_free_bytes " + std::to_string(floor));
    }
  }
  if (below_floor_.exchange(false)) spdlog::warn("event=agent_storage_resumed reason=space");
  if (!write_failed_.load()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = clock_.MonotonicNow();
  if (write_failed_.load() && now - resumed_at_ >= std::chrono::seconds(1)) {
    resumed_at_ = now;
    Status resumed = resume_ ? resume_() : Status::Ok();
    if (resumed.ok()) {
      write_failed_ = false;
      spdlog::warn("event=agent_storage_resumed reason=journal_resumed");
      return Status::Ok();
    }
  }
  if (!write_failed_.load()) return Status::Ok();
  return Status(Code::kStorageFull,
                "a write to the agent's " + failed_where_ + " failed: no space left on the device");
}

void Storage::NoteWrite(const Status& status, const std::string& where) {
  if (status.ok()) {
    if (!write_failed_.load()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    // A write to the same place worked: that disk takes writes again.
    if (failed_where_ == where && write_failed_.exchange(false)) {
      spdlog::warn("event=agent_storage_resumed reason=write where={}", where);
    }
    return;
  }
  if (status.code() != Code::kStorageFull) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    failed_where_ = where;
  }
  if (!write_failed_.exchange(true)) {
    spdlog::error("event=agent_storage_full where={} error=\"{}\"", where, status.message());
  }
}

nlohmann::json Storage::ToJson() {
  Status checked = Check();
  nlohmann::json out = {{"full", !checked.ok()},
                        {"min_free_bytes", config_.min_free_bytes},
                        {"free_bytes",
                         {{"data_dir", FreeBytes(config_.data_dir)},
                          {"inbox", FreeBytes(config_.inbox)},
                          {"outbox", FreeBytes(config_.outbox)}}}};
  if (!checked.ok()) out["message"] = checked.message();
  return out;
}

}  // namespace stafett::agent
