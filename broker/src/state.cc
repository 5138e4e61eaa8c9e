// Broker state: message and consent records read through the pending cycle's overlay, queue
// entries, audit appends, and the counters recovered at start.
#include <spdlog/spdlog.h>

#include "broker.h"

namespace stafett::broker {

using core::Code;
using core::Status;

core::Result<std::optional<nlohmann::json>> Broker::LoadMessage(const std::string& message_id) {
  auto pending = cycle_.messages.find(message_id);
  if (pending != cycle_.messages.end()) return std::optional<nlohmann::json>(pending->second);
  core::Result<std::optional<std::string>> stored = store_->Get(Family::kMessages, message_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<nlohmann::json>();
  nlohmann::json state = nlohmann::json::parse(**stored, nullptr, false);
  if (!state.is_object()) {
    return store_->ReportCorruption(Family::kMessages, "a message state is not a JSON object");
  }
  return std::optional<nlohmann::json>(std::move(state));
}

void Broker::StoreMessage(const std::string& message_id, nlohmann::json state) {
  cycle_.batch.Put(store_->Handle(Family::kMessages), message_id, state.dump());
  cycle_.messages[message_id] = std::move(state);
  ++cycle_.events;
}

namespace {

nlohmann::json ConsentToJson(const core::ConsentFacts& consent) {
  return {{"consent_id", consent.consent_id},   {"subject", consent.subject},
          {"recorded_by", consent.recorded_by}, {"parties", consent.parties},
          {"purposes", consent.purposes},       {"valid_from", consent.valid_from},
          {"valid_until", consent.valid_until}, {"revoked", consent.revoked}};
}

core::ConsentFacts ConsentFromJson(const nlohmann::json& json) {
  core::ConsentFacts consent;
  consent.consent_id = json.value("consent_id", "");
  consent.subject = json.value("subject", "");
  consent.recorded_by = json.value("recorded_by", "");
  consent.parties = json.value("parties", std::vector<std::string>());
  consent.purposes = json.value("purposes", std::vector<std::string>());
  consent.valid_from = json.value("valid_from", int64_t{0});
  consent.valid_until = json.value("valid_until", int64_t{0});
  consent.revoked = json.value("revoked", false);
  return consent;
}

}  // namespace

core::Result<std::optional<core::ConsentFacts>> Broker::LoadConsent(const std::string& consent_id) {
  if (consent_id.empty()) return std::optional<core::ConsentFacts>();
  auto pending = cycle_.consents.find(consent_id);
  if (pending != cycle_.consents.end()) {
    return std::optional<core::ConsentFacts>(ConsentFromJson(pending->second));
  }
  core::Result<std::optional<std::string>> stored = store_->Get(Family::kConsents, consent_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<core::ConsentFacts>();
  nlohmann::json json = nlohmann::json::parse(**stored, nullptr, false);
  if (!json.is_object()) {
    return store_->ReportCorruption(Family::kConsents, "a consent state is not a JSON object");
  }
  return std::optional<core::ConsentFacts>(ConsentFromJson(json));
}

void Broker::StoreConsent(const core::ConsentFacts& consent, const nlohmann::json& extra) {
  nlohmann::json json = ConsentToJson(consent);
  auto pending = cycle_.consents.find(consent.consent_id);
  if (pending != cycle_.consents.end()) {
    for (auto& [key, value] : pending->second.items()) {
      if (!json.contains(key)) json[key] = value;
    }
  } else if (core::Result<std::optional<std::string>> stored =
                 store_->Get(Family::kConsents, consent.consent_id);
             stored.ok() && stored->has_value()) {
    nlohmann::json earlier = nlohmann::json::parse(**stored, nullptr, false);
    if (earlier.is_object()) {
      for (auto& [key, value] : earlier.items()) {
        if (!json.contains(key)) json[key] = value;
      }
    }
  }
  for (auto& [key, value] : extra.items()) json[key] = value;
  cycle_.batch.Put(store_->Handle(Family::kConsents), consent.consent_id, json.dump());
  // subject → consents, for the consents query.
  cycle_.batch.Put(store_->Handle(Family::kTrail),
                   TrailPrefix('k', consent.subject) + consent.consent_id, "");
  cycle_.consents[consent.consent_id] = std::move(json);
  ++cycle_.events;
}

uint64_t Broker::AppendAudit(core::Micros now, const AuditRecord& record) {
  ++cycle_.events;
  return audit_->Append(&cycle_.batch, now, record);
}

uint64_t Broker::EnqueueEntry(const std::string& endpoint, const nlohmann::json& entry) {
  uint64_t queue_seq = ++queue_seq_;
  cycle_.batch.Put(store_->Handle(Family::kQueues), QueueKey(endpoint, queue_seq), entry.dump());
  cycle_.wake.insert(endpoint);
  ++cycle_.events;
  cycle_.on_commit.push_back([this, endpoint] { ++queue_depth_[endpoint]; });
  return queue_seq;
}

void Broker::RemoveQueueEntry(const std::string& endpoint, uint64_t queue_seq) {
  std::string key = QueueKey(endpoint, queue_seq);
  if (!cycle_.removed_queue_keys.insert(key).second) return;
  cycle_.batch.Delete(store_->Handle(Family::kQueues), key);
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
  std::unique_ptr<rocksdb::Iterator> it = store_->NewIterator(Family::kQueues);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() < 9) return Status(Code::kCorruption, "queue key too short");
    std::string endpoint(key.data(), key.size() - 9);
    uint64_t queue_seq = DecodeBigEndian64(std::string_view(key.data() + key.size() - 8, 8));
    queue_seq_ = std::max(queue_seq_, queue_seq);
    ++queue_depth_[endpoint];
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning queues");
  // Receipts may have been deleted after the largest message entry; keep seqs unique anyway by
  // never going below the value recorded in meta.
  core::Result<std::optional<std::string>> stored = store_->Get(Family::kMeta, "queue_seq");
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) queue_seq_ = std::max(queue_seq_, DecodeBigEndian64(**stored));
  return Status::Ok();
}

}  // namespace stafett::broker
