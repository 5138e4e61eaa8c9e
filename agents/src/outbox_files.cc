// OutboxFiles: durable, non-overwriting moves out of the outbox, and the error files.
#include "outbox_files.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "file_util.h"

namespace stafett::agent {

core::Status OutboxFiles::Prepare() const {
  STAFETT_RETURN_IF_ERROR(EnsureWritableFolder(outbox_));
  STAFETT_RETURN_IF_ERROR(EnsureWritableFolder(outbox_ / "sent"));
  return EnsureWritableFolder(outbox_ / "rejected");
}

namespace {

void LogSent(const core::Result<std::filesystem::path>& moved, const std::string& message_id) {
  if (moved.ok()) {
    // File names are the local system's and may carry anything: they are not logged.
    spdlog::info("event=outbox_sent message_id={}", message_id);
  } else if (moved.status().code() != core::Code::kNotFound) {
    spdlog::error("event=outbox_move_failed message_id={} error=\"{}\"", message_id,
                  moved.status().message());
  }
}

}  // namespace

void OutboxFiles::MoveAllToSent(
    const std::vector<std::pair<std::string, std::string>>& files) const {
  if (files.empty()) return;
  std::vector<std::filesystem::path> froms;
  froms.reserve(files.size());
  for (const auto& [name, message_id] : files) froms.push_back(outbox_ / name);
  std::vector<core::Result<std::filesystem::path>> moved =
      files_->MoveAllWithoutOverwrite(froms, outbox_ / "sent");
  for (size_t i = 0; i < files.size() && i < moved.size(); ++i) LogSent(moved[i], files[i].second);
}

void OutboxFiles::MoveToRejected(const std::string& name, const core::Status& refusal,
                                 const std::vector<std::string>& pointers,
                                 const std::string& message_id) const {
  core::Result<std::filesystem::path> moved =
      files_->MoveWithoutOverwrite(outbox_ / name, outbox_ / "rejected");
  if (!moved.ok()) {
    if (moved.status().code() != core::Code::kNotFound) {
      spdlog::error("event=outbox_move_failed message_id={} error=\"{}\"", message_id,
                    moved.status().message());
    }
    return;
  }
  nlohmann::json error = {{"code", std::string(core::CodeName(refusal.code()))},
                          {"message", refusal.message()}};
  if (!message_id.empty()) error["message_id"] = message_id;
  if (!pointers.empty()) error["pointers"] = pointers;
  std::string error_name = moved->filename().string() + ".error.json";
  core::Status written =
      files_->WriteFileDurably(outbox_ / "rejected", error_name, error.dump(2) + "\n");
  if (!written.ok()) {
    spdlog::error("event=error_file_failed message_id={} error=\"{}\"", message_id,
                  written.message());
  }
  spdlog::info("event=outbox_rejected message_id={} code={}", message_id,
               core::CodeName(refusal.code()));
}

}  // namespace stafett::agent
