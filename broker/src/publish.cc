// Broker: accepting a published message — authenticate, verify, dedup, apply the rules, and
// write audit record, envelope, state, queue entries and indexes into the cycle's one batch.
#include <spdlog/spdlog.h>

#include "broker.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

std::string EncodeEnvelope(const core::Envelope& envelope) {
  std::string out = EncodeBigEndian64(envelope.header_bytes.size());
  out += envelope.header_bytes;
  out += EncodeBigEndian64(envelope.signature.size());
  out += envelope.signature;
  out += envelope.payload;
  return out;
}

std::string HeaderDigestHex(const core::Envelope& envelope) {
  return core::ToHex(core::Sha256(envelope.header_bytes));
}

// Whether ENVELOPE is a resend of the accepted message whose state is STATE: the same signed
// header bytes (which fix the payload through its digest). States written before the header
// digest was kept are compared on what they hold: the payload digest (a fresh seal always
// differs in it) and the routing facts.
bool IsResendOf(const nlohmann::json& state, const core::Header& header,
                const core::Envelope& envelope) {
  if (state.contains("header_digest")) {
    return state.value("header_digest", "") == HeaderDigestHex(envelope);
  }
  return state.value("digest", "") == core::ToHex(header.payload_digest) &&
         state.value("type", "") == header.type &&
         state.value("to", std::vector<std::string>()) == header.to &&
         state.value("subject", "") == header.subject &&
         state.value("consent_id", "") == header.consent_id && state.value("ref", "") == header.ref;
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

  core::Result<std::optional<nlohmann::json>> earlier = LoadMessage(header.message_id);
  if (!earlier.ok()) {
    // Reported (logged, counted) where it was read. A damaged record is said so: retrying
    // cannot help, and deciding without it could take a used id twice.
    return Refuse(peer, header.message_id, ReadFailure(earlier.status()), nullptr, now);
  }
  if (earlier->has_value()) {
    const nlohmann::json& state = **earlier;
    // Only an accepted message occupies its id, and only a byte-identical resend of it is a
    // retry. Anything else under the id is refused and audited; the original stays as it was.
    if (state.value("from", "") != header.from) {
      return Refuse(peer, header.message_id,
                    Status(Code::kDuplicate, "the message id is taken by another sender"), &header,
                    now);
    }
    if (!IsResendOf(state, header, envelope)) {
      return Refuse(peer, header.message_id,
                    Status(Code::kDuplicate,
                           "the message id was already used for a different message; use a new "
                           "message id"),
                    &header, now);
    }
    // A retry: the same answer as the first time, nothing new written. If the first acceptance
    // is still in this cycle, answer once it commits.
    nlohmann::json reply = {{"message_id", header.message_id},
                            {"seq", state.value("seq", uint64_t{0})},
                            {"duplicate", true}};
    if (cycle_.messages.count(header.message_id) != 0) {
      nlohmann::json failure = {{"message_id", header.message_id},
                                {"code", "UNAVAILABLE"},
                                {"message", "not persisted; retry"}};
      cycle_.replies.push_back({peer.routing_id,
                                protocol::Encode(protocol::Command::kAccepted, {reply.dump()}),
                                protocol::Encode(protocol::Command::kRefused, {failure.dump()})});
    } else {
      Send(peer.routing_id, protocol::Encode(protocol::Command::kAccepted, {reply.dump()}));
    }
    return;
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
    core::Result<std::optional<nlohmann::json>> referenced = LoadMessage(header.ref);
    if (!referenced.ok()) return referenced.status();
    if (referenced->has_value()) {
      const nlohmann::json& state = **referenced;
      facts.referenced = core::ReferencedMessage{
          state.value("type", ""), state.value("from", ""), state.value("subject", ""),
          state.value("consent_id", ""), state.value("to", std::vector<std::string>())};
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
  cycle_.batch.Put(store_->Handle(Family::kEnvelopes), header.message_id, EncodeEnvelope(envelope));
  cycle_.batch.Put(store_->Handle(Family::kExpiry), ExpiryKey(header.expires_at, header.message_id),
                   "");
  nlohmann::json recipients = nlohmann::json::object();
  for (const std::string& recipient : header.to) {
    nlohmann::json entry = {
        {"kind", "message"}, {"message_id", header.message_id}, {"queued_at", now}};
    uint64_t queue_seq = EnqueueEntry(recipient, entry);
    recipients[recipient] = {{"state", "queued"}, {"queue_seq", queue_seq}};
  }
  nlohmann::json state = {{"seq", seq},
                          {"status", "accepted"},
                          {"type", header.type},
                          {"from", header.from},
                          {"to", header.to},
                          {"subject", header.subject},
                          {"consent_id", header.consent_id},
                          {"ref", header.ref},
                          {"accepted_at", now},
                          {"expires_at", header.expires_at},
                          {"digest", core::ToHex(header.payload_digest)},
                          {"header_digest", HeaderDigestHex(envelope)},
                          {"recipients", recipients}};
  StoreMessage(header.message_id, std::move(state));
  if (!header.consent_id.empty() && !core::IsConsentEvent(header.type)) {
    // consent → queued messages, so a revocation can withhold them at once.
    cycle_.batch.Put(store_->Handle(Family::kTrail),
                     TrailPrefix('c', header.consent_id) + header.message_id, "");
  }
  if (header.type == "consent_granted" && header.consent) {
    core::ConsentFacts consent{header.consent_id,
                               header.subject,
                               header.from,
                               header.consent->parties,
                               header.consent->purposes,
                               header.consent->valid_from,
                               header.consent->valid_until,
                               false};
    StoreConsent(consent, {{"granted_message_id", header.message_id}, {"granted_seq", seq}});
  } else if (header.type == "consent_revoked") {
    if (core::Result<std::optional<core::ConsentFacts>> consent = LoadConsent(header.consent_id);
        consent.ok() && consent->has_value()) {
      core::ConsentFacts revoked = **consent;
      bool already = revoked.revoked;
      revoked.revoked = true;
      StoreConsent(revoked, {{"revoked_message_id", header.message_id},
                             {"revoked_seq", seq},
                             {"revoked_by", header.from},
                             {"revoked_at", now}});
      if (!already) WithholdUnderConsent(header.consent_id, Code::kConsentRevoked, now);
    }
  }
  nlohmann::json accepted = {{"message_id", header.message_id}, {"seq", seq}, {"duplicate", false}};
  nlohmann::json failure = {{"message_id", header.message_id},
                            {"code", storage_full_ ? "STORAGE_FULL" : "UNAVAILABLE"},
                            {"message", "the broker could not persist the message; retry"}};
  cycle_.replies.push_back({peer.routing_id,
                            protocol::Encode(protocol::Command::kAccepted, {accepted.dump()}),
                            protocol::Encode(protocol::Command::kRefused, {failure.dump()})});
  std::string type = header.type;
  cycle_.on_commit.push_back([this, type] { metrics_.CountAccepted(type); });
  spdlog::debug("event=accepted message_id={} type={} from={} seq={}", header.message_id,
                header.type, header.from, seq);
}

bool Broker::TakePublishToken(const std::string& endpoint, core::Micros now) {
  if (config_.max_publishes_per_second <= 0) return true;
  const double rate = static_cast<double>(config_.max_publishes_per_second);
  PublishBudget& budget = publish_budgets_[endpoint];
  double elapsed =
      budget.refilled_at == 0
          ? 1.0  // a new endpoint starts with a full second's worth
          : static_cast<double>(std::max<core::Micros>(0, now - budget.refilled_at)) / 1e6;
  budget.tokens = std::min(rate, budget.tokens + rate * elapsed);
  budget.refilled_at = now;
  if (budget.tokens >= 1) {
    budget.tokens -= 1;
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
  nlohmann::json refused = {
      {"message_id", ""},
      {"code", "UNAVAILABLE"},
      {"message", "publish rate limit exceeded; publishes over it are dropped; retry later"}};
  Send(peer.routing_id, protocol::Encode(protocol::Command::kRefused, {refused.dump()}));
}

void Broker::Refuse(const Peer& peer, const std::string& message_id, const Status& status,
                    const core::Header* header, core::Micros now) {
  metrics_.CountRefused(std::string(core::CodeName(status.code())));
  spdlog::info("event=refused message_id={} from={} code={}", message_id, peer.id,
               core::CodeName(status.code()));
  nlohmann::json refused = {{"message_id", message_id},
                            {"code", std::string(core::CodeName(status.code()))},
                            {"message", status.message()}};
  std::vector<std::string> frames = protocol::Encode(protocol::Command::kRefused, {refused.dump()});
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
