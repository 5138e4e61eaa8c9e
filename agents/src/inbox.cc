// Inbox: verify, decrypt, validate, check consent, write durably, then acknowledge.
#include "inbox.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "consent_sync.h"
#include "document.h"
#include "file_util.h"
#include "stafett/core/encoding.h"
#include "stafett/core/fhir_mapping.h"
#include "stafett/core/ids.h"
#include "stafett/core/rules.h"
#include "storage.h"

namespace stafett::agent {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

Inbox::Inbox(const AgentConfig& config, const Trust& trust, const core::PseudonymKey& pseudonym_key,
             store::AgentJournal& journal, Metrics& metrics, const core::Clock& clock,
             FileSystem& files)
    : config_(config),
      trust_(trust),
      pseudonym_key_(pseudonym_key),
      journal_(journal),
      files_(config.inbox, journal, files),
      metrics_(metrics),
      clock_(clock) {}

core::Result<std::string> Inbox::InboxText(const nlohmann::json& document) const {
  if (config_.inbox_format != "fhir") return document.dump(2) + "\n";
  core::Result<nlohmann::json> bundle = core::FhirInboxBundle(document);
  if (!bundle.ok()) return bundle.status();
  return bundle->dump(2) + "\n";
}

Status Inbox::Prepare() const { return EnsureWritableFolder(config_.inbox); }

ConnectionHandler::Reply Inbox::Reject(const nlohmann::json& meta, const std::string& message_id,
                                       const Status& why) {
  std::string code(core::CodeName(why.code()));
  metrics_.CountRejected(code);
  spdlog::warn("event=delivery_rejected message_id={} code={}", message_id, code);
  return {protocol::Command::kRejected,
          {{"message_id", message_id},
           {"delivery", meta.value("delivery", uint64_t{0})},
           {"code", code},
           {"message", why.message()}}};
}

ConnectionHandler::Reply Inbox::Delivered(const nlohmann::json& meta, const core::Header& header) {
  const OwnKeySet& own = trust_.CurrentOwn(clock_.Now());
  std::string signature = core::Sign(
      own.signing, core::ReceiptSigningInput(header.message_id, header.payload_digest, config_.id));
  return {protocol::Command::kDelivered,
          {{"message_id", header.message_id},
           {"delivery", meta.value("delivery", uint64_t{0})},
           {"receipt_key", own.key_id},
           {"receipt_signature", core::ToBase64(signature)}}};
}

std::optional<ConnectionHandler::Reply> Inbox::Deliver(const nlohmann::json& meta,
                                                       const core::Envelope& envelope) {
  core::Result<core::Header> parsed = core::ParseHeader(envelope.header_bytes);
  if (!parsed.ok()) return Reject(meta, "", parsed.status());
  const core::Header& header = *parsed;
  const std::string& id = header.message_id;
  if (!Contains(header.to, config_.id)) {
    return Reject(meta, id, Status(Code::kNotAllowed, "the message is not addressed to us"));
  }
  const DirectoryKey* sender_key = trust_.KeyById(header.from, header.sender_key_id);
  if (sender_key == nullptr || !trust_.IsEndpoint(header.from)) {
    return Reject(meta, id, Status(Code::kBadSignature, "the sender key is not in the directory"));
  }
  Status verified = core::VerifyEnvelope(envelope, header, sender_key->signing);
  if (!verified.ok()) return Reject(meta, id, verified);
  core::Result<bool> kept = files_.AlreadyKept(id, clock_.Now());
  if (!kept.ok()) return std::nullopt;
  if (*kept) {
    ++metrics_.inbox_duplicates;
    spdlog::info("event=redelivery_acknowledged message_id={}", id);
    return Delivered(meta, header);
  }
  const core::WrappedKey* wrapped = core::FindWrappedKey(header, config_.id);
  const OwnKeySet* own = wrapped == nullptr ? nullptr : trust_.OwnById(wrapped->key_id);
  if (own == nullptr) {
    return Reject(meta, id, Status(Code::kDecryptFailed, "no key set for the wrapped key"));
  }
  core::Result<std::string> opened =
      core::OpenEnvelope(envelope, header, config_.id, own->encryption);
  if (!opened.ok()) return Reject(meta, id, opened.status());
  nlohmann::json payload = nlohmann::json::parse(*opened, nullptr, false);
  if (!payload.is_object() || payload.value("v", 0) != 1 || !payload.contains("body") ||
      !payload.contains("personnummer") || !payload["personnummer"].is_string()) {
    return Reject(meta, id, Status(Code::kSchemaInvalid, "the payload is not a v1 payload"));
  }
  core::Micros now = clock_.Now();
  core::Result<core::Personnummer> number =
      core::ParsePersonnummer(payload["personnummer"].get<std::string>(), now);
  if (!number.ok()) return Reject(meta, id, number.status());
  if (core::Pseudonymise(pseudonym_key_, *number) != header.subject) {
    return Reject(meta, id,
                  Status(Code::kSchemaInvalid, "the payload's child differs from the header's"));
  }
  const nlohmann::json& body = payload["body"];
  std::vector<std::string> pointers;
  Status valid = ValidateBody(header.type, body, "/body", &pointers);
  if (!valid.ok()) return Reject(meta, id, valid);
  Status agrees = CheckAgainstHeader(header, body);
  if (!agrees.ok()) return Reject(meta, id, agrees);
  Status consent = CheckRoute(header);
  if (consent.code() == Code::kIoError) {
    spdlog::error("event=journal_failed message_id={} error=\"{}\"", id, consent.message());
    return std::nullopt;  // not answered: the broker delivers it again
  }
  if (consent.code() == Code::kConsentRequired && consent_sync_ != nullptr &&
      !consent_sync_->settled() && !header.consent_id.empty()) {
    // Not known yet — the consent table is being rebuilt from the broker (a lost or restored
    // journal): not answered, so the broker delivers it again (redeliver_after_seconds).
    consent_sync_->Kick();
    spdlog::info("event=delivery_deferred message_id={} reason=consents_not_synced", id);
    return std::nullopt;
  }
  if (!consent.ok()) return Reject(meta, id, consent);

  nlohmann::json document = {
      {"message_id", id},
      {"type", header.type},
      {"from", header.from},
      {"to", header.to},
      {"subject",
       {{"personnummer", core::FormatPersonnummer(*number)}, {"pseudonym", header.subject}}},
      {"consent_id",
       header.consent_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(header.consent_id)},
      {"body", body},
      {"sent_at", core::FormatRfc3339(header.sent_at)},
      {"expires_at", core::FormatRfc3339(header.expires_at)},
      {"received_at", core::FormatRfc3339(now)}};
  if (!header.ref.empty()) document["ref"] = header.ref;
  // What a recipient can check offline (stafett verify-inbox): the signed header as sent, the
  // sender's signature and key id, and the audit seq of the broker's acceptance.
  document["stafett"] = {{"header", core::ToBase64(envelope.header_bytes)},
                         {"signature", core::ToBase64(envelope.signature)},
                         {"key_id", header.sender_key_id},
                         {"seq", meta.value("seq", nlohmann::json(nullptr))}};
  core::Result<std::string> text = InboxText(document);
  if (!text.ok()) {
    // The body passed its checks, so the mapping cannot fail on it: a bug, not the sender's
    // fault. Not answered, so nothing is lost once it is fixed.
    spdlog::error("event=inbox_mapping_failed message_id={} error=\"{}\"", id,
                  text.status().message());
    return std::nullopt;
  }
  Status written = files_.Keep(id, *text, {now, header.type, header.expires_at});
  if (storage_ != nullptr) storage_->NoteWrite(written, "inbox");
  if (!written.ok()) {
    spdlog::error("event=inbox_write_failed message_id={} error=\"{}\"", id, written.message());
    return std::nullopt;  // not acknowledged: the broker delivers it again
  }
  LearnConsent(header);
  ++metrics_.inbox_writes;
  spdlog::info("event=delivered message_id={} type={} from={}", id, header.type, header.from);
  return Delivered(meta, header);
}

Status Inbox::CheckAgainstHeader(const core::Header& header, const nlohmann::json& body) {
  std::string ref = RefFromBody(body);
  if (ref != header.ref) {
    return Status(Code::kSchemaInvalid, "the body's reference differs from the header's");
  }
  if (core::IsConsentEvent(header.type) && body.value("consent_id", "") != header.consent_id) {
    return Status(Code::kSchemaInvalid, "the body's consent_id differs from the header's");
  }
  if (header.type == "consent_granted") {
    std::optional<core::ConsentScope> scope = ScopeFromBody(body);
    if (!scope || !header.consent || !(*scope == *header.consent)) {
      return Status(Code::kSchemaInvalid, "the body's consent scope differs from the header's");
    }
  }
  return Status::Ok();
}

Status Inbox::CheckRoute(const core::Header& header) {
  core::RouteFacts facts;
  facts.type = header.type;
  facts.from = header.from;
  facts.to = header.to;
  facts.subject = header.subject;
  facts.consent_id = header.consent_id;
  facts.ref = header.ref;
  facts.referenced_checked_upstream = true;
  // A grant is checked as of when it was sent (the broker checked it at acceptance): one
  // delivered after its consent expired is still the record of that consent.
  facts.now = header.type == "consent_granted" ? header.sent_at : clock_.Now();
  for (const std::string& id : header.to) {
    std::string kind = trust_.EndpointKind(id);
    if (!kind.empty()) facts.kinds[id] = kind;
  }
  if (std::string kind = trust_.EndpointKind(header.from); !kind.empty()) {
    facts.kinds[header.from] = kind;
  }
  if (header.consent) {
    facts.granted = core::ConsentFacts{header.consent_id,
                                       header.subject,
                                       header.from,
                                       header.consent->parties,
                                       header.consent->purposes,
                                       header.consent->valid_from,
                                       header.consent->valid_until,
                                       false};
  }
  std::optional<core::ConsentRecord> known;
  if (!header.consent_id.empty()) {
    core::Result<std::optional<core::ConsentRecord>> stored =
        journal_.GetConsent(header.consent_id);
    if (!stored.ok()) return Status(Code::kIoError, stored.status().message());
    known = std::move(stored).value();
    if (known) facts.consent = known->facts;
  }
  // What this agent may already know of a consent event from the broker's index (ConsentSync)
  // is not an earlier event: the broker checked "new" and "not yet revoked" before this one.
  if (facts.consent && facts.granted && header.type == "consent_granted") {
    core::ConsentFacts scope = *facts.consent;
    scope.revoked = false;
    if (scope == *facts.granted) facts.consent.reset();
  }
  if (known && header.type == "consent_revoked" && known->facts.revoked &&
      (!known->revocation || known->revocation->message_id == header.message_id)) {
    facts.consent->revoked = false;
  }
  return core::CheckRoute(facts);
}

void Inbox::LearnConsent(const core::Header& header) {
  // The signed event that taught the agent the consent: the message, its sender, when.
  core::ConsentEvent event{header.message_id, std::nullopt, header.from, clock_.Now()};
  std::optional<core::ConsentRecord> known;
  if (header.type == "consent_revoked") {
    core::Result<std::optional<core::ConsentRecord>> stored =
        journal_.GetConsent(header.consent_id);
    if (stored.ok()) known = *stored;
  }
  std::optional<core::ConsentRecord> learned = core::LearnConsent(
      header.type, header.consent_id, header.subject, header.from, header.consent, event, known);
  if (learned) journal_.PutConsent(*learned).ok();
}

void Inbox::BeginBurst() { files_.BeginBurst(); }

Status Inbox::FinishBurst() {
  size_t count = files_.burst_size();
  Status written = files_.FinishBurst();
  if (count > 0 && storage_ != nullptr) storage_->NoteWrite(written, "inbox");
  if (!written.ok()) {
    spdlog::error("event=inbox_write_failed files={} error=\"{}\"", count, written.message());
  }
  return written;
}

bool Inbox::WriteReceipt(const nlohmann::json& receipt) {
  std::string message_id = receipt.value("message_id", "");
  std::string recipient = receipt.value("recipient", "");
  if (!core::IsValidMessageId(message_id) || !core::IsValidEndpointId(recipient)) {
    spdlog::warn("event=receipt_malformed");
    return true;  // nothing to keep; acknowledge so it does not come back forever
  }
  if (!config_.receipt_files) return true;  // the journal has it; GET /v1/messages/{id} says it
  std::string name = "receipt-" + message_id + "-" + recipient + ".json";
  core::Result<bool> exists = files_.HasDocument(name);
  if (exists.ok() && *exists) return true;
  nlohmann::json document = {{"type", "delivery_receipt"},
                             {"message_id", message_id},
                             {"recipient", recipient},
                             {"status", receipt.value("status", "")},
                             {"time", receipt.value("time", "")}};
  if (receipt.contains("code")) document["code"] = receipt["code"];
  if (receipt.contains("seq")) document["seq"] = receipt["seq"];
  if (receipt.contains("receipt_key")) document["receipt_key"] = receipt["receipt_key"];
  if (receipt.contains("receipt_signature")) {
    document["receipt_signature"] = receipt["receipt_signature"];
  }
  core::Result<std::string> text = InboxText(document);
  if (!text.ok()) {
    spdlog::error("event=inbox_mapping_failed message_id={} error=\"{}\"", message_id,
                  text.status().message());
    return false;
  }
  Status written = files_.KeepDocument(name, *text);
  if (storage_ != nullptr) storage_->NoteWrite(written, "inbox");
  if (!written.ok()) {
    spdlog::error("event=receipt_write_failed message_id={} error=\"{}\"", message_id,
                  written.message());
    return false;
  }
  ++metrics_.inbox_writes;
  spdlog::info("event=receipt message_id={} recipient={} status={}", message_id, recipient,
               receipt.value("status", ""));
  return true;
}

}  // namespace stafett::agent
