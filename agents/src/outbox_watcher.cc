// OutboxWatcher: inotify plus periodic scans over the outbox folder.
#include "outbox_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "file_util.h"

namespace stafett::agent {

using core::Code;
using core::Status;

bool IsOutboxDocumentName(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.ends_with(".json") && !name.ends_with(".tmp") &&
         name.find('/') == std::string::npos;
}

OutboxWatcher::OutboxWatcher(const OutboxFiles& outbox, Sender& sender, size_t max_document_bytes,
                             int64_t rescan_seconds, const core::Clock& clock)
    : outbox_(outbox),
      sender_(sender),
      max_document_bytes_(max_document_bytes),
      rescan_seconds_(rescan_seconds),
      clock_(clock) {}

OutboxWatcher::~OutboxWatcher() {
  Stop();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

Status OutboxWatcher::Start() {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0)
    return Status(Code::kIoError, std::string("inotify: ") + std::strerror(errno));
  if (::inotify_add_watch(inotify_fd_, outbox_.folder().c_str(),
                          IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
    return Status(Code::kIoError,
                  outbox_.folder().string() + ": cannot watch: " + std::strerror(errno));
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void OutboxWatcher::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void OutboxWatcher::Run() {
  // Whatever was dropped while the agent was down.
  auto next_scan = clock_.MonotonicNow() +
                   (Scan() ? std::chrono::seconds(1) : std::chrono::seconds(rescan_seconds_));
  alignas(struct inotify_event) char buffer[64 * 1024];
  while (!stop_.load()) {
    pollfd item{inotify_fd_, POLLIN, 0};
    int ready = ::poll(&item, 1, 200);
    bool rescan = false;
    std::vector<std::string> names;
    if (ready > 0) {
      for (;;) {
        ssize_t got = ::read(inotify_fd_, buffer, sizeof buffer);
        if (got <= 0) break;
        for (char* at = buffer; at < buffer + got;) {
          auto* event = reinterpret_cast<struct inotify_event*>(at);
          if ((event->mask & IN_Q_OVERFLOW) != 0) rescan = true;
          // Closed by its writer or renamed in: complete. Folders moved in are handled too.
          if (event->len > 0) names.emplace_back(event->name);
          at += sizeof(struct inotify_event) + event->len;
        }
      }
    }
    if (stop_.load()) return;
    HandleNames(names);
    auto now = clock_.MonotonicNow();
    // The backlog has drained enough: take what was left in the outbox.
    if (backlogged_ && sender_.pending_count() < max_pending_ - max_pending_ / 4) rescan = true;
    if (rescan || now >= next_scan) {
      // A file skipped for being fresh is looked at again a second later, not a period later.
      next_scan = now + (Scan() ? std::chrono::seconds(1) : std::chrono::seconds(rescan_seconds_));
    }
  }
}

bool OutboxWatcher::IsOpenForWriting(const std::string& name) const {
  // A read lease is refused (EAGAIN) while any process has the file open for writing. Where
  // leases are not allowed (another owner without CAP_LEASE) the age rule alone decides.
  int fd =
      ::open((outbox_.folder() / name).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  bool busy = false;
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETLEASE, F_UNLCK);
  } else {
    busy = errno == EAGAIN;
  }
  ::close(fd);
  return busy;
}

bool OutboxWatcher::Scan() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(outbox_.folder(), error)) {
    names.push_back(entry.path().filename().string());
  }
  if (error) {
    spdlog::error("event=outbox_scan_failed error=\"{}\"", error.message());
    return false;
  }
  std::sort(names.begin(), names.end());
  bool skipped_fresh = false;
  std::vector<std::string> ready;
  for (const std::string& name : names) {
    if (stop_.load()) return false;
    if (!IsOutboxDocumentName(name)) continue;
    // A file changed within the last second may still be open for writing: its close (or
    // rename) event brings it, or the scan a second from now.
    struct stat info {};
    if (::lstat((outbox_.folder() / name).c_str(), &info) != 0) continue;
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    int64_t age_nanos = (static_cast<int64_t>(now.tv_sec) - info.st_mtim.tv_sec) * 1'000'000'000 +
                        (now.tv_nsec - info.st_mtim.tv_nsec);
    if (age_nanos < 1'000'000'000 || (S_ISREG(info.st_mode) && IsOpenForWriting(name))) {
      skipped_fresh = true;
      continue;
    }
    ready.push_back(name);
  }
  HandleNames(ready);
  return skipped_fresh;
}

void OutboxWatcher::HandleName(const std::string& name) { HandleNames({name}); }

void OutboxWatcher::HandleNames(const std::vector<std::string>& names) {
  if (names.empty()) return;
  constexpr size_t kBurst = 64;
  std::vector<std::string> taken;
  std::vector<Sender::Document> documents;
  auto submit = [&] {
    if (documents.empty()) return;
    std::vector<SubmitResult> results = sender_.SubmitAll(documents);
    for (size_t i = 0; i < results.size() && i < taken.size(); ++i) Settle(taken[i], results[i]);
    taken.clear();
    documents.clear();
  };
  bool was_backlogged = backlogged_;
  backlogged_ = false;
  for (const std::string& name : names) {
    if (stop_.load()) break;
    if (max_pending_ > 0 && sender_.pending_count() + documents.size() >= max_pending_) {
      // Durable where they lie: the rest are taken as the backlog drains.
      if (!was_backlogged) {
        spdlog::warn("event=outbox_backpressure pending={} max_pending={}", sender_.pending_count(),
                     max_pending_);
      }
      backlogged_ = true;
      break;
    }
    std::optional<std::string> content = ReadCandidate(name);
    if (!content) continue;
    taken.push_back(name);
    documents.push_back({std::move(*content), name});
    if (documents.size() >= kBurst) submit();
  }
  submit();
}

std::optional<std::string> OutboxWatcher::ReadCandidate(const std::string& name) {
  if (!IsOutboxDocumentName(name)) return std::nullopt;
  std::filesystem::path path = outbox_.folder() / name;
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return std::nullopt;  // gone already
  if (S_ISDIR(info.st_mode)) {
    outbox_.MoveToRejected(name, Status(Code::kSchemaInvalid, "a folder is not a document"), {},
                           "");
    return std::nullopt;
  }
  if (S_ISLNK(info.st_mode)) {
    // Never followed: the link itself is moved aside.
    outbox_.MoveToRejected(name, Status(Code::kSchemaInvalid, "a symbolic link is not accepted"),
                           {}, "");
    return std::nullopt;
  }
  if (!S_ISREG(info.st_mode)) {
    outbox_.MoveToRejected(name, Status(Code::kSchemaInvalid, "not a regular file"), {}, "");
    return std::nullopt;
  }
  core::Result<std::string> content = outbox_.files().ReadFile(path, max_document_bytes_);
  if (!content.ok()) {
    if (content.status().code() == Code::kNotFound) return std::nullopt;
    if (content.status().code() == Code::kIoError) {
      spdlog::warn("event=outbox_read_failed error=\"{}\"", content.status().message());
      return std::nullopt;  // tried again on the next scan
    }
    outbox_.MoveToRejected(name, content.status(), {}, "");
    return std::nullopt;
  }
  return std::move(content).value();
}

void OutboxWatcher::Settle(const std::string& name, const SubmitResult& result) {
  if (!result.refusal.ok() && result.status == "refused" &&
      (result.refusal.code() == Code::kUnavailable ||
       result.refusal.code() == Code::kStorageFull)) {
    // Not taken now (the agent could not journal it, or its disk is short of space): the file
    // stays where it is and the next scan hands it over again.
    spdlog::info("event=outbox_deferred message_id={} code={}", result.message_id,
                 core::CodeName(result.refusal.code()));
    return;
  }
  if (!result.refusal.ok() && result.status == "refused") {
    // Refused before sending (the broker's refusals are filed by the Sender). A message that
    // the broker refused earlier was filed by Attach already; moving again finds nothing.
    outbox_.MoveToRejected(name, result.refusal, result.pointers, result.message_id);
  }
}

}  // namespace stafett::agent
