// InboxFiles: how a received message is kept — the inbox file inbox/<message_id>.json written
// durably first, the id recorded in the journal (store::AgentJournal) second, and only then may
// the agent acknowledge it (DELIVERED). A redelivery finds the id in the journal, or the file
// itself when a crash came between the two, and is never written again. Inbox uses it; the
// agent-level power-loss test (tests/agents/agent_power_loss_test.cc) drives the same calls.
// Thread-safety: called on the connection thread only.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

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

  const std::filesystem::path& folder() const { return inbox_; }
  FileSystem& files() { return files_; }

 private:
  std::filesystem::path inbox_;
  store::AgentJournal& journal_;
  FileSystem& files_;
};

}  // namespace stafett::agent
