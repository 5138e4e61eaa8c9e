// TmpfsMount: mount(2) of a tmpfs, statvfs, posix_fallocate.
#include "integration/support/tmpfs_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace stafett::testing {

bool TmpfsMount::Mount(const std::string& path, const std::string& size, std::string* error) {
  std::filesystem::create_directories(path);
  std::string options = "size=" + size + ",mode=0700";
  if (::mount("stafett-test", path.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    *error = "mount -t tmpfs at " + path + ": " + std::strerror(errno);
    return false;
  }
  path_ = path;
  return true;
}

void TmpfsMount::Unmount() {
  if (path_.empty()) return;
  if (::umount2(path_.c_str(), 0) != 0) ::umount2(path_.c_str(), MNT_DETACH);
  path_.clear();
}

uint64_t FreeBytes(const std::string& path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) return 0;
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

bool FillUntilFree(const std::string& file, uint64_t leave, std::string* error) {
  std::string folder = std::filesystem::path(file).parent_path().string();
  uint64_t free_now = FreeBytes(folder);
  if (free_now <= leave) return true;
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = file + ": " + std::strerror(errno);
    return false;
  }
  struct stat info {};
  ::fstat(fd, &info);
  off_t size = info.st_size + static_cast<off_t>(free_now - leave);
  int allocated = ::posix_fallocate(fd, 0, size);
  ::close(fd);
  if (allocated != 0) {
    *error = "posix_fallocate " + file + ": " + std::strerror(allocated);
    return false;
  }
  return true;
}

}  // namespace stafett::testing
