// File and port helpers for integration tests: temporary folders, whole-file reads and writes,
// listing, free loopback ports, and polling for a condition with a deadline (never a bare
// sleep standing in for synchronisation). Standard library and POSIX only.
// Thread-safety: free functions; TempDir is owned by one thread.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace stafett::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with its contents on destruction unless
// STAFETT_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "stafett-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool ReadWholeFile(const std::string& path, std::string* content);
// Writes CONTENT to PATH via PATH.tmp and rename, as the outbox contract asks.
bool WriteFileByRename(const std::string& path, const std::string& content);
// Names in FOLDER (not recursive), sorted; dot-files included only if WITH_HIDDEN.
std::vector<std::string> ListNames(const std::string& folder, bool with_hidden = false);

// A base port P such that P..P+SPAN-1 are free on 127.0.0.1 and reserved for this process:
// below the kernel's ephemeral port range, in blocks locked against the other test processes
// (see sandbox_files.cc). Returns -1 if none could be found.
int FindFreePortRange(int span);

// Polls CONDITION every few milliseconds until it holds or TIMEOUT passes; returns its value.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace stafett::testing
