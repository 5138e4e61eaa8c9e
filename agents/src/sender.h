// Sender: the one send pipeline behind both the outbox and POST /v1/messages — validate,
// pseudonymise, build and seal the envelope, journal it (synced) before the first send, hand it
// to the connection; then apply the broker's answers: journal state, outbox file moves, the
// consent table, and the statuses GET /v1/messages/{id} reports.
// Thread-safety: Submit() and Status() may be called from any thread (Submit is serialised by
// a mutex); the On*() callbacks run on the connection thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent_config.h"
#include "journal.h"
#include "metrics.h"
#include "outbox_files.h"
#include "stafett/core/clock.h"
#include "stafett/core/pseudonym.h"
#include "trust.h"

namespace stafett::agent {

class Connection;

struct SubmitResult {
  std::string message_id;             // "" if refused before an id was known
  std::string status;                 // pending, accepted, refused, delivered, expired, withheld
  core::Status refusal;               // not ok: refused (locally or by the broker)
  std::vector<std::string> pointers;  // for schema errors
};

class Sender {
 public:
  Sender(const AgentConfig& config, const Trust& trust, const core::PseudonymKey& pseudonym_key,
         Journal& journal, Metrics& metrics, const OutboxFiles& outbox, const core::Clock& clock);

  void set_connection(Connection* connection) { connection_ = connection; }

  // Takes a document into the pipeline. FILE_NAME is the outbox file it came from ("" for
  // HTTP); a file whose name and content were seen before maps to the same message. A local
  // refusal is returned, not filed: the caller moves the file.
  SubmitResult Submit(std::string_view text, const std::string& file_name);
  // Waits up to MILLIS for ID to leave "pending"; returns its status then.
  SubmitResult WaitForOutcome(const std::string& message_id, int64_t millis);
  // The current status of an outgoing message, or nullopt if unknown.
  std::optional<SubmitResult> Status(const std::string& message_id);

  // Connection-thread callbacks.
  std::vector<std::string> PendingIds() { return journal_.PendingIds(); }
  std::optional<core::Envelope> PendingEnvelope(const std::string& message_id);
  void OnAccepted(const nlohmann::json& accepted);
  void OnRefused(const nlohmann::json& refused);
  // Updates the sent message's per-recipient status from a RECEIPT.
  void OnReceipt(const nlohmann::json& receipt);

 private:
  SubmitResult Refuse(core::Code code, std::string message, std::vector<std::string> pointers,
                      std::string message_id = "");
  SubmitResult FromRecord(const nlohmann::json& record) const;
  // Adds FILE_NAME to an existing message; moves it at once if the outcome is known.
  SubmitResult Attach(const std::string& message_id, const std::string& file_name);
  void Accept(const std::string& message_id, bool duplicate);
  void MoveFiles(const std::string& message_id);
  void RecordOwnConsent(const nlohmann::json& record);
  void Notify();

  const AgentConfig& config_;
  const Trust& trust_;
  const core::PseudonymKey& pseudonym_key_;
  Journal& journal_;
  Metrics& metrics_;
  const OutboxFiles& outbox_;
  const core::Clock& clock_;
  Connection* connection_ = nullptr;

  std::mutex submit_mutex_;  // one document at a time through seal + journal
  std::mutex wait_mutex_;
  std::condition_variable outcome_;  // notified on every answer from the broker
};

// The overall status of a sent message from its journal record: the broker's answer, then
// the recipients' receipts (withheld > expired > delivered once every recipient has one).
std::string OverallStatus(const nlohmann::json& record);

}  // namespace stafett::agent
