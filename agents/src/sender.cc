// Sender: document → envelope → journal → connection, and the broker's answers back.
#include "sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "connection.h"
#include "document.h"
#include "receipt_check.h"
#include "source_key.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"
#include "stafett/core/ids.h"
#include "stafett/core/rules.h"
#include "storage.h"

namespace stafett::agent {

using core::Code;

namespace {

using core::OutgoingRecord;
using core::OutgoingState;
using core::ReceiptStatus;

constexpr std::string_view kStatePending = "pending";
constexpr std::string_view kStateAccepted = "accepted";

// TEXT cut to at most MAX bytes, not inside a UTF-8 sequence (a stored string must stay UTF-8).
std::string CutUtf8(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

bool IsRetryable(std::optional<Code> code) {
  return code == Code::kStorageFull || code == Code::kUnavailable;
}

}  // namespace

std::string OverallStatus(const OutgoingRecord& record) {
  if (record.state != OutgoingState::kAccepted) {
    return std::string(core::OutgoingStateName(record.state));
  }
  bool withheld = false, expired = false;
  size_t delivered = 0;
  for (const auto& [id, outcome] : record.recipients) {
    withheld = withheld || outcome.status == ReceiptStatus::kWithheld;
    expired = expired || outcome.status == ReceiptStatus::kExpired;
    delivered += outcome.verified_delivery() ? 1 : 0;
  }
  if (withheld) return "withheld";
  if (expired) return "expired";
  if (!record.to.empty() && delivered >= record.to.size()) return "delivered";
  return std::string(kStateAccepted);
}

Sender::Sender(const AgentConfig& config, const Trust& trust,
               const core::PseudonymKey& pseudonym_key, store::AgentJournal& journal,
               Metrics& metrics, const OutboxFiles& outbox, const core::Clock& clock)
    : config_(config),
      trust_(trust),
      pseudonym_key_(pseudonym_key),
      journal_(journal),
      metrics_(metrics),
      outbox_(outbox),
      clock_(clock),
      name_key_(OutboxNameKey(pseudonym_key.bytes())) {}

SubmitResult Sender::Refuse(Code code, std::string message, std::vector<std::string> pointers,
                            std::string message_id) {
  ++metrics_.refused_locally;
  spdlog::info("event=refused_locally message_id={} code={}", message_id, core::CodeName(code));
  return SubmitResult{std::move(message_id), "refused", core::Status(code, std::move(message)),
                      std::move(pointers)};
}

// The journal record as GET /v1/messages/{id} and POST answer it (docs/AGENT.md, "HTTP API").
SubmitResult Sender::FromRecord(const OutgoingRecord& record) const {
  SubmitResult result;
  result.message_id = record.message_id;
  result.status = OverallStatus(record);
  if (record.state == OutgoingState::kPending && record.retry_code != Code::kOk) {
    // Why it is still pending: the broker's last answer was a refusal to retry later.
    result.refusal = core::Status(
        record.retry_code, record.retry_code == Code::kStorageFull
                               ? "the broker is short of storage; the message is kept and retried"
                               : "the broker is not available; the message is kept and retried");
  } else if (record.state == OutgoingState::kRefused) {
    result.refusal = core::Status(record.refusal_code, record.refusal_message);
  } else if (result.status == "withheld" || result.status == "expired") {
    for (const auto& [id, outcome] : record.recipients) {
      if (core::ReceiptStatusName(outcome.status) == result.status) {
        result.refusal = core::Status(outcome.code, "");
        break;
      }
    }
  } else if (result.status == kStateAccepted) {
    // Accepted, and a receipt came that did not verify: say so, it is why it is not delivered.
    for (const auto& [id, outcome] : record.recipients) {
      if (outcome.status == ReceiptStatus::kDelivered && outcome.code != Code::kOk) {
        result.refusal = core::Status(
            outcome.code, "the delivery receipt for " + id +
                              " did not verify; the message is not counted as delivered to it");
        break;
      }
    }
  }
  return result;
}

SubmitResult Sender::RefuseUnjournalled(const core::Status& failure, std::string message_id) {
  if (failure.code() == Code::kStorageFull) {
    return Refuse(Code::kStorageFull,
                  "the agent's disk is full; the message was not taken: hand it over again later",
                  {}, std::move(message_id));
  }
  return Refuse(Code::kUnavailable, "the agent could not journal the message; retry", {},
                std::move(message_id));
}

SubmitResult Sender::Submit(std::string_view text, const std::string& file_name) {
  core::Micros now = clock_.Now();
  std::lock_guard<std::mutex> lock(submit_mutex_);
  return SubmitLocked(text, file_name, now, nullptr);
}

std::vector<SubmitResult> Sender::SubmitAll(const std::vector<Document>& documents) {
  std::vector<SubmitResult> results;
  results.reserve(documents.size());
  std::vector<std::string> publish;
  core::Status committed;
  {
    // submit_mutex_ before the journal's batch, as Submit takes them (no lock-order inversion).
    std::lock_guard<std::mutex> lock(submit_mutex_);
    journal_.BeginBatch();
    for (const Document& document : documents) {
      results.push_back(SubmitLocked(document.text, document.file_name, clock_.Now(), &publish));
    }
    committed = journal_.CommitBatch();
  }
  if (!committed.ok()) {
    spdlog::error("event=journal_failed documents={} error=\"{}\"", publish.size(),
                  committed.message());
    for (SubmitResult& result : results) {
      if (std::find(publish.begin(), publish.end(), result.message_id) == publish.end()) continue;
      result = RefuseUnjournalled(committed, result.message_id);
    }
    publish.clear();
  }
  FinishBurst(committed.ok());
  if (connection_ != nullptr) {
    for (const std::string& id : publish) connection_->Publish(id);
  }
  return results;
}

SubmitResult Sender::SubmitLocked(std::string_view text, const std::string& file_name,
                                  core::Micros now, std::vector<std::string>* publish) {
  ++metrics_.submitted;
  std::string source_key = file_name.empty() ? "" : SourceKey(name_key_, file_name, text);
  if (!source_key.empty()) {
    core::Result<std::optional<core::SourceEntry>> known = journal_.FindBySource(source_key);
    // A file seen before maps to its message, unless the broker refused that message: only an
    // accepted message occupies its id, so a refused one is sealed and sent again.
    if (known.ok() && known->has_value() && !IsRefused((**known).message_id)) {
      return Attach((**known).message_id, file_name);
    }
  }
  DocumentError error;
  std::optional<OutgoingDocument> document =
      ParseOutgoingDocument(text, static_cast<size_t>(config_.max_document_bytes), now, &error);
  if (!document) return Refuse(error.status.code(), error.status.message(), error.pointers);
  for (const std::string& recipient : document->to) {
    if (!trust_.IsEndpoint(recipient)) {
      return Refuse(Code::kUnknownRecipient, "unknown recipient " + recipient, {"/to"},
                    document->message_id);
    }
  }
  std::string message_id =
      document->message_id.empty() ? core::NewMessageId(now) : document->message_id;
  core::Result<std::optional<OutgoingRecord>> existing = journal_.GetOutgoing(message_id);
  if (!existing.ok()) return Refuse(existing.status().code(), existing.status().message(), {});
  // SHA-256 of the document in canonical form, so the same document over HTTP or as a file,
  // however formatted, has one digest.
  std::string digest = core::Sha256(document->canonical);
  if (existing->has_value() && (**existing).state != OutgoingState::kRefused) {
    // A resend counts only when it is the same document; another one under a used id is refused.
    if ((**existing).document_digest != digest) {
      return Refuse(Code::kDuplicate,
                    "the message id " + message_id +
                        " was already used for a different document; give this one a new "
                        "message_id",
                    {"/message_id"}, message_id);
    }
    if (!source_key.empty()) journal_.PutSource(source_key, {message_id}).ok();
    return Attach(message_id, file_name);
  }
  if (existing->has_value()) {
    spdlog::info("event=retry_after_refusal message_id={} code={}", message_id,
                 core::CodeName((**existing).refusal_code));
  }
  SubmitResult consent_refusal = CheckConsentEvent(*document, now);
  if (!consent_refusal.refusal.ok()) return consent_refusal;
  if (storage_ != nullptr) {
    // Short of space the agent takes no new work rather than fail halfway (what is journalled
    // already is still sent and its answers recorded while the disk allows).
    core::Status room = storage_->Check();
    if (!room.ok()) {
      return Refuse(Code::kStorageFull,
                    room.message() + "; the message was not taken: hand it over again later", {},
                    message_id);
    }
  }

  const OwnKeySet& own = trust_.CurrentOwn(now);
  core::Header header;
  header.message_id = message_id;
  header.type = document->type;
  header.from = config_.id;
  header.to = document->to;
  header.subject = core::Pseudonymise(pseudonym_key_, document->personnummer);
  header.consent_id = document->consent_id;
  header.consent = document->scope;
  header.ref = document->ref;
  header.sent_at = now;
  int64_t ttl = document->ttl_seconds > 0 ? document->ttl_seconds : config_.default_ttl_seconds;
  header.expires_at = now + ttl * 1'000'000;
  header.sender_key_id = own.key_id;
  std::vector<core::RecipientKey> recipients;
  for (const std::string& recipient : document->to) {
    core::Result<core::RecipientKey> key = trust_.CurrentEncryptionKey(recipient, now);
    if (!key.ok()) {
      return Refuse(key.status().code(), key.status().message(), {"/to"}, message_id);
    }
    recipients.push_back(std::move(key).value());
  }
  nlohmann::json plaintext = {
      {"v", 1}, {"personnummer", document->personnummer.digits12}, {"body", document->body}};
  core::Result<core::Envelope> sealed =
      core::SealEnvelope(header, plaintext.dump(), own.signing, recipients);
  if (!sealed.ok()) {
    return Refuse(sealed.status().code(), sealed.status().message(), {}, message_id);
  }
  OutgoingRecord record;
  record.message_id = message_id;
  record.state = OutgoingState::kPending;
  record.type = header.type;
  record.to = header.to;
  record.subject = header.subject;
  record.consent_id = header.consent_id;
  record.document_digest = digest;
  record.scope = header.consent;
  record.created_at = now;
  core::Status journalled = journal_.AddOutgoing(record, *sealed, source_key);
  if (!journalled.ok()) {
    spdlog::error("event=journal_failed message_id={} error=\"{}\"", message_id,
                  journalled.message());
    return RefuseUnjournalled(journalled, message_id);
  }
  RememberFile(message_id, file_name);
  spdlog::info("event=message_queued message_id={} type={} recipients={}", message_id, header.type,
               header.to.size());
  if (publish != nullptr) {
    publish->push_back(message_id);
  } else if (connection_ != nullptr) {
    connection_->Publish(message_id);
  }
  return SubmitResult{message_id, std::string(kStatePending), {}, {}};
}

SubmitResult Sender::CheckConsentEvent(const OutgoingDocument& document, core::Micros now) {
  if (document.type == "consent_granted" && document.scope && document.scope->valid_until <= now) {
    return Refuse(Code::kConsentExpired, "the consent's valid_until has passed",
                  {"/body/valid_until"}, document.message_id);
  }
  if (document.type == "consent_revoked") {
    core::Result<std::optional<core::ConsentRecord>> known =
        journal_.GetConsent(document.consent_id);
    if (known.ok() && known->has_value() && (**known).facts.revoked) {
      return Refuse(Code::kConsentRevoked, "the consent is revoked already", {"/consent_id"},
                    document.message_id);
    }
  }
  return SubmitResult{};
}

bool Sender::IsRefused(const std::string& message_id) {
  core::Result<std::optional<OutgoingRecord>> record = journal_.GetOutgoing(message_id);
  return record.ok() && record->has_value() && (**record).state == OutgoingState::kRefused;
}

void Sender::RememberFile(const std::string& message_id, const std::string& file_name) {
  if (file_name.empty()) return;
  std::lock_guard<std::mutex> lock(files_mutex_);
  std::vector<std::string>& names = files_[message_id];
  if (std::find(names.begin(), names.end(), file_name) == names.end()) names.push_back(file_name);
}

SubmitResult Sender::Attach(const std::string& message_id, const std::string& file_name) {
  RememberFile(message_id, file_name);
  core::Result<std::optional<OutgoingRecord>> record = journal_.GetOutgoing(message_id);
  if (!record.ok() || !record->has_value()) {
    return SubmitResult{message_id, "pending", {}, {}};
  }
  if ((**record).state != OutgoingState::kPending) MoveFiles(message_id);
  return FromRecord(**record);
}

SubmitResult Sender::WaitForOutcome(const std::string& message_id, int64_t millis) {
  // The deadline is on the injected clock; each wait is for what is left of it (a wait_until
  // would compare the injected clock's time with the real steady clock's).
  auto deadline = clock_.MonotonicNow() + std::chrono::milliseconds(millis);
  std::unique_lock<std::mutex> lock(wait_mutex_);
  for (;;) {
    std::optional<SubmitResult> current = Status(message_id);
    if (!current) return SubmitResult{message_id, "pending", {}, {}};
    auto remaining = deadline - clock_.MonotonicNow();
    if (current->status != kStatePending || remaining <= remaining.zero() ||
        outcome_.wait_for(lock, remaining) == std::cv_status::timeout) {
      return Status(message_id).value_or(*current);
    }
  }
}

std::optional<SubmitResult> Sender::Status(const std::string& message_id) {
  core::Result<std::optional<OutgoingRecord>> record = journal_.GetOutgoing(message_id);
  if (!record.ok() || !record->has_value()) return std::nullopt;
  return FromRecord(**record);
}

std::optional<core::Envelope> Sender::PendingEnvelope(const std::string& message_id) {
  core::Result<std::optional<OutgoingRecord>> record = journal_.GetOutgoing(message_id);
  if (!record.ok() || !record->has_value() || (**record).state != OutgoingState::kPending) {
    return std::nullopt;
  }
  core::Result<std::optional<core::Envelope>> envelope = journal_.GetEnvelope(message_id);
  if (!envelope.ok()) return std::nullopt;
  return *envelope;
}

void Sender::Accept(const std::string& message_id, bool duplicate) {
  bool changed = false;
  core::Status updated = journal_.UpdateOutgoing(message_id, [&](OutgoingRecord& record) {
    if (record.state != OutgoingState::kPending) return false;
    record.state = OutgoingState::kAccepted;
    record.accepted_at = clock_.Now();
    record.retry_code = Code::kOk;
    changed = true;
    return true;
  });
  if (!updated.ok()) {
    spdlog::warn("event=accepted_unknown message_id={} error=\"{}\"", message_id,
                 updated.message());
    return;
  }
  if (!changed) return;
  ++metrics_.accepted;
  spdlog::info("event=accepted message_id={} duplicate={}", message_id, duplicate);
  core::Result<std::optional<OutgoingRecord>> record = journal_.GetOutgoing(message_id);
  if (record.ok() && record->has_value()) RecordOwnConsent(**record);
  MoveFiles(message_id);
}

void Sender::OnAccepted(const nlohmann::json& accepted) {
  broker_storage_full_ = false;
  Accept(accepted.value("message_id", ""), accepted.value("duplicate", false));
  Notify();
}

void Sender::OnRefused(const nlohmann::json& refused) {
  std::string message_id = refused.value("message_id", "");
  std::string code = refused.value("code", std::string(core::CodeName(Code::kInternal)));
  if (message_id.empty()) {
    spdlog::warn("event=refused_without_id code={}", code.substr(0, 32));
    return;
  }
  std::optional<Code> parsed = core::CodeFromName(code);
  if (IsRetryable(parsed)) {
    broker_storage_full_ = parsed == Code::kStorageFull;
    // Still pending and retried; the reason is kept so that GET /v1/messages/{id} can say it.
    Code retry_code = *parsed;
    journal_
        .UpdateOutgoing(message_id,
                        [&](OutgoingRecord& record) {
                          if (record.state != OutgoingState::kPending) return false;
                          if (record.retry_code == retry_code) return false;
                          record.retry_code = retry_code;
                          return true;
                        })
        .ok();
    // Logged once the reason is in the journal: a reader of the log finds it in GET too.
    spdlog::info("event=refused_retry_later message_id={} code={}", message_id, code);
    Notify();
    return;
  }
  bool changed = false;
  // A code outside the catalogue (or "OK") is kept as INTERNAL, as GET reported it before.
  Code refusal_code = parsed.value_or(Code::kInternal);
  if (refusal_code == Code::kOk) refusal_code = Code::kInternal;
  journal_
      .UpdateOutgoing(message_id,
                      [&](OutgoingRecord& record) {
                        if (record.state != OutgoingState::kPending) return false;
                        record.state = OutgoingState::kRefused;
                        record.retry_code = Code::kOk;
                        record.refusal_code = refusal_code;
                        record.refusal_message = CutUtf8(refused.value("message", ""), 500);
                        changed = true;
                        return true;
                      })
      .ok();
  if (changed) {
    ++metrics_.send_failures;
    spdlog::info("event=refused message_id={} code={}", message_id, code.substr(0, 32));
    MoveFiles(message_id);
  }
  Notify();
}

core::Status Sender::CheckDelivered(const nlohmann::json& receipt) {
  std::string message_id = receipt.value("message_id", "");
  core::Result<std::optional<core::Envelope>> envelope = journal_.GetEnvelope(message_id);
  if (!envelope.ok()) return envelope.status();
  if (!envelope->has_value()) {
    return core::Status(Code::kNotFound, "the receipt names a message this agent did not send");
  }
  core::Result<core::Header> sent = core::ParseHeader((**envelope).header_bytes);
  if (!sent.ok()) return core::Status(Code::kCorruption, "the journalled header does not parse");
  return CheckDeliveryReceipt(trust_, *sent, receipt);
}

bool Sender::AdmitReceipt(const nlohmann::json& receipt) {
  if (receipt.value("status", "") != "delivered") return true;
  core::Status checked = CheckDelivered(receipt);
  if (checked.ok()) return true;
  std::string message_id = receipt.value("message_id", "");
  std::string recipient = receipt.value("recipient", "");
  bool valid_ids = core::IsValidMessageId(message_id) && core::IsValidEndpointId(recipient);
  ++metrics_.receipts_invalid;
  // Ids only (they never carry personal data); nothing the broker sent is echoed otherwise.
  spdlog::error("event=receipt_invalid message_id={} recipient={} code={} reason=\"{}\"",
                valid_ids ? message_id : "?", valid_ids ? recipient : "?",
                core::CodeName(checked.code()), checked.message());
  // Recorded against a recipient of the message only (not for an unknown message, nor for a
  // receipt naming someone the message was not sent to).
  if (valid_ids && checked.code() != Code::kNotFound && checked.code() != Code::kProtocolError) {
    journal_
        .UpdateOutgoing(
            message_id,
            [&](OutgoingRecord& record) {
              auto known = record.recipients.find(recipient);
              // A verified receipt stands; a forged one after it changes nothing.
              if (known != record.recipients.end() && known->second.verified_delivery()) {
                return false;
              }
              // Journalled as receipt_invalid: "delivered", with the check's code.
              record.recipients[recipient] =
                  core::RecipientOutcome{ReceiptStatus::kDelivered, checked.code()};
              return true;
            })
        .ok();
  }
  Notify();
  return false;
}

void Sender::OnReceipt(const nlohmann::json& receipt) {
  std::string message_id = receipt.value("message_id", "");
  std::string recipient = receipt.value("recipient", "");
  // A receipt proves acceptance, even if the ACCEPTED itself was lost in a crash.
  Accept(message_id, true);
  std::optional<ReceiptStatus> status = core::ReceiptStatusFromName(receipt.value("status", ""));
  if (status) {
    core::RecipientOutcome outcome{*status, Code::kOk};
    if (*status != ReceiptStatus::kDelivered) {
      // Withheld and expired carry their code; without one GET says EXPIRED, as it always did.
      std::string code = receipt.contains("code") && receipt["code"].is_string()
                             ? receipt["code"].get<std::string>()
                             : "";
      outcome.code = core::CodeFromName(code).value_or(Code::kExpired);
      if (outcome.code == Code::kOk) outcome.code = Code::kExpired;
    }
    journal_
        .UpdateOutgoing(message_id,
                        [&](OutgoingRecord& record) {
                          record.recipients[recipient] = outcome;
                          return true;
                        })
        .ok();
  } else {
    spdlog::warn("event=receipt_status_unknown message_id={}", message_id);
  }
  Notify();
}

void Sender::MoveFiles(const std::string& message_id) {
  if (journal_.in_batch()) {
    // The answer is not durable yet: its files move once the batch is committed.
    std::lock_guard<std::mutex> lock(files_mutex_);
    burst_moves_[std::this_thread::get_id()].push_back(message_id);
    return;
  }
  std::vector<std::pair<std::string, std::string>> to_sent;
  MoveFilesOf(message_id, &to_sent);
  outbox_.MoveAllToSent(to_sent);
}

void Sender::MoveFilesOf(const std::string& message_id,
                         std::vector<std::pair<std::string, std::string>>* to_sent) {
  static std::mutex move_mutex;  // one mover at a time: the outbox thread or the connection's
  std::lock_guard<std::mutex> lock(move_mutex);
  core::Result<std::optional<OutgoingRecord>> loaded = journal_.GetOutgoing(message_id);
  if (!loaded.ok() || !loaded->has_value()) return;
  const OutgoingRecord& record = **loaded;
  if (record.state == OutgoingState::kPending) return;
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> files_lock(files_mutex_);
    auto found = files_.find(message_id);
    if (found == files_.end()) return;
    names = std::move(found->second);
    files_.erase(found);
  }
  for (const std::string& file : names) {
    if (record.state == OutgoingState::kRefused) {
      core::Status refusal(record.refusal_code, record.refusal_message);
      outbox_.MoveToRejected(file, refusal, {}, message_id);
    } else {
      to_sent->emplace_back(file, message_id);
    }
  }
}

void Sender::FinishBurst(bool committed) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(files_mutex_);
    auto found = burst_moves_.find(std::this_thread::get_id());
    if (found != burst_moves_.end()) {
      ids = std::move(found->second);
      burst_moves_.erase(found);
    }
  }
  if (committed && !ids.empty()) {
    std::vector<std::pair<std::string, std::string>> to_sent;
    for (const std::string& id : ids) MoveFilesOf(id, &to_sent);
    outbox_.MoveAllToSent(to_sent);
  }
  Notify();
}

void Sender::RecordOwnConsent(const OutgoingRecord& record) {
  core::ConsentEvent event{record.message_id, std::nullopt, config_.id,
                           record.accepted_at.value_or(clock_.Now())};
  std::optional<core::ConsentRecord> known;
  if (record.type == "consent_revoked") {
    core::Result<std::optional<core::ConsentRecord>> stored =
        journal_.GetConsent(record.consent_id);
    if (stored.ok()) known = *stored;
  }
  std::optional<core::ConsentRecord> learned = core::LearnConsent(
      record.type, record.consent_id, record.subject, config_.id, record.scope, event, known);
  if (learned) journal_.PutConsent(*learned).ok();
}

void Sender::Notify() {
  std::lock_guard<std::mutex> lock(wait_mutex_);
  outcome_.notify_all();
}

}  // namespace stafett::agent
