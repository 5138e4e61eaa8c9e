// Broker: accepting a published message — authenticate, verify, dedup, apply the rules, and
// write audit record, envelope, state, queue entries and indexes into the cycle's one batch.
#include <spdlog/spdlog.h>

#include "broker.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/core/frames.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

// Whether ENVELOPE is a resend of the accepted message whose state is STATE: the same signed
// header bytes (which fix the payload through its digest).
bool IsResendOf(const core::MessageState& state, const core::Envelope& envelope) {
  return state.header_digest == core::Sha256(envelope.header_bytes);
}

// What a publisher is told when the broker could not read what it needs to decide.
Status ReadFailure(const Status& read) {
  if (read.code() == Code::kCorruption) {
    return Status(Code::kCorruption,
                  "the broker's stored data needed for this message failed an integrity check");
  }
  return Status(Code::kUnavailable, "storage read failed; retry later");
}

std::string AuditEventFor(const std::string& type) {
  if (type == "consent_granted" || type == "consent_revoked") return type;
  return "accepted";
}

}  // namespace

void Broker::HandlePublish(const Peer& peer, const core::Envelope& envelope,
                           const PublishCheck& check) {
  core::Micros now = clock_.Now();
  // Size, header syntax, sender = authenticated peer, known key, signature and payload digest:
  // CheckPublish (verify_pool.cc), run on the verify pool before the loop handles the command.
  if (!check.status.ok()) {
    if (check.spoofed) {
      spdlog::warn("event=spoofed_sender peer={} message_id={}", peer.id, check.message_id);
    }
    return Refuse(peer, check.message_id, check.status, nullptr, now);
  }
  const core::Header& header = *check.header;

  core::Result<std::optional<core::MessageState>> earlier = LoadMessage(header.message_id);
  if (!earlier.ok()) {
    // Reported (logged, counted) where it was read. A damaged record is said so: retrying
    // cannot help, and deciding without it could take a used id twice.
    return Refuse(peer, header.message_id, ReadFailure(earlier.status()), nullptr, now);
  }
  if (earlier->has_value()) {
    const core::MessageState& state = **earlier;
    // Only an accepted message occupies its id, and only a byte-identical resend of it is a
    // retry. Anything else under the id is refused and audited; the original stays as it was.
    if (state.from != header.from) {
      return Refuse(peer, header.message_id,
                    Status(Code::kDuplicate, "the message id is taken by another sender"), &header,
                    now);
    }
    if (!IsResendOf(state, envelope)) {
      return Refuse(peer, header.message_id,
                    Status(Code::kDuplicate,
                           "the message id was already used for a different message; use a new "
                           "message id"),
                    &header, now);
    }
    // A retry: the same answer as the first time, nothing new written. If the first acceptance
    // is still in this cycle, answer once it commits.
    std::vector<std::string> accepted =
        protocol::Encode(protocol::AcceptedFrame{header.message_id, state.seq, true});
    if (cycle_.messages.count(header.message_id) != 0) {
      cycle_.replies.push_back(
          {peer.routing_id, std::move(accepted),
           protocol::Encode(protocol::RefusedFrame{header.message_id, Code::kUnavailable,
                                                   "not persisted; retry"})});
    } else {
      Send(peer.routing_id, std::move(accepted));
    }
    return;
  }
  // An id whose message finished long ago and whose state the retention removed stays taken:
  // its acceptance is still in the log. (A resend of it would be past its expiry anyway.)
  core::Result<std::optional<RetiredMessage>> retired = FindRetired(header.message_id);
  if (!retired.ok()) {
    return Refuse(peer, header.message_id, ReadFailure(retired.status()), nullptr, now);
  }
  if (retired->has_value()) {
    return Refuse(peer, header.message_id,
                  Status(Code::kDuplicate,
                         "the message id was used for a message finished long ago; use a new "
                         "message id"),
                  &header, now);
  }
  if (header.expires_at <= now) {
    return Refuse(peer, header.message_id,
                  Status(Code::kExpired, "the message expired before it reached the broker"),
                  &header, now);
  }
  if (storage_full_) {
    return Refuse(peer, header.message_id,
                  Status(Code::kStorageFull, "the broker is short of storage; retry later"),
                  nullptr, now);
  }
  core::Result<core::RouteFacts> facts = BuildRouteFacts(header, now);
  if (!facts.ok())
    return Refuse(peer, header.message_id, ReadFailure(facts.status()), nullptr, now);
  Status allowed = core::CheckRoute(*facts);
  if (!allowed.ok()) return Refuse(peer, header.message_id, allowed, &header, now);
  Accept(peer, envelope, header, now);
}

