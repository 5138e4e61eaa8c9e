// AuditLog: records, Merkle nodes, trail indexes and signed tree heads in the broker store.
#include "audit_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "stafett/core/canonical_json.h"
#include "stafett/core/encoding.h"

namespace stafett::broker {

using core::Code;
using core::Status;

namespace {

// The definition: the record as a nlohmann::json object (keys sorted, no whitespace). Used
// as is for a record with a query or with a string outside printable ASCII.
std::string CanonicalRecordAsJson(uint64_t seq, core::Micros time, const AuditRecord& record,
                                  const AuditLinks* links) {
  nlohmann::json json = {{"seq", seq},
                         {"time", core::FormatRfc3339(time)},
                         {"event", record.event},
                         {"message_id", record.message_id},
                         {"type", record.type},
                         {"from", record.from},
                         {"to", record.to},
                         {"subject", record.subject},
                         {"consent_id", record.consent_id}};
  if (!record.code.empty()) json["code"] = record.code;
  if (!record.actor.empty()) json["actor"] = record.actor;
  if (!record.query.is_null()) json["query"] = record.query;
  if (!record.retention.is_null()) json["retention"] = record.retention;
  if (links != nullptr) {
    auto seq_or_null = [](const std::optional<uint64_t>& prev) {
      return prev ? nlohmann::json(*prev) : nlohmann::json(nullptr);
    };
    if (links->subject) json["prev_subject_seq"] = seq_or_null(*links->subject);
    if (!links->endpoints.empty()) {
      nlohmann::json endpoints = nlohmann::json::object();
      for (const auto& [endpoint, prev] : links->endpoints) endpoints[endpoint] = seq_or_null(prev);
      json["prev_endpoint_seq"] = endpoints;
    }
  }
  return json.dump();
}

}  // namespace

std::string CanonicalRecord(uint64_t seq, core::Micros time, const AuditRecord& record,
                            const AuditLinks* links) {
  if (!record.query.is_null() || !record.retention.is_null()) {
    return CanonicalRecordAsJson(seq, time, record, links);
  }
  // The same bytes written directly, keys in sorted order (core/canonical_json.h).
  core::CanonicalJsonWriter out(320);
  auto seq_or_null = [&out](const std::optional<uint64_t>& prev) {
    if (prev) {
      out.Number(*prev);
    } else {
      out.Raw("null");
    }
  };
  out.Raw("{");
  if (!record.actor.empty()) {
    out.Key("actor");
    out.String(record.actor);
    out.Raw(",");
  }
  if (!record.code.empty()) {
    out.Key("code");
    out.String(record.code);
    out.Raw(",");
  }
  out.Key("consent_id");
  out.String(record.consent_id);
  out.Raw(",");
  out.Key("event");
  out.String(record.event);
  out.Raw(",");
  out.Key("from");
  out.String(record.from);
  out.Raw(",");
  out.Key("message_id");
  out.String(record.message_id);
  out.Raw(",");
  if (links != nullptr && !links->endpoints.empty()) {
    out.Key("prev_endpoint_seq");
    out.Raw("{");
    bool first = true;
    for (const auto& [endpoint, prev] : links->endpoints) {
      if (!first) out.Raw(",");
      first = false;
      out.String(endpoint);
      out.Raw(":");
      seq_or_null(prev);
    }
    out.Raw("},");
  }
  if (links != nullptr && links->subject) {
    out.Key("prev_subject_seq");
    seq_or_null(*links->subject);
    out.Raw(",");
  }
  out.Key("seq");
  out.Number(seq);
  out.Raw(",");
  out.Key("subject");
  out.String(record.subject);
  out.Raw(",");
  out.Key("time");
  out.String(core::FormatRfc3339(time));
  out.Raw(",");
  out.Key("to");
  out.Strings(record.to);
  out.Raw(",");
  out.Key("type");
  out.String(record.type);
  out.Raw("}");
  if (!out.plain()) return CanonicalRecordAsJson(seq, time, record, links);
  return out.Take();
}

std::string TreeHeadSigningInput(uint64_t tree_size, const core::Hash& root, core::Micros timestamp,
                                 const std::optional<core::Hash>& map_root) {
  if (!map_root) {
    return "stafett-tree-head-v1\n" + std::to_string(tree_size) + "\n" + core::HashToHex(root) +
           "\n" + core::FormatRfc3339(timestamp);
  }
  return "stafett-tree-head-v2\n" + std::to_string(tree_size) + "\n" + core::HashToHex(root) +
         "\n" + core::HashToHex(*map_root) + "\n" + core::FormatRfc3339(timestamp);
}

// The trail map's nodes: the pending overlay first, then the committed trail map space. Writes
// go to the overlay only; StageMap puts its final values into the cycle's transaction.
class AuditLog::MapStore : public core::MapNodeStore {
 public:
  static constexpr uint8_t kCachedDepth = 14;
  explicit MapStore(AuditLog& log) : log_(log) {}
  core::Result<std::optional<std::string>> GetNode(const std::string& node_key) const override {
    auto pending = log_.map_pending_.find(node_key);
    if (pending != log_.map_pending_.end()) return std::optional<std::string>(pending->second);
    bool cached = Cached(node_key);
    if (cached) {
      auto hit = log_.map_cache_.find(node_key);
      if (hit != log_.map_cache_.end()) return hit->second;
    }
    core::Result<std::optional<std::string>> stored = log_.store_.GetTrailMapNode(node_key);
    if (stored.ok() && cached) log_.map_cache_[node_key] = *stored;
    return stored;
  }
  // Nodes near the root are read by every update: kept in memory (committed values only), at
  // most 2^kCachedDepth of them per level.
  static bool Cached(const std::string& node_key) {
    return node_key.size() >= 2 && node_key[0] == 0 &&
           static_cast<uint8_t>(node_key[1]) < kCachedDepth;
  }
  void PutNode(const std::string& node_key, const std::string& value) override {
    log_.map_pending_[node_key] = value;
  }

