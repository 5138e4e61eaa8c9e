// Broker: sessions and delivery — hello, dispatch within the credit window, acknowledgements,
// redelivery, expiry, and withholding when consent is revoked or expires.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker.h"
#include "stafett/core/encoding.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

constexpr size_t kMaxReplacedConnections = 16;  // remembered per endpoint

// The stored envelope: be64 header length, header, be64 signature length, signature, payload.
std::optional<core::Envelope> DecodeEnvelope(std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  uint64_t header_size = DecodeBigEndian64(bytes.substr(0, 8));
  if (bytes.size() < 16 + header_size) return std::nullopt;
  uint64_t signature_size = DecodeBigEndian64(bytes.substr(8 + header_size, 8));
  if (bytes.size() < 16 + header_size + signature_size) return std::nullopt;
  core::Envelope envelope;
  envelope.header_bytes = std::string(bytes.substr(8, header_size));
  envelope.signature = std::string(bytes.substr(16 + header_size, signature_size));
  envelope.payload = std::string(bytes.substr(16 + header_size + signature_size));
  return envelope;
}

uint64_t DeliveryOf(const nlohmann::json& object) {
  const nlohmann::json& delivery = object.contains("delivery") ? object["delivery"] : nullptr;
  return delivery.is_number_unsigned() ? delivery.get<uint64_t>() : 0;
}

}  // namespace