core::Result<core::RouteFacts> Broker::BuildRouteFacts(const core::Header& header,
                                                       core::Micros now) {
  core::RouteFacts facts;
  facts.type = header.type;
  facts.from = header.from;
  facts.to = header.to;
  facts.subject = header.subject;
  facts.consent_id = header.consent_id;
  facts.ref = header.ref;
  facts.now = now;
  for (const std::string& id : header.to) {
    const keys::Principal* principal = directory_.Find(id);
    if (principal != nullptr && principal->role == keys::Role::kEndpoint) {
      facts.kinds[id] = principal->kind;
    }
  }
  if (const keys::Principal* sender = directory_.Find(header.from)) {
    facts.kinds[header.from] = sender->kind;
  }
  core::Result<std::optional<core::ConsentFacts>> consent = LoadConsent(header.consent_id);
  if (!consent.ok()) return consent.status();
  facts.consent = *consent;
  if (header.consent) {
    core::ConsentFacts granted;
    granted.consent_id = header.consent_id;
    granted.subject = header.subject;
    granted.recorded_by = header.from;
    granted.parties = header.consent->parties;
    granted.purposes = header.consent->purposes;
    granted.valid_from = header.consent->valid_from;
    granted.valid_until = header.consent->valid_until;
    facts.granted = granted;
  }
  if (!header.ref.empty()) {
    core::Result<std::optional<core::MessageState>> referenced = LoadMessage(header.ref);
    if (!referenced.ok()) return referenced.status();
    if (referenced->has_value()) {
      const core::MessageState& state = **referenced;
      facts.referenced = core::ReferencedMessage{state.type, state.from, state.subject,
                                                 state.consent_id, state.to};
    } else {
      // Feedback may come long after its report: a referenced message whose state the
      // retention removed is known by its acceptance in the log.
      core::Result<std::optional<RetiredMessage>> retired = FindRetired(header.ref);
      if (!retired.ok()) return retired.status();
      if (retired->has_value()) {
        const RetiredMessage& message = **retired;
        facts.referenced = core::ReferencedMessage{message.type, message.from, message.subject,
                                                   message.consent_id, message.to};
      }
    }
  }
  return facts;
}

