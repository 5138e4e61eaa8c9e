// Broker dispatcher: sessions and delivery — hello, dispatch within the credit window,
// acknowledgements, redelivery, and FinishRecipient, the delivery state machine's actions.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker.h"
#include "stafett/core/encoding.h"
#include "stafett/core/frames.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;
using core::delivery::State;

namespace {

constexpr size_t kMaxReplacedConnections = 16;  // remembered per endpoint

}  // namespace

void Broker::HandleHello(const Peer& peer, const protocol::Message& message) {
  core::Result<protocol::HelloFrame> hello = protocol::ParseHello(message);
  if (!hello.ok()) {
    metrics_.CountProtocolError("bad_hello");
    return SendError(peer, Code::kProtocolError, hello.status().message());
  }
  protocol::WelcomeFrame welcome;
  welcome.principal = peer.id;
  welcome.max_message_bytes = static_cast<uint64_t>(config_.max_message_bytes);
  welcome.heartbeat_seconds = static_cast<uint64_t>(config_.heartbeat_seconds);
  welcome.max_publishes_per_second =
      static_cast<uint64_t>(std::max<int64_t>(0, config_.max_publishes_per_second));
  welcome.broker_version = STAFETT_VERSION;
  if (peer.role != keys::Role::kEndpoint) {
    Send(peer.routing_id, protocol::Encode(welcome));
    return;
  }
  Session& session = sessions_[peer.id];
  bool reconnect = !session.routing_id.empty() && session.routing_id != peer.routing_id;
  if (reconnect) ReplaceSession(peer, session);
  std::erase(session.replaced_routing_ids, peer.routing_id);  // a replaced one taking it back
  session.routing_id = peer.routing_id;
  session.connected = true;
  session.last_seen = clock_.Now();
  // A new hello starts the session afresh: whatever was in flight is sent again, in order.
  session.in_flight.clear();
  session.cursor = 0;
  int64_t credit = config_.credit_window;
  if (hello->credit) {
    credit = static_cast<int64_t>(
        std::clamp<uint64_t>(*hello->credit, 1, static_cast<uint64_t>(config_.credit_window)));
  }
  session.window = static_cast<size_t>(credit);
  welcome.credit_window = static_cast<uint64_t>(credit);
  Send(peer.routing_id, protocol::Encode(welcome));
  spdlog::info("event=endpoint_connected endpoint={} reconnect={} queued={}", peer.id, reconnect,
               queue_depth_[peer.id]);
  Dispatch(peer.id, clock_.Now());
}

void Broker::ReplaceSession(const Peer& peer, Session& session) {
  // Newest HELLO wins: an agent restarted after a crash must not wait for its old, half-open
  // connection to time out. If the old connection is gone (the usual reconnect) the send
  // fails and that is all; if it is still open, a second process holds this endpoint's keys
  // (or the old connection is half-open): tell it, so that it notices instead of heartbeating
  // into a session that is no longer its own, and make the takeover visible.
  if (!Send(session.routing_id, protocol::Encode(protocol::ErrorFrame{
                                    Code::kSessionReplaced,
                                    "a newer HELLO with this endpoint's key took the session"}))) {
    return;
  }
  session.replaced_routing_ids.push_back(session.routing_id);
  if (session.replaced_routing_ids.size() > kMaxReplacedConnections) {
    session.replaced_routing_ids.pop_front();
  }
  ++session.replaced;
  session.replaced_at = clock_.Now();
  metrics_.CountSessionReplaced(peer.id);
  spdlog::warn("event=session_replaced endpoint={} in_flight={} replaced_total={}", peer.id,
               session.in_flight.size(), session.replaced);
}

bool Broker::OnReplacedConnection(const Peer& peer, const protocol::Message& message) {
  auto found = sessions_.find(peer.id);
  if (found == sessions_.end()) return false;
  const std::deque<std::string>& replaced = found->second.replaced_routing_ids;
  if (std::find(replaced.begin(), replaced.end(), peer.routing_id) == replaced.end()) {
    return false;  // a new connection that has not said HELLO yet: served as before
  }
  switch (message.command) {
    case protocol::Command::kHello:  // newest HELLO wins: it takes the session back
      return false;
    case protocol::Command::kDelivered:
    case protocol::Command::kRejected:
    case protocol::Command::kAck:
      // Answers to deliveries this connection received before it was replaced: signed and
      // idempotent, so taken rather than sent to the new session once more.
      return false;
    default:
      SendError(peer, Code::kSessionReplaced,
                "this connection's session was taken over by a newer HELLO; reconnect");
      return true;
  }
}

