// TmpfsMount: a small tmpfs mounted at a folder for the life of the object (root only), to give
// a process a disk that can really fill up; FreeBytes and FillUntilFree to fill it.
// Thread-safety: one test thread.
#pragma once

#include <cstdint>
#include <string>

namespace stafett::testing {

class TmpfsMount {
 public:
  // Mounts a tmpfs of SIZE ("192m") at PATH (created if needed); false with ERROR if it cannot
  // (not root, no mount namespace): the caller skips its test.
  bool Mount(const std::string& path, const std::string& size, std::string* error);
  void Unmount();
  ~TmpfsMount() { Unmount(); }

 private:
  std::string path_;
};

// Free bytes for an unprivileged writer of the filesystem holding PATH (0 if unknown).
uint64_t FreeBytes(const std::string& path);

// Allocates FILE (posix_fallocate) so that about LEAVE bytes stay free on its filesystem;
// false with ERROR if that cannot be done.
bool FillUntilFree(const std::string& file, uint64_t leave, std::string* error);

}  // namespace stafett::testing
