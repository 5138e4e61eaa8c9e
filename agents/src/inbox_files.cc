// InboxFiles: the inbox file first, the journal second; a redelivery is never written twice.
#include "inbox_files.h"

#include <spdlog/spdlog.h>

namespace stafett::agent {

core::Result<bool> InboxFiles::AlreadyKept(const std::string& message_id, core::Micros now) {
  if (burst_received_.count(message_id) != 0) return true;  // a redelivery within the burst
  core::Result<bool> seen = journal_.WasReceived(message_id);
  if (!seen.ok()) return seen.status();
  if (*seen) return true;
  core::Result<bool> on_disk = files_.Exists(inbox_ / (message_id + ".json"));
  if (!on_disk.ok()) return on_disk.status();
  if (!*on_disk) return false;
  // A crash between the inbox write and the journal left the file: never write it again.
  core::Status marked = journal_.MarkReceived(message_id, {now, ""});
  if (!marked.ok()) {
    spdlog::error("event=journal_failed message_id={} error=\"{}\"", message_id, marked.message());
  }
  return true;
}

core::Status InboxFiles::Keep(const std::string& message_id, std::string_view document,
                              const core::ReceivedRecord& received) {
  if (in_burst_) {
    burst_names_.insert(message_id + ".json");
    burst_files_.emplace_back(message_id + ".json", std::string(document));
    burst_received_.emplace(message_id, received);
    return core::Status::Ok();
  }
  STAFETT_RETURN_IF_ERROR(files_.WriteFileDurably(inbox_, message_id + ".json", document));
  core::Status marked = journal_.MarkReceived(message_id, received);
  if (!marked.ok()) {
    spdlog::error("event=journal_failed message_id={} error=\"{}\"", message_id, marked.message());
  }
  return core::Status::Ok();
}

core::Status InboxFiles::KeepDocument(const std::string& name, std::string_view document) {
  if (!in_burst_) return files_.WriteFileDurably(inbox_, name, document);
  burst_names_.insert(name);
  burst_files_.emplace_back(name, std::string(document));
  return core::Status::Ok();
}

core::Result<bool> InboxFiles::HasDocument(const std::string& name) {
  if (burst_names_.count(name) != 0) return true;
  return files_.Exists(inbox_ / name);
}

void InboxFiles::BeginBurst() {
  in_burst_ = true;
  burst_files_.clear();
  burst_names_.clear();
  burst_received_.clear();
}

core::Status InboxFiles::FinishBurst() {
  in_burst_ = false;
  std::vector<std::pair<std::string, std::string>> files;
  files.swap(burst_files_);
  burst_names_.clear();
  std::map<std::string, core::ReceivedRecord> received;
  received.swap(burst_received_);
  STAFETT_RETURN_IF_ERROR(files_.WriteFilesDurably(inbox_, files));
  for (const auto& [message_id, record] : received) {
    core::Status marked = journal_.MarkReceived(message_id, record);
    if (!marked.ok()) {
      // The file is durable: a redelivery finds it and is not written again.
      spdlog::error("event=journal_failed message_id={} error=\"{}\"", message_id,
                    marked.message());
    }
  }
  return core::Status::Ok();
}

}  // namespace stafett::agent