void Broker::Dispatch(const std::string& endpoint, core::Micros now) {
  auto found = sessions_.find(endpoint);
  if (found == sessions_.end() || !found->second.connected) return;
  Session& session = found->second;
  if (session.in_flight.size() >= session.window) return;
  // Collected first, handled after the scan: handling stages writes into the cycle.
  std::vector<std::pair<uint64_t, core::QueueEntry>> next;
  size_t room = session.window - session.in_flight.size();
  Status scanned = store_->ScanQueue(
      endpoint, session.cursor, [&](uint64_t queue_seq, const core::QueueEntry& entry) {
        session.cursor = std::max(session.cursor, queue_seq);
        if (session.in_flight.count(queue_seq) != 0 ||
            cycle_.removed_queue_entries.count({endpoint, queue_seq}) != 0) {
          return true;
        }
        next.emplace_back(queue_seq, entry);
        return next.size() < room;
      });
  if (!scanned.ok()) {
    spdlog::error("event=queue_unreadable endpoint={} error=\"{}\"", endpoint, scanned.message());
  }
  for (auto& [queue_seq, entry] : next) {
    if (const auto* receipt = std::get_if<core::QueuedReceipt>(&entry.item)) {
      protocol::ReceiptFrame frame;
      frame.delivery = queue_seq;
      frame.message_id = receipt->message_id;
      frame.recipient = receipt->recipient;
      frame.status = receipt->status;
      frame.code = receipt->code;
      frame.time = receipt->time;
      frame.seq = receipt->seq;
      frame.receipt_key = receipt->receipt_key;
      if (!receipt->receipt_signature.empty()) {
        frame.receipt_signature = core::ToBase64(receipt->receipt_signature);
      }
      Send(session.routing_id, protocol::Encode(frame));
      session.in_flight[queue_seq] = InFlight{now, 1};
      continue;
    }
    const std::string& message_id = std::get<core::QueuedMessage>(entry.item).message_id;
    core::Result<std::optional<core::MessageState>> state = LoadMessage(message_id);
    core::Result<std::optional<core::Envelope>> stored = store_->GetEnvelope(message_id);
    if (!state.ok() || !stored.ok()) continue;  // reported (logged, counted) by the store
    if (!state->has_value() || !stored->has_value()) {
      spdlog::error("event=queue_entry_dangling endpoint={} message_id={}", endpoint, message_id);
      continue;
    }
    core::MessageState& message_state = **state;
    const core::MessageRule* rule = core::FindRule(message_state.type);
    if (rule != nullptr && !rule->purpose.empty()) {
      // Consent is checked again at delivery: a consent that expired or was revoked while the
      // message waited stops it here.
      core::Result<std::optional<core::ConsentFacts>> consent =
          LoadConsent(message_state.consent_id);
      Status active = consent.ok() && consent->has_value()
                          ? core::CheckConsentActive(**consent, now)
                          : Status(Code::kConsentRequired, "the consent is gone");
      if (!active.ok()) {
        FinishRecipient(message_id, message_state, endpoint, State::kWithheld, active.code(), now);
        continue;
      }
    }
    protocol::DeliverFrame frame;
    frame.delivery = queue_seq;
    frame.attempt = 1;
    frame.seq = message_state.seq;
    frame.accepted_at = message_state.accepted_at;
    frame.envelope = std::move(**stored);
    Send(session.routing_id, protocol::Encode(std::move(frame)));
    session.in_flight[queue_seq] = InFlight{now, 1};
  }
}

std::optional<core::MessageState> Broker::AnsweredMessage(const Peer& peer, uint64_t delivery,
                                                          const std::string& message_id,
                                                          std::string_view command,
                                                          std::string_view metric) {
  std::optional<core::QueueEntry> entry = PendingQueueEntry(peer.id, delivery);
  if (!entry) return std::nullopt;  // already done: an idempotent repeat
  const auto* queued = std::get_if<core::QueuedMessage>(&entry->item);
  if (queued == nullptr || queued->message_id != message_id) {
    metrics_.CountProtocolError(std::string(metric));
    SendError(peer, Code::kProtocolError, std::string(command) + " does not match the delivery");
    return std::nullopt;
  }
  core::Result<std::optional<core::MessageState>> state = LoadMessage(message_id);
  if (!state.ok() || !state->has_value()) return std::nullopt;
  return std::move(**state);
}

