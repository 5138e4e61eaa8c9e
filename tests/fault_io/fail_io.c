// fail_io: an LD_PRELOAD shim that makes a real process's storage fail on demand, for the
// storage-fault tests (tests/integration/storage_fault_test.cc). It interposes the libc calls
// RocksDB writes and syncs through and, while the control file named by STAFETT_FAIL_IO_CONTROL
// exists, fails them for files whose path starts with STAFETT_FAIL_IO_PREFIX:
//   "fsync"  — fsync, fdatasync and sync_file_range fail with EIO (a lost write-back);
//   "enospc" — write, pwrite and writev fail with ENOSPC, and so do the syncs (a full disk).
// Each failure is counted in the file STAFETT_FAIL_IO_CONTROL ".count" (one byte per failure)
// so that a test can await the fault having been hit. Built without sanitizers; C and POSIX only.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum Fault { kNone = 0, kFsync = 1, kNoSpace = 2 };

static enum Fault CurrentFault(void) {
  const char* control = getenv("STAFETT_FAIL_IO_CONTROL");
  if (control == NULL) return kNone;
  int fd = open(control, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kNone;
  char word[16] = {0};
  ssize_t n = read(fd, word, sizeof(word) - 1);
  close(fd);
  if (n <= 0) return kNone;
  if (strncmp(word, "fsync", 5) == 0) return kFsync;
  if (strncmp(word, "enospc", 6) == 0) return kNoSpace;
  return kNone;
}

static int Covered(int fd) {
  const char* prefix = getenv("STAFETT_FAIL_IO_PREFIX");
  if (prefix == NULL || prefix[0] == '\0') return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof(path) - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return strncmp(path, prefix, strlen(prefix)) == 0;
}

static void Count(void) {
  const char* control = getenv("STAFETT_FAIL_IO_CONTROL");
  char counter[PATH_MAX];
  snprintf(counter, sizeof(counter), "%s.count", control);
  int fd = open(counter, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ssize_t (*real_write)(int, const void*, size_t) = dlsym(RTLD_NEXT, "write");
  if (real_write != NULL) (void)real_write(fd, "x", 1);
  close(fd);
}

// Whether a call on FD fails now, with which errno; WRITING is 1 for writes, 0 for syncs.
static int ShouldFail(int fd, int writing, int* error) {
  enum Fault fault = CurrentFault();
  if (fault == kNone || (writing && fault != kNoSpace) || !Covered(fd)) return 0;
  *error = fault == kNoSpace ? ENOSPC : EIO;
  Count();
  return 1;
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t write(int fd, const void* buffer, size_t count) {
  int error;
  if (fd > 2 && ShouldFail(fd, 1, &error)) {
    errno = error;
    return -1;
  }
  return REAL("write", ssize_t(*)(int, const void*, size_t))(fd, buffer, count);
}

ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  int error;
  if (ShouldFail(fd, 1, &error)) {
    errno = error;
    return -1;
  }
  return REAL("pwrite", ssize_t(*)(int, const void*, size_t, off_t))(fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void* buffer, size_t count, off_t offset) {
  int error;
  if (ShouldFail(fd, 1, &error)) {
    errno = error;
    return -1;
  }
  return REAL("pwrite64", ssize_t(*)(int, const void*, size_t, off_t))(fd, buffer, count, offset);
}

ssize_t writev(int fd, const struct iovec* vector, int count) {
  int error;
  if (fd > 2 && ShouldFail(fd, 1, &error)) {
    errno = error;
    return -1;
  }
  return REAL("writev", ssize_t(*)(int, const struct iovec*, int))(fd, vector, count);
}

int fsync(int fd) {
  int error;
  if (ShouldFail(fd, 0, &error)) {
    errno = error;
    return -1;
  }
  return REAL("fsync", int (*)(int))(fd);
}

int fdatasync(int fd) {
  int error;
  if (ShouldFail(fd, 0, &error)) {
    errno = error;
    return -1;
  }
  return REAL("fdatasync", int (*)(int))(fd);
}

int sync_file_range(int fd, off_t offset, off_t count, unsigned int flags) {
  int error;
  // flags 0 does nothing (RocksDB calls it so on a new file to learn whether the call exists,
  // and asserts on any error but ENOSYS): no disk fails that.
  if (flags != 0 && ShouldFail(fd, 0, &error)) {
    errno = error;
    return -1;
  }
  return REAL("sync_file_range", int (*)(int, off_t, off_t, unsigned int))(fd, offset, count,
                                                                           flags);
}
