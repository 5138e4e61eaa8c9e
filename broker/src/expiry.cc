// Broker expiry and withholding: messages not delivered by their expires_at end as expired, and
// the messages waiting under a consent that is revoked end as withheld — each recipient through
// the dispatcher's FinishRecipient, so the delivery state machine's actions are done once.
#include <spdlog/spdlog.h>

#include "broker.h"

namespace stafett::broker {

using core::Code;
using core::Status;
using core::delivery::State;

void Broker::ExpireDue(core::Micros now) {
  // Only keys due by NOW: the entries of delivered messages, deleted but not yet compacted
  // away, lie beyond it (their expiry is days ahead), and the bound stops the walk there.
  std::vector<std::pair<core::Micros, std::string>> due;
  Status scanned =
      store_->ScanExpiredBy(now, [&](core::Micros expires_at, std::string_view message_id) {
        due.emplace_back(expires_at, std::string(message_id));
        return due.size() < 1000;
      });
  if (!scanned.ok()) {
    spdlog::error("event=expiry_unreadable error=\"{}\"", scanned.message());
  }
  for (const auto& [expires_at, message_id] : due) {
    core::Result<std::optional<core::MessageState>> state = LoadMessage(message_id);
    if (state.ok() && state->has_value()) {
      for (const std::string& recipient : (*state)->to) {
        FinishRecipient(message_id, **state, recipient, State::kExpired, Code::kExpired, now);
      }
    }
    cycle_.transaction.DeleteExpiry(expires_at, message_id);
    ++cycle_.events;
  }
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