void Broker::HandleDelivered(const Peer& peer, const protocol::Message& message,
                             const ReceiptCheck* precheck) {
  core::Micros now = clock_.Now();
  core::Result<protocol::DeliveredFrame> frame = protocol::ParseDelivered(message);
  if (!frame.ok()) {
    metrics_.CountProtocolError("bad_delivered");
    return SendError(peer, Code::kProtocolError, frame.status().message());
  }
  const std::string& message_id = frame->message_id;
  std::optional<core::MessageState> state =
      AnsweredMessage(peer, frame->delivery, message_id,
                      protocol::CommandName(protocol::Command::kDelivered), "bad_delivered");
  if (!state) return;
  core::MessageState& message_state = *state;
  const std::string& receipt_key = frame->receipt_key;
  const std::string& signature_text = frame->receipt_signature;
  const std::string& digest = message_state.payload_digest;
  // Checked on the verify pool against the digest then stored; the digest never changes, but
  // only a check against the digest read here counts.
  bool verified =
      precheck != nullptr && precheck->digest == digest
          ? precheck->ok
          : CheckReceipt(directory_, peer.id, message_id, receipt_key, signature_text, digest);
  std::optional<std::string> signature = core::FromBase64(signature_text);
  if (!verified || !signature) {
    metrics_.CountProtocolError("bad_receipt");
    return SendError(peer, Code::kBadSignature, "the receipt signature does not verify");
  }
  core::Micros accepted_at = message_state.accepted_at;
  std::string type = message_state.type;
  FinishRecipient(message_id, message_state, peer.id, State::kDelivered, Code::kOk, now,
                  receipt_key, std::move(*signature));
  std::string endpoint = peer.id;
  cycle_.on_commit.push_back([this, endpoint, type, accepted_at, now] {
    metrics_.CountDelivered(endpoint, type);
    metrics_.ObserveDeliveryLatency(static_cast<double>(now - accepted_at) / 1e6);
  });
}

void Broker::HandleRejected(const Peer& peer, const protocol::Message& message) {
  core::Micros now = clock_.Now();
  core::Result<protocol::RejectedFrame> frame = protocol::ParseRejected(message);
  if (!frame.ok()) {
    metrics_.CountProtocolError("bad_rejected");
    return SendError(peer, Code::kProtocolError, frame.status().message());
  }
  const std::string& message_id = frame->message_id;
  std::optional<core::MessageState> state =
      AnsweredMessage(peer, frame->delivery, message_id,
                      protocol::CommandName(protocol::Command::kRejected), "bad_rejected");
  if (!state) return;
  // A rejection is never OK: an agent that says so is taken to mean it could not open it.
  Code code = frame->code == Code::kOk ? Code::kDecryptFailed : frame->code;
  spdlog::warn("event=recipient_rejected endpoint={} message_id={} code={}", peer.id, message_id,
               core::CodeName(code));
  FinishRecipient(message_id, *state, peer.id, State::kRejected, code, now);
}

void Broker::HandleAck(const Peer& peer, const protocol::Message& message) {
  core::Result<protocol::AckFrame> frame = protocol::ParseAck(message);
  if (!frame.ok()) {
    metrics_.CountProtocolError("bad_ack");
    return SendError(peer, Code::kProtocolError, frame.status().message());
  }
  uint64_t queue_seq = frame->delivery;
  std::optional<core::QueueEntry> entry = PendingQueueEntry(peer.id, queue_seq);
  if (!entry) return;
  const auto* receipt = std::get_if<core::QueuedReceipt>(&entry->item);
  if (receipt == nullptr) {
    metrics_.CountProtocolError("bad_ack");
    return SendError(peer, Code::kProtocolError, "ACK does not name a receipt");
  }
  RemoveQueueEntry(peer.id, queue_seq);
  // The sender has the receipt: `stafett track` shows when (metadata only, not audited — the
  // outcome itself is the audited record the receipt names).
  core::Result<std::optional<core::MessageState>> state = LoadMessage(receipt->message_id);
  if (state.ok() && state->has_value()) {
    auto recipient = (*state)->recipients.find(receipt->recipient);
    if (recipient != (*state)->recipients.end()) {
      recipient->second.receipt_acknowledged_at = clock_.Now();
      StoreMessage(receipt->message_id, std::move(**state));
    }
  }
  std::string endpoint = peer.id;
  cycle_.on_commit.push_back([this, endpoint] { Dispatch(endpoint, clock_.Now()); });
}

