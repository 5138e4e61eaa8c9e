// File utilities: POSIX calls with fsync where durability matters.
#include "file_util.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "stafett/core/durable_file.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {

Status Errno(const std::string& what) {
  // A full disk (or quota) is retryable once space returns: STORAGE_FULL, not IO_ERROR.
  Code code = errno == ENOSPC || errno == EDQUOT ? Code::kStorageFull : Code::kIoError;
  return Status(code, what + ": " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

core::Result<std::string> ReadRegularFile(const std::filesystem::path& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ELOOP) return Status(Code::kSchemaInvalid, "a symbolic link is not accepted");
    if (errno == ENOENT) return Status(Code::kNotFound, "the file is gone");
    return Errno("open");
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return Errno("fstat");
  if (!S_ISREG(info.st_mode)) return Status(Code::kSchemaInvalid, "not a regular file");
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    return Status(Code::kTooLarge, "the document exceeds " + std::to_string(max_bytes) + " bytes");
  }
  std::string content;
  content.reserve(static_cast<size_t>(info.st_size));
  char buffer[65536];
  for (;;) {
    ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Errno("read");
    }
    if (got == 0) break;
    content.append(buffer, static_cast<size_t>(got));
    if (content.size() > max_bytes) {
      return Status(Code::kTooLarge,
                    "the document exceeds " + std::to_string(max_bytes) + " bytes");
    }
  }
  return content;
}

Status WriteFileAtomically(const std::filesystem::path& folder, const std::string& name,
                           std::string_view content) {
  // The temp file in FOLDER/.tmp: a reader listing FOLDER (an integrator's inbox) never sees it.
  std::filesystem::path temp_folder = folder / ".tmp";
  std::error_code error;
  std::filesystem::create_directories(temp_folder, error);
  if (error) return Status(Code::kIoError, temp_folder.string() + ": " + error.message());
  return core::WriteFileDurably(folder / name, content, temp_folder);
}

namespace {

// Renames FROM into TO_FOLDER without overwriting (the name, then stem.N.ext); no sync.
core::Result<std::filesystem::path> RenameWithoutOverwrite(const std::filesystem::path& from,
                                                           const std::filesystem::path& to_folder) {
  std::string name = from.filename().string();
  std::string stem = from.stem().string(), extension = from.extension().string();
  for (int attempt = 0; attempt < 10000; ++attempt) {
    std::filesystem::path target =
        to_folder / (attempt == 0 ? name : stem + "." + std::to_string(attempt) + extension);
    long renamed = ::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, target.c_str(),
                             RENAME_NOREPLACE);
    if (renamed == 0) return target;
    if (errno == EEXIST) continue;
    if (errno == ENOENT) return Status(Code::kNotFound, "the file is gone");
    return Errno("move into " + to_folder.string());
  }
  return Status(Code::kIoError, "no free name in " + to_folder.string());
}

// Creates PATH with CONTENT (O_EXCL), without syncing it.
Status WriteNewFile(const std::filesystem::path& path, std::string_view content) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (fd.get() < 0) return Errno("create " + path.string());
  while (!content.empty()) {
    ssize_t count = ::write(fd.get(), content.data(), content.size());
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) return Errno("write " + path.string());
    content.remove_prefix(static_cast<size_t>(count));
  }
  return Status::Ok();
}

}  // namespace

Status WriteFilesAtomically(const std::filesystem::path& folder,
                            const std::vector<std::pair<std::string, std::string>>& files) {
  if (files.empty()) return Status::Ok();
  static std::atomic<uint64_t> counter{0};
  std::filesystem::path temp_folder = folder / ".tmp";
  std::error_code error;
  std::filesystem::create_directories(temp_folder, error);
  if (error) return Status(Code::kIoError, temp_folder.string() + ": " + error.message());
  std::vector<std::filesystem::path> temps;
  auto fail = [&](Status status) {
    for (const std::filesystem::path& temp : temps) ::unlink(temp.c_str());
    return status;
  };
  for (const auto& [name, content] : files) {
    std::filesystem::path temp = temp_folder / ("." + name + ".tmp-" + std::to_string(::getpid()) +
                                                "-" + std::to_string(++counter));
    Status written = WriteNewFile(temp, content);
    temps.push_back(std::move(temp));
    if (!written.ok()) return fail(written);
  }
  {
    // One sync for every file's data: syncfs writes back the whole filesystem and, since Linux
    // 5.8, reports a write-back error of any file on it.
    Fd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return fail(Errno("open " + folder.string()));
    if (::syncfs(fd.get()) != 0) return fail(Errno("syncfs " + folder.string()));
  }
  for (size_t i = 0; i < files.size(); ++i) {
    std::filesystem::path target = folder / files[i].first;
    if (::rename(temps[i].c_str(), target.c_str()) != 0) {
      Status renamed = Errno("rename to " + target.string());
      temps.erase(temps.begin(), temps.begin() + static_cast<std::ptrdiff_t>(i));
      return fail(renamed);
    }
  }
  return SyncFolder(folder);
}

core::Result<std::filesystem::path> MoveWithoutOverwrite(const std::filesystem::path& from,
                                                         const std::filesystem::path& to_folder) {
  core::Result<std::filesystem::path> target = RenameWithoutOverwrite(from, to_folder);
  if (!target.ok()) return target;
  STAFETT_RETURN_IF_ERROR(SyncFolder(to_folder));
  STAFETT_RETURN_IF_ERROR(SyncFolder(from.parent_path()));
  return target;
}

std::vector<core::Result<std::filesystem::path>> MoveAllWithoutOverwrite(
    const std::vector<std::filesystem::path>& froms, const std::filesystem::path& to_folder) {
  std::vector<core::Result<std::filesystem::path>> moved;
  moved.reserve(froms.size());
  std::vector<std::filesystem::path> sources;
  for (const std::filesystem::path& from : froms) {
    moved.push_back(RenameWithoutOverwrite(from, to_folder));
    if (moved.back().ok() &&
        std::find(sources.begin(), sources.end(), from.parent_path()) == sources.end()) {
      sources.push_back(from.parent_path());
    }
  }
  if (sources.empty()) return moved;
  Status synced = SyncFolder(to_folder);
  for (const std::filesystem::path& source : sources) {
    if (synced.ok()) synced = SyncFolder(source);
  }
  if (!synced.ok()) {
    for (core::Result<std::filesystem::path>& result : moved) {
      if (result.ok()) result = synced;
    }
  }
  return moved;
}

Status EnsureWritableFolder(const std::filesystem::path& folder) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) return Status(Code::kIoError, folder.string() + ": " + error.message());
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return Errno(folder.string() + " is not writable");
  }
  return Status::Ok();
}

core::Result<int> LockDataDir(const std::filesystem::path& folder) {
  std::filesystem::path file = folder / "agent.lock";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Errno(file.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Status(Code::kUnavailable,
                    "another agent is running with this data_dir (" + folder.string() + ")");
    }
    errno = error;
    return Errno("lock " + file.string());
  }
  return fd;
}

}  // namespace stafett::agent
