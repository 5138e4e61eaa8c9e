// InboxFiles: how a received message is kept — the inbox file inbox/<message_id>.json written
// durably first, the id recorded in the journal (store::AgentJournal) second, and only then may
// the agent acknowledge it (DELIVERED). A redelivery finds the id in the journal, or the file
// itself when a crash came between the two, and is never written again. Inbox uses it; the
// agent-level power-loss test (tests/agents/agent_power_loss_test.cc) drives the same calls.
// Thread-safety: called on the connection thread only.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "file_system.h"
#include "stafett/core/records/received_record.h"
#include "stafett/core/status.h"
#include "stafett/store/agent_journal.h"

namespace stafett::agent {

class InboxFiles {
 public:
  InboxFiles(std::filesystem::path inbox, store::AgentJournal& journal, FileSystem& files)
      : inbox_(std::move(inbox)), journal_(journal), files_(files) {}

  // Whether MESSAGE_ID was kept already: in the journal, or its inbox file is there (a crash
  // between the file and the journal — the journal is told now, as of NOW). An error when
  // neither can be read: the delivery is then not answered.
  core::Result<bool> AlreadyKept(const std::string& message_id, core::Micros now);
  // Writes inbox/<message_id>.json durably, then records the id. Ok once the file is durable
  // (a journal that fails after it is logged: the file itself stops a second write).
  core::Status Keep(const std::string& message_id, std::string_view document,
                    const core::ReceivedRecord& received);

  // Any other document for the inbox (a delivery receipt): written durably at once, or with the
  // burst. Whether NAME is there already (or in this burst).
  core::Status KeepDocument(const std::string& name, std::string_view document);
  core::Result<bool> HasDocument(const std::string& name);

  // Group commit (docs/AGENT.md, "Group commit"): between BeginBurst and FinishBurst, Keep and
  // KeepDocument collect the files instead of writing each, and AlreadyKept counts a collected
  // message as kept. FinishBurst writes them all durably together (one sync: FileSystem::
  // WriteFilesDurably), and only then records the messages' ids in the journal — in the caller's
  // journal batch, which the caller commits next. On an error nothing is recorded and the
  // burst's deliveries must not be acknowledged.
  void BeginBurst();
  core::Status FinishBurst();
  size_t burst_size() const { return burst_files_.size(); }

  const std::filesystem::path& folder() const { return inbox_; }
  FileSystem& files() { return files_; }

 private:
  std::filesystem::path inbox_;
  store::AgentJournal& journal_;
  FileSystem& files_;
  bool in_burst_ = false;
  std::vector<std::pair<std::string, std::string>> burst_files_;  // name → document
  std::unordered_set<std::string> burst_names_;                   // burst_files_' names
  std::map<std::string, core::ReceivedRecord> burst_received_;    // message id → record
};

}  // namespace stafett::agent