void Broker::FinishRecipient(const std::string& message_id, core::MessageState& state,
                             const std::string& recipient, State outcome, Code code,
                             core::Micros now, std::string receipt_key,
                             std::string receipt_signature) {
  auto found = state.recipients.find(recipient);
  if (found == state.recipients.end()) return;
  core::RecipientDelivery& delivery = found->second;
  if (delivery.state != core::RecipientState::kQueued) return;
  std::optional<core::RecipientState> stored = core::delivery::StoredState(outcome);
  std::optional<std::string_view> event = core::delivery::AuditEventFor(outcome);
  std::optional<core::ReceiptStatus> receipt_status = core::delivery::ReceiptStatusFor(outcome);
  if (!stored || !event || !receipt_status) return;  // not a finished state: a caller's bug
  RemoveQueueEntry(recipient, delivery.queue_seq);
  delivery.state = *stored;
  delivery.finished_at = now;
  delivery.code = code;
  std::string code_name = code == Code::kOk ? "" : std::string(core::CodeName(code));
  AuditRecord record{std::string(*event), message_id,       state.type, state.from, {recipient},
                     state.subject,       state.consent_id, code_name,  "",         nullptr};
  uint64_t seq = AppendAudit(now, record);
  core::QueuedReceipt receipt;
  receipt.message_id = message_id;
  receipt.recipient = recipient;
  receipt.status = *receipt_status;
  receipt.code = code;
  receipt.time = now;
  receipt.seq = seq;
  receipt.receipt_key = std::move(receipt_key);
  receipt.receipt_signature = std::move(receipt_signature);
  EnqueueEntry(state.from, core::QueueEntry{now, std::move(receipt)});
  if (outcome != State::kDelivered) {
    cycle_.transaction.PutDeadLetter(message_id, recipient, core::DeadLetter{*stored, code, now});
    bool expired = outcome == State::kExpired;
    cycle_.on_commit.push_back([this, recipient, expired, code_name] {
      if (expired) {
        metrics_.CountExpired(recipient);
      } else {
        metrics_.CountWithheld(recipient, code_name);
      }
    });
  }
  bool all_done = true, all_delivered = true;
  for (const auto& [id, each] : state.recipients) {
    all_done = all_done && each.state != core::RecipientState::kQueued;
    all_delivered = all_delivered && each.state == core::RecipientState::kDelivered;
  }
  if (all_done) {
    state.status = core::FinishedStatus(*stored, all_delivered);
    cycle_.transaction.DeleteEnvelope(message_id);
    cycle_.transaction.DeleteExpiry(state.expires_at, message_id);
    if (config_.retention_grace_seconds > 0) {
      // Due for retention a grace period after its expiry (expiry.cc, docs/PRIVACY.md).
      cycle_.transaction.PutExpiry(state.expires_at + config_.retention_grace_seconds * 1'000'000,
                                   message_id);
    }
    if (!state.consent_id.empty()) {
      cycle_.transaction.DeleteTrailLink(
          core::TrailLink{core::TrailKind::kConsentWaiting, state.consent_id, message_id});
    }
  }
  StoreMessage(message_id, state);
}

void Broker::Redeliver(core::Micros now) {
  core::Micros timeout = config_.redeliver_after_seconds * 1'000'000;
  for (auto& [endpoint, session] : sessions_) {
    if (!session.connected) continue;
    uint64_t earliest = UINT64_MAX;
    for (auto it = session.in_flight.begin(); it != session.in_flight.end();) {
      if (now - it->second.sent_at >= timeout) {
        earliest = std::min(earliest, it->first);
        it = session.in_flight.erase(it);
        metrics_.CountRedelivery();
      } else {
        ++it;
      }
    }
    if (earliest != UINT64_MAX) {
      session.cursor = std::min(session.cursor, earliest - 1);
      Dispatch(endpoint, now);
    }
  }
}

std::optional<core::QueueEntry> Broker::OldestQueueEntry(const std::string& endpoint) {
  // Delivered entries leave tombstones at the front of the queue until a compaction. Queue
  // seqs only grow, so no entry can appear before the oldest one found last time: scanning
  // from there skips those tombstones instead of walking them on every gauge refresh.
  uint64_t& from = oldest_queue_seq_[endpoint];
  std::optional<core::QueueEntry> oldest;
  uint64_t found = from;
  Status scanned = store_->ScanQueue(endpoint, from == 0 ? 0 : from - 1,
                                     [&](uint64_t queue_seq, const core::QueueEntry& entry) {
                                       found = queue_seq;
                                       oldest = entry;
                                       return false;
                                     });
  if (!scanned.ok() || !oldest) return std::nullopt;
  from = found;
  return oldest;
}

}  // namespace stafett::broker
