// Retention: the rules of what goes, one bounded pass over the journal and the folders, and the
// sweeper thread.
#include "retention.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "source_key.h"
#include "stafett/core/ids.h"

namespace stafett::agent {

using core::Micros;
using core::OutgoingRecord;
using core::OutgoingState;
using core::ReceiptStatus;
using core::Status;

namespace {

constexpr Micros kDayMicros = 86400LL * 1'000'000;

Micros ToMicros(const struct timespec& time) {
  return static_cast<Micros>(time.tv_sec) * 1'000'000 + time.tv_nsec / 1000;
}

// When a regular file came to be where it is: the later of its last change and its status
// change (a move into sent/ or rejected/ sets the latter; the former is the local system's).
// nullopt for anything but a regular file (never through a symlink).
std::optional<Micros> FileTime(const std::filesystem::path& file) {
  struct stat info {};
  if (::lstat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  return std::max(ToMicros(info.st_mtim), ToMicros(info.st_ctim));
}

bool IsHidden(const std::string& name) { return name.empty() || name[0] == '.'; }

}  // namespace

bool IsFinished(const OutgoingRecord& record) {
  if (record.state == OutgoingState::kRefused) return true;
  if (record.state != OutgoingState::kAccepted || record.to.empty()) return false;
  for (const std::string& recipient : record.to) {
    auto outcome = record.recipients.find(recipient);
    if (outcome == record.recipients.end()) return false;  // its receipt has not come
    ReceiptStatus status = outcome->second.status;
    if (status != ReceiptStatus::kDelivered && status != ReceiptStatus::kExpired &&
        status != ReceiptStatus::kWithheld) {
      return false;
    }
  }
  return true;
}

Micros RedeliverableUntil(const core::ReceivedRecord& record) {
  Micros expires =
      record.expires_at != 0 ? record.expires_at : record.received_at + kLongestTtlMicros;
  return expires + kRedeliveryMarginMicros;
}

std::optional<Micros> ParsePurgeTime(std::string_view text) {
  bool date = text.size() == 10 && text[4] == '-' && text[7] == '-';
  if (date) return core::ParseRfc3339(std::string(text) + "T00:00:00Z");
  return core::ParseRfc3339(text);
}

RetentionCounts& RetentionCounts::operator+=(const RetentionCounts& other) {
  sent_file += other.sent_file;
  rejected_file += other.rejected_file;
  outgoing_record += other.outgoing_record;
  received_record += other.received_record;
  inbox_file += other.inbox_file;
  more = more || other.more;
  return *this;
}

nlohmann::json RetentionCounts::ToJson() const {
  return {{"sent_file", sent_file},
          {"rejected_file", rejected_file},
          {"outgoing_record", outgoing_record},
          {"received_record", received_record},
          {"inbox_file", inbox_file}};
}

Retention::Retention(const AgentConfig& config, store::AgentJournal& journal, std::string name_key,
                     const core::Clock& clock, Metrics* metrics, FileSystem& files)
    : config_(config),
      journal_(journal),
      name_key_(std::move(name_key)),
      clock_(clock),
      metrics_(metrics),
      files_(files) {}

std::optional<RetentionCutoffs> Retention::Due() const {
  if (config_.retention_finished_days == 0 && config_.retention_inbox_taken_days == 0) {
    return std::nullopt;
  }
  Micros now = clock_.Now();
  RetentionCutoffs cutoffs;
  // 0 keeps for ever: a cutoff before anything was handed over.
  cutoffs.finished_before = config_.retention_finished_days == 0
                                ? INT64_MIN
                                : now - config_.retention_finished_days * kDayMicros;
  if (config_.retention_inbox_taken_days > 0) {
    cutoffs.inbox_before = now - config_.retention_inbox_taken_days * kDayMicros;
  }
  return cutoffs;
}

// The source keys of the files now in outbox/ and the messages they name: a file still there
// is not finished with (it may be read again), so its message and source entry stay.
struct Retention::Protected {
  std::set<std::string> source_keys;
  std::set<std::string> message_ids;
};

Retention::Protected Retention::FilesInOutbox() {
  Protected kept;
  core::Result<std::vector<std::string>> names = files_.List(config_.outbox);
  if (!names.ok()) return kept;
  for (const std::string& name : *names) {
    if (IsHidden(name) || !FileTime(config_.outbox / name)) continue;
    core::Result<std::string> content =
        files_.ReadFile(config_.outbox / name, static_cast<size_t>(config_.max_document_bytes));
    if (content.ok()) kept.source_keys.insert(SourceKey(name_key_, name, *content));
  }
  if (kept.source_keys.empty()) return kept;
  journal_
      .ForEachSource([&](std::string_view key, const core::SourceEntry& entry) {
        if (kept.source_keys.count(std::string(key)) > 0) kept.message_ids.insert(entry.message_id);
        return true;
      })
      .ok();
  return kept;
}

Status Retention::RemoveOutgoing(const RetentionCutoffs& cutoffs, size_t limit,
                                 RetentionCounts& counts) {
  Protected kept = FilesInOutbox();
  auto removable = [&](const OutgoingRecord& record) {
    return IsFinished(record) && record.created_at < cutoffs.finished_before &&
           kept.message_ids.count(record.message_id) == 0;
  };
  std::map<std::string, std::vector<std::string>> chosen;  // message id → its source keys
  STAFETT_RETURN_IF_ERROR(journal_.ForEachOutgoing([&](const OutgoingRecord& record) {
    if (!removable(record)) return true;
    if (chosen.size() == limit) {
      counts.more = true;
      return false;
    }
    chosen[record.message_id];
    return true;
  }));
  if (chosen.empty()) return Status::Ok();
  STAFETT_RETURN_IF_ERROR(
      journal_.ForEachSource([&](std::string_view key, const core::SourceEntry& entry) {
        auto found = chosen.find(entry.message_id);
        if (found != chosen.end()) found->second.emplace_back(key);
        return true;
      }));
  for (const auto& [message_id, source_keys] : chosen) {
    // The rule again, under the journal's lock: a receipt may have come in between.
    core::Result<bool> removed = journal_.RemoveOutgoing(message_id, removable, source_keys);
    if (!removed.ok()) return removed.status();
    if (*removed) ++counts.outgoing_record;
  }
  return Status::Ok();
}

Status Retention::RemoveReceived(const RetentionCutoffs& cutoffs, size_t limit,
                                 RetentionCounts& counts) {
  Micros now = clock_.Now();
  std::vector<std::string> chosen;
  STAFETT_RETURN_IF_ERROR(journal_.ForEachReceived(
      [&](std::string_view message_id, const core::ReceivedRecord& record) {
        // Kept while the broker could deliver the message again: a redelivery must find the id,
        // or it would be written to the inbox a second time.
        if (record.received_at >= cutoffs.finished_before || RedeliverableUntil(record) >= now) {
          return true;
        }
        if (chosen.size() == limit) {
          counts.more = true;
          return false;
        }
        chosen.emplace_back(message_id);
        return true;
      }));
  for (const std::string& message_id : chosen) {
    STAFETT_RETURN_IF_ERROR(journal_.RemoveReceived(message_id));
    ++counts.received_record;
  }
  return Status::Ok();
}

uint64_t Retention::RemoveFiles(const std::filesystem::path& folder, Micros before, size_t limit,
                                const std::function<bool(const std::string&)>& removable,
                                bool* more) {
  core::Result<std::vector<std::string>> names = files_.List(folder);
  if (!names.ok()) return 0;
  uint64_t removed = 0;
  for (const std::string& name : *names) {
    if (IsHidden(name)) continue;
    std::optional<Micros> time = FileTime(folder / name);
    if (!time || *time >= before || !removable(name)) continue;
    if (removed == limit) {
      *more = true;
      break;
    }
    if (files_.Remove(folder / name).ok()) ++removed;
  }
  if (removed > 0) files_.SyncFolder(folder).ok();
  return removed;
}

core::Result<RetentionCounts> Retention::Pass(const RetentionCutoffs& cutoffs, size_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  RetentionCounts counts;
  auto any = [](const std::string&) { return true; };
  counts.sent_file =
      RemoveFiles(config_.outbox / "sent", cutoffs.finished_before, limit, any, &counts.more);
  counts.rejected_file =
      RemoveFiles(config_.outbox / "rejected", cutoffs.finished_before, limit, any, &counts.more);
  Status status = RemoveOutgoing(cutoffs, limit, counts);
  if (status.ok()) status = RemoveReceived(cutoffs, limit, counts);
  if (status.ok() && cutoffs.inbox_before) {
    counts.inbox_file = RemoveFiles(
        config_.inbox, *cutoffs.inbox_before, limit,
        [&](const std::string& name) {
          if (!name.ends_with(".json")) return false;  // not one the agent wrote
          // A receipt is written once and never asked for again.
          if (name.starts_with("receipt-")) return true;
          std::string id = name.substr(0, name.size() - 5);
          // A message's file goes only while the journal still knows its id: a redelivery then
          // finds the id and is not written again.
          if (!core::IsValidMessageId(id)) return false;
          core::Result<bool> known = journal_.WasReceived(id);
          return known.ok() && *known;
        },
        &counts.more);
  }
  Count(counts);
  // Counts only: never a file name (the local system's names may carry anything).
  spdlog::info(
      "event=retention_pass sent_files={} rejected_files={} outgoing_records={} "
      "received_records={} inbox_files={} more={}{}",
      counts.sent_file, counts.rejected_file, counts.outgoing_record, counts.received_record,
      counts.inbox_file, counts.more, status.ok() ? "" : " error=\"" + status.message() + "\"");
  if (!status.ok()) return status;
  return counts;
}

core::Result<RetentionCounts> Retention::Purge(Micros before) {
  RetentionCutoffs cutoffs;
  cutoffs.finished_before = before;
  if (config_.retention_inbox_taken_days > 0) cutoffs.inbox_before = before;
  RetentionCounts total;
  for (;;) {
    core::Result<RetentionCounts> pass = Pass(cutoffs);
    if (!pass.ok()) return pass.status();
    total += *pass;
    if (!pass->more) break;
  }
  total.more = false;
  spdlog::info(
      "event=purge before={} sent_files={} rejected_files={} outgoing_records={} "
      "received_records={} inbox_files={}",
      core::FormatRfc3339(before), total.sent_file, total.rejected_file, total.outgoing_record,
      total.received_record, total.inbox_file);
  return total;
}

void Retention::Count(const RetentionCounts& counts) {
  if (metrics_ == nullptr) return;
  metrics_->CountRetention("sent_file", counts.sent_file);
  metrics_->CountRetention("rejected_file", counts.rejected_file);
  metrics_->CountRetention("outgoing_record", counts.outgoing_record);
  metrics_->CountRetention("received_record", counts.received_record);
  metrics_->CountRetention("inbox_file", counts.inbox_file);
}

void RetentionSweeper::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void RetentionSweeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionSweeper::Run() {
  std::chrono::seconds wait = first_;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
    }
    wait = every_;
    std::optional<RetentionCutoffs> cutoffs = retention_.Due();
    if (!cutoffs) continue;
    core::Result<RetentionCounts> pass = retention_.Pass(*cutoffs);
    if (pass.ok() && pass->more) wait = first_;
  }
}

}  // namespace stafett::agent
