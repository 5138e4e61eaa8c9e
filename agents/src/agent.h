// Agent: one agency endpoint's agent, wired together. Threads: the connection thread (owns the
// DEALER socket and its monitor; runs Inbox and the Sender's answer callbacks), the outbox
// watcher thread, httplib's server threads, and the caller's (main) thread, which only starts
// and stops. Thread-safety: Start()/Stop() from one thread.
#pragma once

#include <memory>
#include <optional>

#include "agent_config.h"
#include "connection.h"
#include "consent_sync.h"
#include "http_api.h"
#include "inbox.h"
#include "metrics.h"
#include "outbox_files.h"
#include "outbox_watcher.h"
#include "retention.h"
#include "sender.h"
#include "stafett/core/clock.h"
#include "stafett/core/pseudonym.h"
#include "stafett/store/agent_journal.h"
#include "storage.h"
#include "trust.h"

namespace stafett::agent {

class Agent final : public ConnectionHandler {
 public:
  // Loads keys, directory, pseudonym key, opens the journal and prepares the folders. Errors are
  // one line: what and where.
  static core::Result<std::unique_ptr<Agent>> Create(const AgentConfig& config,
                                                     const core::Clock& clock);
  ~Agent() override;

  // Starts the connection, the outbox watcher and the HTTP API (a busy port fails here).
  core::Status Start();
  void Stop();

  Metrics& metrics() { return metrics_; }

  // ConnectionHandler.
  std::vector<std::string> PendingIds() override { return sender_->PendingIds(); }
  std::optional<core::Envelope> PendingEnvelope(const std::string& id) override {
    return sender_->PendingEnvelope(id);
  }
  void OnAccepted(const nlohmann::json& accepted) override { sender_->OnAccepted(accepted); }
  void OnRefused(const nlohmann::json& refused) override { sender_->OnRefused(refused); }
  std::optional<Reply> OnDeliver(const nlohmann::json& meta, core::Envelope envelope) override {
    return inbox_->Deliver(meta, envelope);
  }
  bool OnReceipt(const nlohmann::json& receipt) override;
  void OnSessionReady() override { consent_sync_->OnSessionReady(); }
  // Group commit of a burst (docs/AGENT.md): the inbox files first, one sync; then the
  // journal's batch, one synced write; then the outbox moves; then the replies may go.
  void BeginBurst() override;
  bool EndBurst() override;

 private:
  Agent(const AgentConfig& config, const core::Clock& clock, Trust trust,
        core::PseudonymKey pseudonym_key);

  AgentConfig config_;
  const core::Clock& clock_;
  Trust trust_;
  core::PseudonymKey pseudonym_key_;
  int data_dir_lock_ = -1;  // flock on data_dir/agent.lock: one agent per data_dir
  Metrics metrics_;
  std::unique_ptr<store::AgentJournal> journal_;
  std::unique_ptr<Storage> storage_;
  OutboxFiles outbox_;
  std::unique_ptr<Sender> sender_;
  std::unique_ptr<Inbox> inbox_;
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<ConsentSync> consent_sync_;
  std::unique_ptr<OutboxWatcher> watcher_;
  std::unique_ptr<Retention> retention_;
  std::unique_ptr<RetentionSweeper> sweeper_;
  std::unique_ptr<HttpApi> http_;
};

}  // namespace stafett::agent
