// CommitThread: commits one store transaction at a time (BrokerStore::Commit: write + fsync) on a
// thread of its own, so that the broker loop can receive and verify the next commands while
// the disk syncs (docs/DESIGN.md, "Performance"). The loop polls fd() (an eventfd, readable
// once the commit has finished) beside its ROUTER socket, then calls Take().
// Thread-safety: Start/Take/busy from one thread (the broker loop); the transaction handed to Start
// must not be touched until Take returns.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"
#include "stafett/store/broker_store.h"

namespace stafett::broker {

class CommitThread {
 public:
  // CLOCK times each commit (its monotonic time).
  CommitThread(store::BrokerStore& store, const core::Clock& clock);
  ~CommitThread();
  CommitThread(const CommitThread&) = delete;
  CommitThread& operator=(const CommitThread&) = delete;

  // Begins committing TRANSACTION; returns at once. Only one commit is in flight at a time.
  void Start(const store::BrokerTransaction* transaction);
  bool busy() const { return busy_; }
  // Whether the commit in flight has finished (Take will not block).
  bool Finished();
  // Waits for the commit in flight; returns its status and its duration in seconds.
  core::Status Take(double* seconds);
  // Readable once the commit in flight has finished.
  int fd() const { return event_fd_; }

 private:
  void Work();

  store::BrokerStore& store_;
  const core::Clock& clock_;
  int event_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const store::BrokerTransaction* transaction_ = nullptr;  // the job, while queued or running
  bool finished_ = false;
  core::Status status_;
  double seconds_ = 0;
  bool stop_ = false;
  bool busy_ = false;  // loop-side: a commit was started and not yet taken
  std::thread thread_;
};

}  // namespace stafett::broker
