// Secret files: exclusive creation with an exact mode, and permission-checked reads.
// Thread-safety: free functions; no shared state.
#include "stafett/keys/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace stafett::keys {

using core::Code;
using core::Status;

namespace {

constexpr off_t kMaxSecretFileBytes = 1 << 20;

Status Invalid(const std::filesystem::path& file, const std::string& problem) {
  return Status(Code::kKeyInvalid, file.string() + ": " + problem);
}

Status ModeProblem(const std::filesystem::path& file, mode_t mode) {
  if ((mode & 077) == 0) return Status::Ok();
  char octal[8];
  std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode & 07777));
  return Invalid(file, std::string("mode ") + octal +
                           " lets group or others access a secret key; chmod 600 it");
}

}  // namespace

Status WriteNewFile(const std::filesystem::path& file, std::string_view text, mode_t mode) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return Status(Code::kIoError, file.string() + ": cannot create: " + std::strerror(errno));
  }
  // The umask must neither widen nor narrow what was asked for.
  if (::fchmod(fd, mode) != 0) {
    int error = errno;
    ::close(fd);
    return Status(Code::kIoError, file.string() + ": cannot set its mode: " + std::strerror(error));
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t count = ::write(fd, text.data() + written, text.size() - written);
    if (count < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      return Status(Code::kIoError, file.string() + ": write failed: " + std::strerror(error));
    }
    written += static_cast<size_t>(count);
  }
  bool synced = ::fsync(fd) == 0;
  bool closed = ::close(fd) == 0;
  if (!synced || !closed) return Status(Code::kIoError, file.string() + ": fsync failed");
  return Status::Ok();
}

Status CheckSecretFileMode(const std::filesystem::path& file) {
  struct stat info {};
  if (::lstat(file.c_str(), &info) != 0) return Invalid(file, "cannot read the key file");
  if (S_ISLNK(info.st_mode)) return Invalid(file, "is a symbolic link; refusing to follow it");
  if (!S_ISREG(info.st_mode)) return Invalid(file, "is not a regular file");
  return ModeProblem(file, info.st_mode);
}

core::Result<core::SecretBytes> ReadSecretFile(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ELOOP) return Invalid(file, "is a symbolic link; refusing to follow it");
    return Invalid(file, std::string("cannot read the key file: ") + std::strerror(errno));
  }
  struct stat info {};
  Status problem;
  if (::fstat(fd, &info) != 0) {
    problem = Invalid(file, "cannot stat the key file");
  } else if (!S_ISREG(info.st_mode)) {
    problem = Invalid(file, "is not a regular file");
  } else if (info.st_size > kMaxSecretFileBytes) {
    problem = Invalid(file, "is too large for a key file");
  } else {
    problem = ModeProblem(file, info.st_mode);
  }
  if (!problem.ok()) {
    ::close(fd);
    return problem;
  }
  core::SecretBytes content(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t count = ::read(fd, content.data() + done, content.size() - done);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    done += static_cast<size_t>(count);
  }
  ::close(fd);
  if (done != content.size()) return Invalid(file, "short read");
  return content;
}

}  // namespace stafett::keys
