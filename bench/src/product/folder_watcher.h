// FolderWatcher: one inotify descriptor over a few folders and one thread reading it, which
// calls back with every name that appears in a folder (IN_MOVED_TO or IN_CLOSE_WRITE) and the
// monotonic time it read the event. Names are not filtered: the callback decides.
// Thread-safety: Start() and Stop() from one owning thread; the callbacks run on the watcher's
// thread, one at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace stafett::bench {

class FolderWatcher {
 public:
  // FOLDER is the index into the folders given to the constructor.
  using OnName = std::function<void(size_t folder, const std::string& name, int64_t at_nanos)>;
  // The kernel's event queue overflowed: events were lost, the owner should list the folders.
  using OnOverflow = std::function<void(int64_t at_nanos)>;

  FolderWatcher(std::vector<std::filesystem::path> folders, OnName on_name, OnOverflow on_overflow);
  ~FolderWatcher();
  FolderWatcher(const FolderWatcher&) = delete;
  FolderWatcher& operator=(const FolderWatcher&) = delete;

  // Adds the watches and starts the thread. On failure returns false and sets ERROR.
  bool Start(std::string* error);
  // Stops the thread after the events it has read; events not yet read are dropped.
  void Stop();

 private:
  void Run();

  std::vector<std::filesystem::path> folders_;
  std::vector<int> watches_;  // watch descriptor of each folder
  OnName on_name_;
  OnOverflow on_overflow_;
  int inotify_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace stafett::bench
