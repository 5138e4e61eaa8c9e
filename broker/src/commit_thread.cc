// CommitThread: the broker's group commits, off the loop.
#include "commit_thread.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

namespace stafett::broker {

CommitThread::CommitThread(store::BrokerStore& store, const core::Clock& clock)
    : store_(store), clock_(clock) {
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { Work(); });
}

CommitThread::~CommitThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (event_fd_ >= 0) close(event_fd_);
}

void CommitThread::Start(const store::BrokerTransaction* transaction) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    transaction_ = transaction;
    finished_ = false;
  }
  busy_ = true;
  wake_.notify_one();
}

bool CommitThread::Finished() {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

core::Status CommitThread::Take(double* seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return finished_; });
  finished_ = false;
  busy_ = false;
  if (event_fd_ >= 0) {
    uint64_t drained = 0;
    while (read(event_fd_, &drained, sizeof drained) < 0 && errno == EINTR) {
    }
  }
  if (seconds != nullptr) *seconds = seconds_;
  return status_;
}

void CommitThread::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || transaction_ != nullptr; });
    if (transaction_ == nullptr) return;  // stopping with nothing in flight
    const store::BrokerTransaction* transaction = transaction_;
    lock.unlock();
    core::MonotonicTime started = clock_.MonotonicNow();
    core::Status status = store_.Commit(*transaction);
    double seconds = std::chrono::duration<double>(clock_.MonotonicNow() - started).count();
    lock.lock();
    status_ = std::move(status);
    seconds_ = seconds;
    transaction_ = nullptr;
    finished_ = true;
    done_.notify_all();
    if (event_fd_ >= 0) {
      uint64_t one = 1;
      while (write(event_fd_, &one, sizeof one) < 0 && errno == EINTR) {
      }
    }
  }
}

}  // namespace stafett::broker
