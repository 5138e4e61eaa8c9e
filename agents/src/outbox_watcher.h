// OutboxWatcher: its own thread watches the outbox with inotify (IN_MOVED_TO, IN_CLOSE_WRITE),
// scans it at start and every rescan_seconds (files dropped while the agent was down, events
// lost to a queue overflow), and feeds each regular *.json file to the Sender; a file refused
// before sending goes to outbox/rejected/ at once. Only complete files are read: those an event
// reports closed by their writer or renamed in, and in a scan those unchanged for a second and not
// open for writing. Dot-files and *.tmp are ignored; symlinks, folders and other non-regular
// entries are moved to outbox/rejected/ with a reason, never followed. Thread-safety:
// Start()/Stop() from one thread; everything else runs on the watcher thread.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "metrics.h"
#include "outbox_files.h"
#include "sender.h"
#include "stafett/core/clock.h"

namespace stafett::agent {

class OutboxWatcher {
 public:
  OutboxWatcher(const OutboxFiles& outbox, Sender& sender, size_t max_document_bytes,
                int64_t rescan_seconds, const core::Clock& clock);
  ~OutboxWatcher();

  core::Status Start();
  void Stop();
  // Backpressure: new files are taken only while fewer than MAX messages wait for the broker
  // (0: no limit); the others stay in the outbox and are taken when the backlog is below three
  // quarters of MAX. Before Start().
  void set_max_pending(size_t max) { max_pending_ = max; }

  // Handles one name in the outbox (also used by tests); a folder or any other non-regular
  // entry is moved to outbox/rejected/ with its error file.
  void HandleName(const std::string& name);
  // HandleName for several names; the documents among them go to the Sender in bursts of up to
  // 64 (Sender::SubmitAll: one journal write per burst).
  void HandleNames(const std::vector<std::string>& names);
  // Handles every outbox entry not modified within the last second; true if it skipped one
  // for being that fresh (the caller scans again a second later).
  bool Scan();

 private:
  void Run();
  // Whether another process holds outbox file NAME open for writing (a read lease is refused).
  bool IsOpenForWriting(const std::string& name) const;
  // NAME's content if it is a document to submit; otherwise the entry is dealt with (moved
  // aside, or left for the next scan) and nullopt.
  std::optional<std::string> ReadCandidate(const std::string& name);
  // What to do with NAME after the Sender's RESULT for it.
  void Settle(const std::string& name, const SubmitResult& result);

  const OutboxFiles& outbox_;
  Sender& sender_;
  size_t max_document_bytes_;
  int64_t rescan_seconds_;
  const core::Clock& clock_;
  size_t max_pending_ = 0;
  bool backlogged_ = false;  // files were left for the backlog (watcher thread only)
  int inotify_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// True for names the outbox takes: *.json, not starting with '.', not *.tmp.
bool IsOutboxDocumentName(const std::string& name);

}  // namespace stafett::agent
