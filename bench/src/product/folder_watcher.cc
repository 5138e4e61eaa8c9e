// FolderWatcher (see folder_watcher.h).
#include "folder_watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench_stats.h"

namespace stafett::bench {

FolderWatcher::FolderWatcher(std::vector<std::filesystem::path> folders, OnName on_name,
                             OnOverflow on_overflow)
    : folders_(std::move(folders)),
      on_name_(std::move(on_name)),
      on_overflow_(std::move(on_overflow)) {}

FolderWatcher::~FolderWatcher() {
  Stop();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

bool FolderWatcher::Start(std::string* error) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    *error = std::string("inotify: ") + std::strerror(errno);
    return false;
  }
  for (const std::filesystem::path& folder : folders_) {
    int watch =
        ::inotify_add_watch(inotify_fd_, folder.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
    if (watch < 0) {
      *error = folder.string() + ": cannot watch: " + std::strerror(errno);
      return false;
    }
    watches_.push_back(watch);
  }
  thread_ = std::thread([this] { Run(); });
  return true;
}

void FolderWatcher::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void FolderWatcher::Run() {
  alignas(struct inotify_event) char buffer[256 * 1024];
  while (!stop_.load()) {
    pollfd item{inotify_fd_, POLLIN, 0};
    if (::poll(&item, 1, 50) <= 0) continue;
    for (;;) {
      ssize_t got = ::read(inotify_fd_, buffer, sizeof buffer);
      if (got <= 0) break;
      int64_t at = NowNanos();  // one reading per batch: when these events reached the bench
      for (char* next = buffer; next < buffer + got;) {
        auto* event = reinterpret_cast<struct inotify_event*>(next);
        next += sizeof(struct inotify_event) + event->len;
        if ((event->mask & IN_Q_OVERFLOW) != 0) {
          on_overflow_(at);
          continue;
        }
        if (event->len == 0 || (event->mask & IN_ISDIR) != 0) continue;
        auto folder = std::find(watches_.begin(), watches_.end(), event->wd);
        if (folder == watches_.end()) continue;
        on_name_(static_cast<size_t>(folder - watches_.begin()), event->name, at);
      }
    }
  }
}

}  // namespace stafett::bench
