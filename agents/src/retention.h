// Retention: what the agent removes once it is finished with it (docs/PRIVACY.md, "At the
// agents") — the files in outbox/sent/ and outbox/rejected/, the journal's finished outgoing
// records (with their envelopes and source entries) and received ids, and, opted in, the inbox
// files the local system has left. Never anything pending or unanswered, never a file still in
// outbox/, never a received id the broker could still deliver again. A pass is bounded; the
// RetentionSweeper runs one shortly after start and then hourly; Purge (stafett-agent purge)
// runs passes with an erasure request's cutoff until nothing more is due.
// Thread-safety: Pass and Purge may be called from any thread; they are serialised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "agent_config.h"
#include "file_system.h"
#include "metrics.h"
#include "stafett/core/clock.h"
#include "stafett/core/records/outgoing_record.h"
#include "stafett/core/records/received_record.h"
#include "stafett/store/agent_journal.h"

namespace stafett::agent {

// How long after its expiry a received id is kept: the broker does not deliver an expired
// message, and this covers its clock being behind ours and a late expiry timer.
inline constexpr core::Micros kRedeliveryMarginMicros = 7LL * 86400 * 1'000'000;
// The expiry assumed for a received record that does not carry one (an earlier build's, or one
// recorded from its inbox file after a crash between file and journal): the
// longest ttl a document may ask for (366 days, agent.default_ttl_seconds' bound).
inline constexpr core::Micros kLongestTtlMicros = 366LL * 86400 * 1'000'000;
// Removals of each kind per pass; a pass that reaches it says `more`.
inline constexpr size_t kRetentionPassLimit = 1000;

// Refused, or accepted with a final receipt (delivered, expired or withheld) from every
// recipient: nothing more will come for it.
bool IsFinished(const core::OutgoingRecord& record);
// Until when the broker could deliver the message of RECORD again: its expiry plus the margin.
core::Micros RedeliverableUntil(const core::ReceivedRecord& record);
// An erasure request's time: RFC 3339, or a date YYYY-MM-DD (its start, 00:00 UTC).
std::optional<core::Micros> ParsePurgeTime(std::string_view text);

struct RetentionCutoffs {
  core::Micros finished_before = 0;          // files and records handed over before this
  std::optional<core::Micros> inbox_before;  // inbox files written before this; none if unset
};

struct RetentionCounts {
  uint64_t sent_file = 0;
  uint64_t rejected_file = 0;  // error files included
  uint64_t outgoing_record = 0;
  uint64_t received_record = 0;
  uint64_t inbox_file = 0;
  bool more = false;  // a pass reached its bound: more is due
  RetentionCounts& operator+=(const RetentionCounts& other);
  nlohmann::json ToJson() const;  // {"sent_file":N,…,"inbox_file":N}
};

class Retention {
 public:
  // NAME_KEY is the outbox's (OutboxNameKey): the files still in outbox/ are recognised by
  // their source keys. METRICS may be null (the purge command with the agent stopped).
  Retention(const AgentConfig& config, store::AgentJournal& journal, std::string name_key,
            const core::Clock& clock, Metrics* metrics, FileSystem& files = PosixFileSystem());

  // The cutoffs [retention] gives now; nullopt when it removes nothing (both 0).
  std::optional<RetentionCutoffs> Due() const;
  // One pass: at most LIMIT removals of each kind. An error when the journal cannot be read or
  // written (what was removed before it stays removed).
  core::Result<RetentionCounts> Pass(const RetentionCutoffs& cutoffs,
                                     size_t limit = kRetentionPassLimit);
  // An erasure request: passes with finished_before = BEFORE (and the inbox's too, if
  // [retention] inbox_taken_days is set) until nothing more is due; the sums.
  core::Result<RetentionCounts> Purge(core::Micros before);

 private:
  struct Protected;
  Protected FilesInOutbox();
  core::Status RemoveOutgoing(const RetentionCutoffs& cutoffs, size_t limit,
                              RetentionCounts& counts);
  core::Status RemoveReceived(const RetentionCutoffs& cutoffs, size_t limit,
                              RetentionCounts& counts);
  // Removes the regular files in FOLDER that KEEP does not keep, at most LIMIT; their number.
  uint64_t RemoveFiles(const std::filesystem::path& folder, core::Micros before, size_t limit,
                       const std::function<bool(const std::string&)>& removable, bool* more);
  void Count(const RetentionCounts& counts);

  const AgentConfig& config_;
  store::AgentJournal& journal_;
  std::string name_key_;
  const core::Clock& clock_;
  Metrics* metrics_;
  FileSystem& files_;
  std::mutex mutex_;  // one pass at a time
};

// Runs Retention's passes on its own thread: the first FIRST after Start, then every EVERY (or
// FIRST again after a pass that reached its bound). Waits in real time.
class RetentionSweeper {
 public:
  RetentionSweeper(Retention& retention, std::chrono::seconds first, std::chrono::seconds every)
      : retention_(retention), first_(first), every_(every) {}
  ~RetentionSweeper() { Stop(); }
  void Start();
  void Stop();

 private:
  void Run();

  Retention& retention_;
  std::chrono::seconds first_, every_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace stafett::agent