void Broker::Accept(const Peer& peer, const core::Envelope& envelope, const core::Header& header,
                    core::Micros now) {
  AuditRecord record{AuditEventFor(header.type),
                     header.message_id,
                     header.type,
                     header.from,
                     header.to,
                     header.subject,
                     header.consent_id,
                     "",
                     "",
                     nullptr};
  uint64_t seq = AppendAudit(now, record);
  cycle_.transaction.PutEnvelope(header.message_id, envelope);
  cycle_.transaction.PutExpiry(header.expires_at, header.message_id);
  core::MessageState state;
  state.seq = seq;
  state.status = core::MessageStatus::kAccepted;
  state.type = header.type;
  state.from = header.from;
  state.to = header.to;
  state.subject = header.subject;
  state.consent_id = header.consent_id;
  state.ref = header.ref;
  state.accepted_at = now;
  state.expires_at = header.expires_at;
  state.payload_digest = header.payload_digest;
  state.header_digest = core::Sha256(envelope.header_bytes);
  for (const std::string& recipient : header.to) {
    uint64_t queue_seq =
        EnqueueEntry(recipient, core::QueueEntry{now, core::QueuedMessage{header.message_id}});
    core::RecipientDelivery delivery;
    delivery.queue_seq = queue_seq;
    state.recipients[recipient] = delivery;
  }
  StoreMessage(header.message_id, std::move(state));
  if (!header.consent_id.empty() && !core::IsConsentEvent(header.type)) {
    // consent → queued messages, so a revocation can withhold them at once.
    cycle_.transaction.PutTrailLink(
        core::TrailLink{core::TrailKind::kConsentWaiting, header.consent_id, header.message_id});
  }
  if (core::IsConsentEvent(header.type)) {
    std::optional<core::ConsentRecord> known;
    if (header.type == "consent_revoked") {
      core::Result<std::optional<core::ConsentRecord>> stored =
          LoadConsentRecord(header.consent_id);
      if (stored.ok()) known = *stored;
    }
    bool already_revoked = known && known->facts.revoked;
    std::optional<core::ConsentRecord> learned = core::LearnConsent(
        header.type, header.consent_id, header.subject, header.from, header.consent,
        core::ConsentEvent{header.message_id, seq, header.from, now}, known);
    if (learned) {
      bool revoked = learned->facts.revoked;
      StoreConsent(std::move(*learned));
      if (revoked && !already_revoked) {
        WithholdUnderConsent(header.consent_id, Code::kConsentRevoked, now);
      }
    }
  }
  cycle_.replies.push_back(
      {peer.routing_id, protocol::Encode(protocol::AcceptedFrame{header.message_id, seq, false}),
       protocol::Encode(protocol::RefusedFrame{
           header.message_id, storage_full_ ? Code::kStorageFull : Code::kUnavailable,
           "the broker could not persist the message; retry"})});
  std::string type = header.type;
  cycle_.on_commit.push_back([this, type] { metrics_.CountAccepted(type); });
  spdlog::debug("event=accepted message_id={} type={} from={} seq={}", header.message_id,
                header.type, header.from, seq);
}

bool Broker::TakePublishToken(const std::string& endpoint) {
  if (config_.max_publishes_per_second <= 0) return true;
  const double rate = static_cast<double>(config_.max_publishes_per_second);
  auto [found, added] = publish_budgets_.try_emplace(endpoint);
  PublishBudget& budget = found->second;
  // A new endpoint starts with a full second's worth; time is monotonic, so a step of the wall
  // clock neither fills nor drains it.
  if (added) budget.bucket = core::TokenBucket(rate, rate, rate);
  if (budget.bucket.TryTake(clock_.MonotonicNow())) {
    budget.limited = false;
    return true;
  }
  if (!budget.limited) {
    spdlog::warn("event=publish_rate_limited endpoint={} max_publishes_per_second={}", endpoint,
                 config_.max_publishes_per_second);
    budget.limited = true;
  }
  return false;
}

void Broker::DropOverRate(const Peer& peer, core::Micros now) {
  metrics_.CountRateLimited(peer.id);
  PublishBudget& budget = publish_budgets_[peer.id];
  if (budget.answered_at >= 0 && now - budget.answered_at < 1'000'000 &&
      now >= budget.answered_at) {
    return;
  }
  budget.answered_at = now;
  // Without a message id: finding it would mean parsing what the limit is there to leave
  // unread. The agent resends every unanswered publish after resend_after_seconds.
  Send(peer.routing_id,
       protocol::Encode(protocol::RefusedFrame{
           "", Code::kUnavailable,
           "publish rate limit exceeded; publishes over it are dropped; retry later"}));
}

void Broker::Refuse(const Peer& peer, const std::string& message_id, const Status& status,
                    const core::Header* header, core::Micros now) {
  metrics_.CountRefused(std::string(core::CodeName(status.code())));
  spdlog::info("event=refused message_id={} from={} code={}", message_id, peer.id,
               core::CodeName(status.code()));
  std::vector<std::string> frames =
      protocol::Encode(protocol::RefusedFrame{message_id, status.code(), status.message()});
  if (header == nullptr) {
    // Not verifiably from this sender, or nothing worth recording: answer at once.
    Send(peer.routing_id, std::move(frames));
    return;
  }
  // A verified header refused by the rules is audited, durably, before the answer.
  AuditRecord record{"refused",
                     header->message_id,
                     header->type,
                     header->from,
                     header->to,
                     header->subject,
                     header->consent_id,
                     std::string(core::CodeName(status.code())),
                     "",
                     nullptr};
  AppendAudit(now, record);
  cycle_.replies.push_back({peer.routing_id, frames, frames});
}

}  // namespace stafett::broker
