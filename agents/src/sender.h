// Sender: the one send pipeline behind both the outbox and POST /v1/messages — validate,
// pseudonymise, build and seal the envelope, journal it (synced) before the first send, hand it
// to the connection; then apply the broker's answers: journal state, outbox file moves, the
// consent table, and the statuses GET /v1/messages/{id} reports.
// Thread-safety: Submit() and Status() may be called from any thread (Submit is serialised by
// a mutex); the On*() callbacks run on the connection thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "agent_config.h"
#include "document.h"
#include "metrics.h"
#include "outbox_files.h"
#include "stafett/core/clock.h"
#include "stafett/core/pseudonym.h"
#include "stafett/core/records/outgoing_record.h"
#include "stafett/store/agent_journal.h"
#include "trust.h"

namespace stafett::agent {

class Connection;
class Storage;

struct SubmitResult {
  std::string message_id;             // "" if refused before an id was known
  std::string status;                 // pending, accepted, refused, delivered, expired, withheld
  core::Status refusal;               // not ok: refused (locally or by the broker)
  std::vector<std::string> pointers;  // for schema errors
};

class Sender {
 public:
  Sender(const AgentConfig& config, const Trust& trust, const core::PseudonymKey& pseudonym_key,
         store::AgentJournal& journal, Metrics& metrics, const OutboxFiles& outbox,
         const core::Clock& clock);

  void set_connection(Connection* connection) { connection_ = connection; }
  // The agent's own disk: below its floor a new document is refused STORAGE_FULL (retryable).
  void set_storage(Storage* storage) { storage_ = storage; }

  // Takes a document into the pipeline. FILE_NAME is the outbox file it came from ("" for
  // HTTP); a file whose name and content were seen before maps to the same message. A local
  // refusal is returned, not filed: the caller moves the file.
  SubmitResult Submit(std::string_view text, const std::string& file_name);
  // Submit for a burst of outbox files, (content, file name) each, as one journal batch: one
  // synced write for all the new messages, then they are handed to the connection. A batch that
  // cannot be written turns each message taken in it into UNAVAILABLE (or STORAGE_FULL), and the
  // caller leaves those files for the next scan. Results in the order of DOCUMENTS.
  struct Document {
    std::string text;
    std::string file_name;
  };
  std::vector<SubmitResult> SubmitAll(const std::vector<Document>& documents);
  // Waits up to MILLIS for ID to leave "pending"; returns its status then.
  SubmitResult WaitForOutcome(const std::string& message_id, int64_t millis);
  // The current status of an outgoing message, or nullopt if unknown.
  std::optional<SubmitResult> Status(const std::string& message_id);
  // Whether the broker's last answer to this agent was STORAGE_FULL (cleared by an ACCEPTED).
  bool broker_storage_full() const { return broker_storage_full_.load(); }

  // Connection-thread callbacks.
  std::vector<std::string> PendingIds() { return journal_.PendingIds(); }
  // Messages journalled and not yet answered by the broker.
  size_t pending_count() const { return journal_.pending_count(); }
  std::optional<core::Envelope> PendingEnvelope(const std::string& message_id);
  void OnAccepted(const nlohmann::json& accepted);
  void OnRefused(const nlohmann::json& refused);
  // Whether a RECEIPT may be written to the inbox and recorded: a "delivered" one only if the
  // recipient's signature verifies against the envelope this agent journalled
  // (CheckDeliveryReceipt). A refused one is journalled as the recipient's `receipt_invalid`
  // (unless a verified receipt came first), logged (event=receipt_invalid) and counted; the
  // message stays accepted, and GET /v1/messages/{id} says why.
  bool AdmitReceipt(const nlohmann::json& receipt);
  // Updates the sent message's per-recipient status from an admitted RECEIPT.
  void OnReceipt(const nlohmann::json& receipt);
  // Group commit, on the connection thread: while the journal's batch is open the outbox files
  // of messages answered are moved only once it is committed — FinishBurst(true) moves them
  // (one sync per folder: OutboxFiles::MoveAllToSent) and wakes WaitForOutcome; with false (not
  // committed) they stay, and the message's resend brings the answer again.
  void FinishBurst(bool committed);

 private:
  // Submit under submit_mutex_; the id of a message journalled now is added to PUBLISH (sent
  // once the batch is committed) or, without PUBLISH, handed to the connection at once.
  SubmitResult SubmitLocked(std::string_view text, const std::string& file_name, core::Micros now,
                            std::vector<std::string>* publish);
  SubmitResult Refuse(core::Code code, std::string message, std::vector<std::string> pointers,
                      std::string message_id = "");
  // The refusal of a message its journal write did not take (FAILURE): STORAGE_FULL on a full
  // disk, else UNAVAILABLE — both mean "hand it over again later".
  SubmitResult RefuseUnjournalled(const core::Status& failure, std::string message_id);
  SubmitResult FromRecord(const core::OutgoingRecord& record) const;
  // Consent events the agent refuses itself: a grant already past its valid_until
  // (kConsentExpired), a revocation of a consent it knows as revoked (kConsentRevoked).
  SubmitResult CheckConsentEvent(const OutgoingDocument& document, core::Micros now);
  // Whether the journal holds MESSAGE_ID as refused by the broker (its id is free again).
  bool IsRefused(const std::string& message_id);
  // Adds FILE_NAME to an existing message; moves it at once if the outcome is known.
  SubmitResult Attach(const std::string& message_id, const std::string& file_name);
  void Accept(const std::string& message_id, bool duplicate);
  // Moves the outbox files of a message with an outcome (accepted → sent/, refused → rejected/).
  void MoveFiles(const std::string& message_id);
  // The refused files of MESSAGE_ID moved to rejected/ now; those for sent/ added to TO_SENT
  // as (name, message id).
  void MoveFilesOf(const std::string& message_id,
                   std::vector<std::pair<std::string, std::string>>* to_sent);
  // Notes FILE_NAME as a file of MESSAGE_ID, in memory only: the journal keeps no file names.
  // After a restart the first outbox scan finds the files again by their source keys.
  void RememberFile(const std::string& message_id, const std::string& file_name);
  void RecordOwnConsent(const core::OutgoingRecord& record);
  // The receipt check of AdmitReceipt for a "delivered" RECEIPT.
  core::Status CheckDelivered(const nlohmann::json& receipt);
  void Notify();

  const AgentConfig& config_;
  const Trust& trust_;
  const core::PseudonymKey& pseudonym_key_;
  store::AgentJournal& journal_;
  Metrics& metrics_;
  const OutboxFiles& outbox_;
  const core::Clock& clock_;
  Connection* connection_ = nullptr;
  Storage* storage_ = nullptr;
  const std::string name_key_;  // keys the hashes of outbox file names (SourceKey)

  std::mutex files_mutex_;
  std::map<std::string, std::vector<std::string>> files_;  // message id → outbox files to move

  // Message ids whose files move once the open batch is committed, by the batch's thread (the
  // connection's, or the outbox watcher's); guarded by files_mutex_.
  std::map<std::thread::id, std::vector<std::string>> burst_moves_;

  std::atomic<bool> broker_storage_full_{false};
  std::mutex submit_mutex_;  // one document at a time through seal + journal
  std::mutex wait_mutex_;
  std::condition_variable outcome_;  // notified on every answer from the broker
};

// The overall status of a sent message from its journal record: the broker's answer, then
// the recipients' receipts (withheld > expired > delivered once every recipient has one).
std::string OverallStatus(const core::OutgoingRecord& record);

}  // namespace stafett::agent
