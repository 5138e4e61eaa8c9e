// Agent: construction order (trust, journal, folders) and start/stop order of the threads.
#include "agent.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "file_util.h"
#include "source_key.h"
#include "stafett/keys/pseudonym_key_file.h"
#include "stafett/store/rocksdb_agent_journal.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {
// The retention's passes (docs/PRIVACY.md, "At the agents"): one shortly after start, then
// hourly.
constexpr std::chrono::seconds kFirstRetentionPass{60};
constexpr std::chrono::seconds kRetentionPassInterval{3600};
}  // namespace

Agent::Agent(const AgentConfig& config, const core::Clock& clock, Trust trust,
             core::PseudonymKey pseudonym_key)
    : config_(config),
      clock_(clock),
      trust_(std::move(trust)),
      pseudonym_key_(std::move(pseudonym_key)),
      outbox_(config.outbox) {}

Agent::~Agent() {
  Stop();
  // In member order reversed, the journal last, then the data_dir lock: the next agent on this
  // data_dir opens the journal only after this one closed it.
  http_.reset();
  sweeper_.reset();
  retention_.reset();
  watcher_.reset();
  connection_.reset();
  consent_sync_.reset();  // after the connection thread, which runs its answers
  inbox_.reset();
  sender_.reset();
  storage_.reset();
  journal_.reset();
  if (data_dir_lock_ >= 0) ::close(data_dir_lock_);
}

core::Result<std::unique_ptr<Agent>> Agent::Create(const AgentConfig& config,
                                                   const core::Clock& clock) {
  // As in Broker::Create: spdlog's registry exists before the agent's threads log.
  spdlog::default_logger_raw();
  core::Result<Trust> trust = Trust::Load(config.trust_directory, config.keys_dir, config.id);
  if (!trust.ok()) return trust.status();
  core::Result<core::PseudonymKey> pseudonym_key = keys::LoadPseudonymKeyFile(config.pseudonym_key);
  if (!pseudonym_key.ok()) return pseudonym_key.status();
  std::unique_ptr<Agent> agent(
      new Agent(config, clock, std::move(trust).value(), std::move(pseudonym_key).value()));
  STAFETT_RETURN_IF_ERROR(agent->outbox_.Prepare());
  STAFETT_RETURN_IF_ERROR(EnsureWritableFolder(config.inbox));
  STAFETT_RETURN_IF_ERROR(EnsureWritableFolder(config.data_dir));
  core::Result<int> lock = LockDataDir(config.data_dir);
  if (!lock.ok()) return lock.status();
  agent->data_dir_lock_ = *lock;
  core::Result<std::unique_ptr<store::AgentJournal>> journal =
      store::OpenRocksDbAgentJournal(config.data_dir / "journal");
  if (!journal.ok()) return journal.status();
  agent->journal_ = std::move(journal).value();
  store::AgentJournal* journal_ptr = agent->journal_.get();
  agent->storage_ = std::make_unique<Storage>(agent->config_, clock,
                                              [journal_ptr] { return journal_ptr->Resume(); });
  Storage* storage_ptr = agent->storage_.get();
  agent->journal_->set_write_observer(
      [storage_ptr](const Status& status) { storage_ptr->NoteWrite(status, "journal"); });
  agent->sender_ =
      std::make_unique<Sender>(agent->config_, agent->trust_, agent->pseudonym_key_,
                               *agent->journal_, agent->metrics_, agent->outbox_, clock);
  agent->inbox_ = std::make_unique<Inbox>(agent->config_, agent->trust_, agent->pseudonym_key_,
                                          *agent->journal_, agent->metrics_, clock);
  agent->connection_ =
      std::make_unique<Connection>(agent->config_, agent->trust_, *agent, agent->metrics_, clock,
                                   core::SystemRandom::Instance());
  agent->sender_->set_connection(agent->connection_.get());
  agent->sender_->set_storage(storage_ptr);
  agent->inbox_->set_storage(storage_ptr);
  agent->consent_sync_ =
      std::make_unique<ConsentSync>(agent->config_, *agent->journal_, *agent->connection_);
  agent->inbox_->set_consent_sync(agent->consent_sync_.get());
  agent->metrics_.SetBacklogSource([journal_ptr] { return journal_ptr->pending_count(); });
  agent->watcher_ = std::make_unique<OutboxWatcher>(agent->outbox_, *agent->sender_,
                                                    static_cast<size_t>(config.max_document_bytes),
                                                    config.rescan_seconds, clock);
  agent->watcher_->set_max_pending(static_cast<size_t>(config.max_pending));
  agent->retention_ = std::make_unique<Retention>(agent->config_, *agent->journal_,
                                                  OutboxNameKey(agent->pseudonym_key_.bytes()),
                                                  clock, &agent->metrics_);
  agent->sweeper_ = std::make_unique<RetentionSweeper>(*agent->retention_, kFirstRetentionPass,
                                                       kRetentionPassInterval);
  agent->http_ =
      std::make_unique<HttpApi>(agent->config_, *agent->sender_, *agent->connection_,
                                *agent->storage_, agent->pseudonym_key_, agent->metrics_);
  agent->http_->set_consent_sync(agent->consent_sync_.get());
  agent->http_->set_retention(agent->retention_.get());
  return agent;
}

Status Agent::Start() {
  // The HTTP port first: a busy port is a start-up error, before anything is sent.
  if (!config_.http_bind.empty()) STAFETT_RETURN_IF_ERROR(http_->Start());
  STAFETT_RETURN_IF_ERROR(connection_->Start());
  STAFETT_RETURN_IF_ERROR(watcher_->Start());
  sweeper_->Start();
  spdlog::info("event=agent_started id={} broker={} pending={}", config_.id, config_.broker_zmq,
               journal_->pending_count());
  return Status::Ok();
}

void Agent::Stop() {
  if (http_) http_->Stop();
  if (sweeper_) sweeper_->Stop();
  if (watcher_) watcher_->Stop();
  if (connection_) connection_->Stop();
}

void Agent::BeginBurst() {
  journal_->BeginBatch();
  inbox_->BeginBurst();
}

bool Agent::EndBurst() {
  // The files before the ids that say they are written: a crash between the two leaves files
  // whose redelivery finds them (InboxFiles::AlreadyKept).
  Status written = inbox_->FinishBurst();
  if (!written.ok()) {
    journal_->AbortBatch();
    sender_->FinishBurst(false);
    return false;
  }
  Status committed = journal_->CommitBatch();
  if (!committed.ok()) {
    spdlog::error("event=journal_failed burst=true error=\"{}\"", committed.message());
  }
  sender_->FinishBurst(committed.ok());
  return committed.ok();
}

bool Agent::OnReceipt(const nlohmann::json& receipt) {
  ++metrics_.receipts;
  // A receipt that does not verify is neither written nor recorded; it is ACKed all the same,
  // so that the broker does not send it again and again (docs/AGENT.md, "Receipts").
  if (!sender_->AdmitReceipt(receipt)) return true;
  if (!inbox_->WriteReceipt(receipt)) return false;
  sender_->OnReceipt(receipt);
  return true;
}

}  // namespace stafett::agent