void Broker::HandleHello(const Peer& peer, const protocol::Message& message) {
  nlohmann::json welcome = {{"protocol", 1},
                            {"principal", peer.id},
                            {"max_message_bytes", config_.max_message_bytes},
                            {"heartbeat_seconds", config_.heartbeat_seconds},
                            {"max_publishes_per_second", config_.max_publishes_per_second},
                            {"broker_version", STAFETT_VERSION}};
  if (peer.role != keys::Role::kEndpoint) {
    Send(peer.routing_id, protocol::Encode(protocol::Command::kWelcome, {welcome.dump()}));
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
  if (message.object.contains("credit") && message.object["credit"].is_number_integer()) {
    credit = std::clamp<int64_t>(message.object["credit"].get<int64_t>(), 1, credit);
  }
  session.window = static_cast<size_t>(credit);
  welcome["credit_window"] = credit;
  Send(peer.routing_id, protocol::Encode(protocol::Command::kWelcome, {welcome.dump()}));
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
  nlohmann::json body = {{"code", std::string(core::CodeName(Code::kSessionReplaced))},
                         {"message", "a newer HELLO with this endpoint's key took the session"}};
  if (!Send(session.routing_id, protocol::Encode(protocol::Command::kError, {body.dump()}))) {
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
  std::string prefix = QueuePrefix(endpoint);
  std::unique_ptr<rocksdb::Iterator> it = store_->NewPrefixIterator(Family::kQueues, prefix);
  for (it->Seek(QueueKey(endpoint, session.cursor + 1));
       it->Valid() && it->key().starts_with(prefix) && session.in_flight.size() < session.window;
       it->Next()) {
    std::string key = it->key().ToString();
    uint64_t queue_seq = DecodeBigEndian64(std::string_view(key).substr(prefix.size()));
    session.cursor = std::max(session.cursor, queue_seq);
    if (session.in_flight.count(queue_seq) != 0 || cycle_.removed_queue_keys.count(key) != 0) {
      continue;
    }
    nlohmann::json entry = nlohmann::json::parse(it->value().ToString(), nullptr, false);
    if (!entry.is_object()) {
      store_->ReportCorruption(Family::kQueues, "a queue entry is not a JSON object").ok();
      continue;
    }
    nlohmann::json meta = {{"delivery", queue_seq}, {"attempt", 1}};
    if (entry.value("kind", "") == "receipt") {
      nlohmann::json receipt = entry["receipt"];
      receipt["delivery"] = queue_seq;
      Send(session.routing_id, protocol::Encode(protocol::Command::kReceipt, {receipt.dump()}));
      session.in_flight[queue_seq] = InFlight{now, 1};
      continue;
    }
    std::string message_id = entry.value("message_id", "");
    core::Result<std::optional<nlohmann::json>> state = LoadMessage(message_id);
    core::Result<std::optional<std::string>> stored = store_->Get(Family::kEnvelopes, message_id);
    if (!state.ok() || !state->has_value() || !stored.ok() || !stored->has_value()) {
      spdlog::error("event=queue_entry_dangling endpoint={} message_id={}", endpoint, message_id);
      continue;
    }
    nlohmann::json& message_state = **state;
    const core::MessageRule* rule = core::FindRule(message_state.value("type", ""));
    if (rule != nullptr && !rule->purpose.empty()) {
      // Consent is checked again at delivery: a consent that expired or was revoked while the
      // message waited stops it here.
      core::Result<std::optional<core::ConsentFacts>> consent =
          LoadConsent(message_state.value("consent_id", ""));
      Status active = consent.ok() && consent->has_value()
                          ? core::CheckConsentActive(**consent, now)
                          : Status(Code::kConsentRequired, "the consent is gone");
      if (!active.ok()) {
        FinishRecipient(message_id, message_state, endpoint, "withheld", active.code(), now, {});
        continue;
      }
    }
    std::optional<core::Envelope> envelope = DecodeEnvelope(**stored);
    if (!envelope) {
      store_->ReportCorruption(Family::kEnvelopes, "a stored envelope does not decode").ok();
      continue;
    }
    meta["seq"] = message_state.value("seq", uint64_t{0});
    meta["accepted_at"] = core::FormatRfc3339(message_state.value("accepted_at", int64_t{0}));
    Send(session.routing_id,
         protocol::Encode(protocol::Command::kDeliver,
                          {meta.dump(), std::move(envelope->header_bytes),
                           std::move(envelope->signature), std::move(envelope->payload)}));
    session.in_flight[queue_seq] = InFlight{now, 1};
  }
}

void Broker::HandleDelivered(const Peer& peer, const protocol::Message& message,
                             const ReceiptCheck* precheck) {
  core::Micros now = clock_.Now();
  const nlohmann::json& body = message.object;
  uint64_t queue_seq = DeliveryOf(body);
  std::string message_id = body.value("message_id", "");
  std::string key = QueueKey(peer.id, queue_seq);
  if (cycle_.removed_queue_keys.count(key) != 0) return;
  core::Result<std::optional<std::string>> stored = store_->Get(Family::kQueues, key);
  if (!stored.ok() || !stored->has_value()) return;  // already done: an idempotent repeat
  nlohmann::json entry = nlohmann::json::parse(**stored, nullptr, false);
  if (!entry.is_object() || entry.value("message_id", "") != message_id ||
      entry.value("kind", "") != "message") {
    metrics_.CountProtocolError("bad_delivered");
    return SendError(peer, Code::kProtocolError, "DELIVERED does not match the delivery");
  }
  core::Result<std::optional<nlohmann::json>> state = LoadMessage(message_id);
  if (!state.ok() || !state->has_value()) return;
  nlohmann::json& message_state = **state;
  std::string receipt_key = body.value("receipt_key", "");
  std::optional<std::string> digest = core::FromHex(message_state.value("digest", ""));
  // Checked on the verify pool against the digest then stored; the digest never changes, but
  // only a check against the digest read here counts.
  bool verified = digest && (precheck != nullptr && precheck->digest == *digest
                                 ? precheck->ok
                                 : CheckReceipt(directory_, peer.id, message_id, receipt_key,
                                                body.value("receipt_signature", ""), *digest));
  if (!verified) {
    metrics_.CountProtocolError("bad_receipt");
    return SendError(peer, Code::kBadSignature, "the receipt signature does not verify");
  }
  core::Micros accepted_at = message_state.value("accepted_at", int64_t{0});
  FinishRecipient(message_id, message_state, peer.id, "delivered", Code::kOk, now,
                  {{"receipt_key", receipt_key}, {"receipt_signature", body["receipt_signature"]}});
  std::string type = message_state.value("type", "");
  std::string endpoint = peer.id;
  cycle_.on_commit.push_back([this, endpoint, type, accepted_at, now] {
    metrics_.CountDelivered(endpoint, type);
    metrics_.ObserveDeliveryLatency(static_cast<double>(now - accepted_at) / 1e6);
  });
}

void Broker::HandleRejected(const Peer& peer, const protocol::Message& message) {
  core::Micros now = clock_.Now();
  const nlohmann::json& body = message.object;
  uint64_t queue_seq = DeliveryOf(body);
  std::string message_id = body.value("message_id", "");
  std::string key = QueueKey(peer.id, queue_seq);
  if (cycle_.removed_queue_keys.count(key) != 0) return;
  core::Result<std::optional<std::string>> stored = store_->Get(Family::kQueues, key);
  if (!stored.ok() || !stored->has_value()) return;
  nlohmann::json entry = nlohmann::json::parse(**stored, nullptr, false);
  if (!entry.is_object() || entry.value("message_id", "") != message_id) {
    metrics_.CountProtocolError("bad_rejected");
    return SendError(peer, Code::kProtocolError, "REJECTED does not match the delivery");
  }
  core::Result<std::optional<nlohmann::json>> state = LoadMessage(message_id);
  if (!state.ok() || !state->has_value()) return;
  Code code = core::CodeFromName(body.value("code", "")).value_or(Code::kDecryptFailed);
  if (code == Code::kOk) code = Code::kDecryptFailed;
  spdlog::warn("event=recipient_rejected endpoint={} message_id={} code={}", peer.id, message_id,
               core::CodeName(code));
  FinishRecipient(message_id, **state, peer.id, "withheld", code, now, {});
}

void Broker::HandleAck(const Peer& peer, const protocol::Message& message) {
  uint64_t queue_seq = DeliveryOf(message.object);
  std::string key = QueueKey(peer.id, queue_seq);
  if (cycle_.removed_queue_keys.count(key) != 0) return;
  core::Result<std::optional<std::string>> stored = store_->Get(Family::kQueues, key);
  if (!stored.ok() || !stored->has_value()) return;
  nlohmann::json entry = nlohmann::json::parse(**stored, nullptr, false);
  if (!entry.is_object() || entry.value("kind", "") != "receipt") {
    metrics_.CountProtocolError("bad_ack");
    return SendError(peer, Code::kProtocolError, "ACK does not name a receipt");
  }
  RemoveQueueEntry(peer.id, queue_seq);
  // The sender has the receipt: `stafett track` shows when (metadata only, not audited — the
  // outcome itself is the audited record the receipt names).
  const nlohmann::json& receipt = entry["receipt"];
  if (receipt.is_object()) {
    std::string message_id = receipt.value("message_id", "");
    std::string recipient = receipt.value("recipient", "");
    core::Result<std::optional<nlohmann::json>> state = LoadMessage(message_id);
    if (state.ok() && state->has_value() && (**state)["recipients"].contains(recipient)) {
      nlohmann::json updated = std::move(**state);
      updated["recipients"][recipient]["receipt_at"] = clock_.Now();
      StoreMessage(message_id, std::move(updated));
    }
  }
  std::string endpoint = peer.id;
  cycle_.on_commit.push_back([this, endpoint] { Dispatch(endpoint, clock_.Now()); });
}

void Broker::FinishRecipient(const std::string& message_id, nlohmann::json& state,
                             const std::string& recipient, const std::string& outcome, Code code,
                             core::Micros now, nlohmann::json receipt_extra) {
  nlohmann::json& entry = state["recipients"][recipient];
  if (entry.value("state", "") != "queued") return;
  RemoveQueueEntry(recipient, entry.value("queue_seq", uint64_t{0}));
  entry["state"] = outcome;
  entry["at"] = now;
  std::string code_name = code == Code::kOk ? "" : std::string(core::CodeName(code));
  if (!code_name.empty()) entry["code"] = code_name;
  AuditRecord record{outcome,
                     message_id,
                     state.value("type", ""),
                     state.value("from", ""),
                     {recipient},
                     state.value("subject", ""),
                     state.value("consent_id", ""),
                     code_name,
                     "",
                     nullptr};
  uint64_t seq = AppendAudit(now, record);
  nlohmann::json receipt = {{"message_id", message_id},
                            {"recipient", recipient},
                            {"status", outcome},
                            {"time", core::FormatRfc3339(now)},
                            {"seq", seq}};
  if (!code_name.empty()) receipt["code"] = code_name;
  for (auto& [key, value] : receipt_extra.items()) receipt[key] = value;
  EnqueueEntry(state.value("from", ""),
               {{"kind", "receipt"}, {"queued_at", now}, {"receipt", receipt}});
  if (outcome != "delivered") {
    cycle_.batch.Put(
        store_->Handle(Family::kDeadLetters), DeadLetterKey(message_id, recipient),
        nlohmann::json({{"outcome", outcome}, {"code", code_name}, {"at", now}}).dump());
    std::string type = state.value("type", "");
    cycle_.on_commit.push_back([this, recipient, outcome, code_name] {
      if (outcome == "expired") {
        metrics_.CountExpired(recipient);
      } else {
        metrics_.CountWithheld(recipient, code_name);
      }
    });
  }
  bool all_done = true, all_delivered = true;
  for (auto& [id, each] : state["recipients"].items()) {
    std::string each_state = each.value("state", "");
    all_done = all_done && each_state != "queued";
    all_delivered = all_delivered && each_state == "delivered";
  }
  if (all_done) {
    state["status"] = all_delivered ? "delivered" : outcome;
    cycle_.batch.Delete(store_->Handle(Family::kEnvelopes), message_id);
    cycle_.batch.Delete(store_->Handle(Family::kExpiry),
                        ExpiryKey(state.value("expires_at", int64_t{0}), message_id));
    std::string consent_id = state.value("consent_id", "");
    if (!consent_id.empty()) {
      cycle_.batch.Delete(store_->Handle(Family::kTrail),
                          TrailPrefix('c', consent_id) + message_id);
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

void Broker::ExpireDue(core::Micros now) {
  // Only keys due by NOW: the entries of delivered messages, deleted but not yet compacted
  // away, lie beyond it (their expiry is days ahead), and the bound stops the walk there.
  std::unique_ptr<rocksdb::Iterator> it =
      store_->NewIteratorBelow(Family::kExpiry, EncodeBigEndian64(static_cast<uint64_t>(now) + 1));
  size_t handled = 0;
  for (it->SeekToFirst(); it->Valid() && handled < 1000; it->Next(), ++handled) {
    rocksdb::Slice key = it->key();
    if (key.size() < 8) continue;
    auto expires_at = static_cast<core::Micros>(DecodeBigEndian64(std::string_view(key.data(), 8)));
    if (expires_at > now) break;
    std::string message_id(key.data() + 8, key.size() - 8);
    core::Result<std::optional<nlohmann::json>> state = LoadMessage(message_id);
    if (!state.ok() || !state->has_value()) {
      cycle_.batch.Delete(store_->Handle(Family::kExpiry), key);
      continue;
    }
    std::vector<std::string> recipients;
    for (auto& [id, entry] : (**state)["recipients"].items()) recipients.push_back(id);
    for (const std::string& recipient : recipients) {
      FinishRecipient(message_id, **state, recipient, "expired", Code::kExpired, now, {});
    }
    cycle_.batch.Delete(store_->Handle(Family::kExpiry), key);
    ++cycle_.events;
  }
}

void Broker::WithholdUnderConsent(const std::string& consent_id, Code code, core::Micros now) {
  std::string prefix = TrailPrefix('c', consent_id);
  std::unique_ptr<rocksdb::Iterator> it = store_->NewPrefixIterator(Family::kTrail, prefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string message_id = it->key().ToString().substr(prefix.size());
    core::Result<std::optional<nlohmann::json>> state = LoadMessage(message_id);
    if (!state.ok() || !state->has_value()) continue;
    std::vector<std::string> recipients;
    for (auto& [id, entry] : (**state)["recipients"].items()) recipients.push_back(id);
    for (const std::string& recipient : recipients) {
      FinishRecipient(message_id, **state, recipient, "withheld", code, now, {});
    }
  }
}

std::optional<std::string> Broker::OldestQueueEntry(const std::string& endpoint) {
  // Delivered entries leave tombstones at the front of the queue until a compaction. Queue
  // seqs only grow, so no entry can appear before the oldest one found last time: seeking from
  // there skips those tombstones instead of walking them on every gauge refresh.
  std::string prefix = QueuePrefix(endpoint);
  std::string& from = oldest_queue_key_[endpoint];
  if (from.empty()) from = prefix;
  std::unique_ptr<rocksdb::Iterator> it = store_->NewPrefixIterator(Family::kQueues, prefix);
  it->Seek(from);
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
  from = it->key().ToString();
  return it->value().ToString();
}

}  // namespace stafett::broker