 private:
  AuditLog& log_;
};

nlohmann::json TreeHeadToJson(const core::TreeHead& head) {
  nlohmann::json json = {{"tree_size", head.tree_size},
                         {"root_hash", core::HashToHex(head.root)},
                         {"timestamp", core::FormatRfc3339(head.timestamp)},
                         {"key_id", head.key_id},
                         {"signature", core::ToBase64(head.signature)}};
  if (head.map_root) json["map_root"] = core::HashToHex(*head.map_root);
  return json;
}

core::Result<std::unique_ptr<AuditLog>> AuditLog::Open(store::BrokerStore& store,
                                                       const core::SigningKeyPair& key,
                                                       std::string key_id) {
  std::unique_ptr<AuditLog> log(new AuditLog(store, key, std::move(key_id)));
  core::Result<uint64_t> stored_size = store.AuditSize();
  if (!stored_size.ok()) return stored_size.status();
  uint64_t size = *stored_size;
  core::Result<core::CompactRange> range = core::CompactRange::FromReader(size, *log);
  if (!range.ok()) {
    return Status(Code::kCorruption, "audit log: cannot rebuild the Merkle frontier at size " +
                                         std::to_string(size) + ": " + range.status().message());
  }
  log->range_ = std::move(range).value();
  MapStore map_store(*log);
  core::Result<core::Hash> map_root = core::SparseMap(map_store).Root();
  if (!map_root.ok()) {
    return Status(Code::kCorruption,
                  "audit log: cannot read the trail map's root: " + map_root.status().message());
  }
  log->map_root_ = *map_root;
  log->map_root_mark_ = *map_root;
  log->map_pending_.clear();
  return log;
}

core::CompactRange AuditLog::Mark() {
  // Everything pending is committed now: what is near the root moves into the cache.
  for (auto& [node_key, value] : map_pending_) {
    if (MapStore::Cached(node_key)) map_cache_[node_key] = std::move(value);
  }
  map_pending_.clear();
  map_root_mark_ = map_root_;
  return range_;
}

void AuditLog::Restore(const core::CompactRange& mark) {
  range_ = mark;
  map_root_ = map_root_mark_;
  map_pending_.clear();
  map_stale_.clear();
}

void AuditLog::SettleMap() {
  if (map_stale_.empty()) return;
  MapStore map_store(*this);
  core::SparseMap map(map_store);
  Status rehashed = map.Rehash(&map_stale_);
  core::Result<core::Hash> root = rehashed.ok() ? map.Root() : core::Result<core::Hash>(rehashed);
  if (!root.ok()) {
    spdlog::critical("event=audit_map_corrupt size={} error=\"{}\"", range_.size(),
                     root.status().message());
    std::abort();
  }
  map_root_ = *root;
}

void AuditLog::StageMap(store::BrokerTransaction* transaction) {
  SettleMap();
  for (const auto& [node_key, value] : map_pending_) transaction->PutTrailMapNode(node_key, value);
}

core::Hash AuditLog::MapRoot() {
  SettleMap();
  return map_root_;
}

core::Result<core::MapProof> AuditLog::ProveTrail(char kind, const std::string& id) {
  SettleMap();
  MapStore map_store(*this);
  return core::SparseMap(map_store).Prove(core::TrailMapKey(kind, id));
}

uint64_t AuditLog::Append(store::BrokerTransaction* transaction, core::Micros time,
                          const AuditRecord& record) {
  uint64_t seq = range_.size();
  std::vector<std::string> endpoints = record.to;
  endpoints.push_back(record.from);
  endpoints.push_back(record.actor);
  std::sort(endpoints.begin(), endpoints.end());
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
  endpoints.erase(std::remove(endpoints.begin(), endpoints.end(), std::string()), endpoints.end());
  // The trail map: each trail's latest seq becomes this one; what it held is the back link.
  // The paths' hashes are brought up to date once per cycle (SettleMap).
  MapStore map_store(*this);
  core::SparseMap map(map_store);
  AuditLinks links;
  auto link = [&](char kind, const std::string& id) -> std::optional<uint64_t> {
    core::Result<std::optional<uint64_t>> previous =
        map.SetDeferred(core::TrailMapKey(kind, id), seq, &map_stale_);
    if (!previous.ok()) {
      spdlog::critical("event=audit_map_corrupt seq={} error=\"{}\"", seq,
                       previous.status().message());
      std::abort();
    }
    return *previous;
  };
  if (!record.subject.empty()) links.subject = link('s', record.subject);
  for (const std::string& endpoint : endpoints) links.endpoints[endpoint] = link('e', endpoint);
  std::string leaf = CanonicalRecord(seq, time, record, &links);
  core::CompactRange::NewNodes nodes;
  range_.Append(core::LeafHash(leaf), &nodes);
  transaction->AppendAuditLeaf(seq, leaf);
  for (const auto& [address, hash] : nodes) {
    transaction->PutMerkleNode(address.level, address.index, hash);
  }
  if (!record.subject.empty()) {
    transaction->PutTrailEntry(core::TrailEntry{core::TrailKind::kSubject, record.subject, seq});
  }
  if (!record.message_id.empty()) {
    transaction->PutTrailEntry(core::TrailEntry{core::TrailKind::kMessage, record.message_id, seq});
  }
  for (const std::string& endpoint : endpoints) {
    transaction->PutTrailEntry(core::TrailEntry{core::TrailKind::kEndpoint, endpoint, seq});
  }
  return seq;
}

SignedTreeHead AuditLog::SignHead(store::BrokerTransaction* transaction, core::Micros now) {
  SettleMap();
  SignedTreeHead head;
  head.tree_size = range_.size();
  head.root = range_.Root();
  head.timestamp = core::ParseRfc3339(core::FormatRfc3339(now)).value_or(now);  // ms precision
  head.map_root = map_root_;
  head.key_id = key_id_;
  head.signature = core::Sign(
      key_, TreeHeadSigningInput(head.tree_size, head.root, head.timestamp, head.map_root));
  transaction->PutTreeHead(head);
  return head;
}

core::Result<std::optional<SignedTreeHead>> AuditLog::LatestHead() const {
  return store_.LatestTreeHead();
}

core::Result<std::optional<SignedTreeHead>> AuditLog::HeadAt(uint64_t tree_size) const {
  return store_.GetTreeHead(tree_size);
}

core::Result<std::string> AuditLog::RecordAt(uint64_t seq) const {
  core::Result<std::optional<std::string>> stored = store_.GetAuditLeaf(seq);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return Status(Code::kNotFound, "no audit record at that position");
  return **stored;
}

core::Result<core::Hash> AuditLog::Get(uint32_t level, uint64_t index) const {
  core::Result<std::optional<core::Hash>> stored = store_.GetMerkleNode(level, index);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return Status(Code::kCorruption, "audit log: Merkle node missing at level " +
                                         std::to_string(level) + " index " + std::to_string(index));
  }
  return **stored;
}

}  // namespace stafett::broker
