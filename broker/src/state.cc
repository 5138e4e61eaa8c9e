// Broker state: message and consent records read through the pending cycle's overlay, queue
// entries, audit appends, and the counters recovered at start.
#include <spdlog/spdlog.h>

#include "broker.h"

namespace stafett::broker {

using core::Code;
using core::Status;

core::Result<std::optional<core::MessageState>> Broker::LoadMessage(const std::string& message_id) {
  auto pending = cycle_.messages.find(message_id);
  if (pending != cycle_.messages.end()) {
    return std::optional<core::MessageState>(pending->second);
  }
  if (cycle_.retired.count(message_id) != 0) return std::optional<core::MessageState>();
  if (const core::MessageState* recent = recent_messages_.Find(message_id)) {
    return std::optional<core::MessageState>(*recent);
  }
  return store_->GetMessageState(message_id);
}

void Broker::StoreMessage(const std::string& message_id, core::MessageState state) {
  cycle_.transaction.PutMessageState(message_id, state);
  cycle_.messages[message_id] = std::move(state);
  ++cycle_.events;
}

Status Broker::ScanMessageRecords(
    const std::string& message_id,
    const std::function<bool(uint64_t seq, const nlohmann::json& record)>& visit) {
  // Every read error is an error of the scan (CORRUPTION, logged and counted where it was
  // read), never a gap: a lost event must not read as none.
  Status failed;
  Status scanned =
      store_->ScanTrailFrom(core::TrailKind::kMessage, message_id, 0, [&](uint64_t seq) {
        core::Result<std::string> record = audit_->RecordAt(seq);
        if (!record.ok()) {
          failed = record.status().code() == Code::kNotFound
                       ? store_->ReportCorruption(store::Space::kTrail,
                                                  "a trail entry names a missing audit record")
                       : record.status();
          return false;
        }
        nlohmann::json json = nlohmann::json::parse(*record, nullptr, false);
        if (!json.is_object() || !json["event"].is_string()) {
          failed = store_->ReportCorruption(store::Space::kAudit, "an audit record is not JSON");
          return false;
        }
        return visit(seq, json);
      });
  return failed.ok() ? scanned : failed;
}

core::Result<std::optional<RetiredMessage>> Broker::FindRetired(const std::string& message_id) {
  // The message's own trail: its acceptance, if any, is its first record after any refusals of
  // earlier attempts under the id. One trail seek for an id never seen (every new message's
  // publish).
  std::optional<RetiredMessage> found;
  STAFETT_RETURN_IF_ERROR(
      ScanMessageRecords(message_id, [&](uint64_t seq, const nlohmann::json& json) {
        // An acceptance is `accepted`, or for the consent types the consent event itself.
        const std::string event = json["event"].get<std::string>();
        if (event != "accepted" && event != "consent_granted" && event != "consent_revoked") {
          return true;
        }
        RetiredMessage message;
        message.seq = seq;
        message.time = json.value("time", "");
        message.type = json.value("type", "");
        message.from = json.value("from", "");
        message.subject = json.value("subject", "");
        message.consent_id = json.value("consent_id", "");
        if (json.contains("to") && json["to"].is_array()) {
          for (const nlohmann::json& id : json["to"]) {
            if (id.is_string()) message.to.push_back(id.get<std::string>());
          }
        }
        found = std::move(message);
        return false;
      }));
  return found;
}

core::Result<std::optional<core::ConsentRecord>> Broker::LoadConsentRecord(
    const std::string& consent_id) {
  if (consent_id.empty()) return std::optional<core::ConsentRecord>();
  auto pending = cycle_.consents.find(consent_id);
  if (pending != cycle_.consents.end()) {
    return std::optional<core::ConsentRecord>(pending->second);
  }
  return store_->GetConsent(consent_id);
}

core::Result<std::optional<core::ConsentFacts>> Broker::LoadConsent(const std::string& consent_id) {
  core::Result<std::optional<core::ConsentRecord>> record = LoadConsentRecord(consent_id);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return std::optional<core::ConsentFacts>();
  return std::optional<core::ConsentFacts>((*record)->facts);
}

void Broker::StoreConsent(core::ConsentRecord record) {
  cycle_.transaction.PutConsent(record);
  // subject → consents, for the consents query.
  cycle_.transaction.PutTrailLink(core::TrailLink{core::TrailKind::kSubjectConsent,
                                                  record.facts.subject, record.facts.consent_id});
  std::string consent_id = record.facts.consent_id;
  cycle_.consents[consent_id] = std::move(record);
  ++cycle_.events;
}

uint64_t Broker::AppendAudit(core::Micros now, const AuditRecord& record) {
  ++cycle_.events;
  return audit_->Append(&cycle_.transaction, now, record);
}

uint64_t Broker::EnqueueEntry(const std::string& endpoint, const core::QueueEntry& entry) {
  uint64_t queue_seq = ++queue_seq_;
  cycle_.transaction.PutQueueEntry(endpoint, queue_seq, entry);
  cycle_.wake.insert(endpoint);
  ++cycle_.events;
  cycle_.on_commit.push_back([this, endpoint] { ++queue_depth_[endpoint]; });
  return queue_seq;
}

std::optional<core::QueueEntry> Broker::PendingQueueEntry(const std::string& endpoint,
                                                          uint64_t queue_seq) {
  if (cycle_.removed_queue_entries.count({endpoint, queue_seq}) != 0) return std::nullopt;
  core::Result<std::optional<core::QueueEntry>> stored = store_->GetQueueEntry(endpoint, queue_seq);
  if (!stored.ok()) return std::nullopt;  // reported (logged, counted) by the store
  return *stored;
}

void Broker::RemoveQueueEntry(const std::string& endpoint, uint64_t queue_seq) {
  if (!cycle_.removed_queue_entries.insert({endpoint, queue_seq}).second) return;
  cycle_.transaction.DeleteQueueEntry(endpoint, queue_seq);
  ++cycle_.events;
  // The freed slot in the endpoint's credit window is filled once the removal is durable
  // (after DELIVERED/REJECTED nothing else would dispatch the rest of a long queue).
  cycle_.wake.insert(endpoint);
  cycle_.on_commit.push_back([this, endpoint, queue_seq] {
    uint64_t& depth = queue_depth_[endpoint];
    if (depth > 0) --depth;
    auto session = sessions_.find(endpoint);
    if (session != sessions_.end()) session->second.in_flight.erase(queue_seq);
  });
}

Status Broker::RecoverCounters() {
  // Queue seqs are global and increasing; the largest one in use is the last key of some
  // endpoint's queue. Depths are counted once at start (keys only).
  STAFETT_RETURN_IF_ERROR(store_->ScanQueueKeys([this](std::string_view endpoint, uint64_t seq) {
    queue_seq_ = std::max(queue_seq_, seq);
    ++queue_depth_[std::string(endpoint)];
    return true;
  }));
  // Receipts may have been deleted after the largest message entry; keep seqs unique anyway by
  // never going below the value recorded in meta.
  core::Result<uint64_t> recorded = store_->QueueSeq();
  if (!recorded.ok()) return recorded.status();
  queue_seq_ = std::max(queue_seq_, *recorded);
  return Status::Ok();
}

}  // namespace stafett::broker
