// Broker expiry, retention and withholding: messages not delivered by their expires_at end as
// expired, and the messages waiting under a consent that is revoked end as withheld — each
// recipient through the dispatcher's FinishRecipient, so the delivery state machine's actions
// are done once; finished messages' states go a grace period after their expiry (retention).
#include <spdlog/spdlog.h>

#include "broker.h"

namespace stafett::broker {

using core::Code;
using core::Status;
using core::delivery::State;

void Broker::ExpireDue(core::Micros now) {
  // The expiry index holds, per message, when something is next due: its expiry while a
  // recipient is queued, and with retention on, once it is finished, the end of its grace
  // period (docs/PRIVACY.md). Only keys due by NOW are read: the deleted keys of finished
  // messages, not yet compacted away, lie beyond it, and the bound stops the walk there.
  std::vector<std::pair<core::Micros, std::string>> due;
  Status scanned =
      store_->ScanExpiredBy(now, [&](core::Micros expires_at, std::string_view message_id) {
        due.emplace_back(expires_at, std::string(message_id));
        return due.size() < 1000;
      });
  if (!scanned.ok()) {
    spdlog::error("event=expiry_unreadable error=\"{}\"", scanned.message());
  }
  uint64_t retired = 0, dead_letters = 0;
  uint64_t first_seq = UINT64_MAX, last_seq = 0;
  for (const auto& [expires_at, message_id] : due) {
    core::Result<std::optional<core::MessageState>> state = LoadMessage(message_id);
    if (state.ok() && state->has_value() && (*state)->status == core::MessageStatus::kAccepted) {
      for (const std::string& recipient : (*state)->to) {
        FinishRecipient(message_id, **state, recipient, State::kExpired, Code::kExpired, now);
      }
    } else if (state.ok() && state->has_value()) {
      if (config_.retention_grace_seconds > 0) {
        uint64_t seq = (*state)->seq;
        if (Retire(message_id, **state, expires_at, now, &dead_letters)) {
          ++retired;
          first_seq = std::min(first_seq, seq);
          last_seq = std::max(last_seq, seq);
        }
        continue;
      }
    }
    cycle_.transaction.DeleteExpiry(expires_at, message_id);
    ++cycle_.events;
  }
  if (retired == 0) return;
  // One audit record per pass: what was removed, by policy, so that an auditor can tell a
  // message whose state is gone by retention from one that was lost. The messages' own
  // records — acceptance and outcome per recipient — stay in the log.
  AuditRecord record;
  record.event = "retention";
  record.retention = {
      {"removed", "message_states"},  {"messages", retired},
      {"dead_letters", dead_letters}, {"accepted_seq_from", first_seq},
      {"accepted_seq_to", last_seq},  {"grace_seconds", config_.retention_grace_seconds}};
  AppendAudit(now, record);
  cycle_.on_commit.push_back([this, retired, dead_letters] {
    metrics_.CountRetention("message_state", retired);
    metrics_.CountRetention("dead_letter", dead_letters);
  });
  spdlog::info("event=retention removed=message_states messages={} dead_letters={}", retired,
               dead_letters);
}

bool Broker::Retire(const std::string& message_id, const core::MessageState& state,
                    core::Micros due, core::Micros now, uint64_t* dead_letters) {
  cycle_.transaction.DeleteExpiry(due, message_id);
  ++cycle_.events;
  for (const auto& [recipient, delivery] : state.recipients) {
    if (!delivery.receipt_acknowledged_at) {
      // The sender has not yet taken every receipt: its queue still names this message.
      // Nothing unacknowledged is removed; look again a grace period on.
      cycle_.transaction.PutExpiry(now + config_.retention_grace_seconds * 1'000'000, message_id);
      return false;
    }
  }
  cycle_.transaction.DeleteMessageState(message_id);
  for (const auto& [recipient, delivery] : state.recipients) {
    if (delivery.state == core::RecipientState::kDelivered) continue;
    cycle_.transaction.DeleteDeadLetter(message_id, recipient);
    ++*dead_letters;
  }
  cycle_.messages.erase(message_id);
  cycle_.retired.insert(message_id);
  cycle_.on_commit.push_back([this, message_id] { recent_messages_.Forget(message_id); });
  return true;
}

void Broker::WithholdUnderConsent(const std::string& consent_id, Code code, core::Micros now) {
  std::vector<std::string> waiting;
  Status scanned = store_->ScanTrailLinks(core::TrailKind::kConsentWaiting, consent_id,
                                          [&](std::string_view message_id) {
                                            waiting.emplace_back(message_id);
                                            return true;
                                          });
  if (!scanned.ok()) {
    spdlog::error("event=consent_links_unreadable error=\"{}\"", scanned.message());
  }
  for (const std::string& message_id : waiting) {
    core::Result<std::optional<core::MessageState>> state = LoadMessage(message_id);
    if (!state.ok() || !state->has_value()) continue;
    for (const std::string& recipient : (*state)->to) {
      FinishRecipient(message_id, **state, recipient, State::kWithheld, code, now);
    }
  }
}

}  // namespace stafett::broker
