// InboxFiles: the inbox file first, the journal second; a redelivery is never written twice.
#include "inbox_files.h"

#include <spdlog/spdlog.h>

namespace stafett::agent {

core::Result<bool> InboxFiles::AlreadyKept(const std::string& message_id, core::Micros now) {
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
  STAFETT_RETURN_IF_ERROR(files_.WriteFileDurably(inbox_, message_id + ".json", document));
  core::Status marked = journal_.MarkReceived(message_id, received);
  if (!marked.ok()) {
    spdlog::error("event=journal_failed message_id={} error=\"{}\"", message_id, marked.message());
  }
  return core::Status::Ok();
}

}  // namespace stafett::agent
