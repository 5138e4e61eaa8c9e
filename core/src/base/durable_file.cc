// Durable small files: POSIX open/write/fsync/rename with the folder synced after the rename.
#include "stafett/core/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace stafett::core {
namespace {

Status Errno(const std::string& what) {
  // A full disk (or quota) is retryable once space returns: STORAGE_FULL, not IO_ERROR.
  Code code = errno == ENOSPC || errno == EDQUOT ? Code::kStorageFull : Code::kIoError;
  return Status(code, what + ": " + std::strerror(errno));
}

}  // namespace

Status SyncFolder(const std::filesystem::path& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open folder " + folder.string());
  Status synced = ::fsync(fd) == 0 ? Status::Ok() : Errno("fsync folder " + folder.string());
  ::close(fd);
  return synced;
}

Status WriteFileDurably(const std::filesystem::path& file, std::string_view content,
                        const std::filesystem::path& temp_folder) {
  static std::atomic<uint64_t> counter{0};
  std::filesystem::path folder = file.parent_path().empty() ? "." : file.parent_path();
  std::filesystem::path temp = (temp_folder.empty() ? folder : temp_folder) /
                               ("." + file.filename().string() + ".tmp-" +
                                std::to_string(::getpid()) + "-" + std::to_string(++counter));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("create " + temp.string());
  Status written = Status::Ok();
  while (written.ok() && !content.empty()) {
    ssize_t count = ::write(fd, content.data(), content.size());
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      written = Errno("write " + temp.string());
    } else {
      content.remove_prefix(static_cast<size_t>(count));
    }
  }
  if (written.ok() && ::fsync(fd) != 0) written = Errno("fsync " + temp.string());
  ::close(fd);
  if (written.ok() && ::rename(temp.c_str(), file.c_str()) != 0) {
    written = Errno("rename to " + file.string());
  }
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  return SyncFolder(folder);
}

}  // namespace stafett::core
