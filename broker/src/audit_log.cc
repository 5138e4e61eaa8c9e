// AuditLog: records, Merkle nodes, trail indexes and signed tree heads in RocksDB.
#include "audit_log.h"

#include <spdlog/spdlog.h>

#include "stafett/core/encoding.h"

namespace stafett::broker {

using core::Code;
using core::Status;

std::string CanonicalRecord(uint64_t seq, core::Micros time, const AuditRecord& record) {
  // nlohmann::json objects keep keys sorted; dump() without indent has no whitespace.
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
  return json.dump();
}

std::string TreeHeadSigningInput(uint64_t tree_size, const core::Hash& root,
                                 core::Micros timestamp) {
  return "stafett-tree-head-v1\n" + std::to_string(tree_size) + "\n" + core::HashToHex(root) +
         "\n" + core::FormatRfc3339(timestamp);
}

nlohmann::json SignedTreeHead::ToJson() const {
  return {{"tree_size", tree_size},
          {"root_hash", core::HashToHex(root)},
          {"timestamp", core::FormatRfc3339(timestamp)},
          {"key_id", key_id},
          {"signature", core::ToBase64(signature)}};
}

core::Result<SignedTreeHead> SignedTreeHead::FromJson(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("tree_size") || !json["tree_size"].is_number_unsigned()) {
    return Status(Code::kCorruption, "tree head: tree_size missing");
  }
  SignedTreeHead head;
  head.tree_size = json["tree_size"].get<uint64_t>();
  std::optional<std::string> root = core::FromHex(json.value("root_hash", ""));
  std::optional<core::Micros> timestamp = core::ParseRfc3339(json.value("timestamp", ""));
  std::optional<std::string> signature = core::FromBase64(json.value("signature", ""));
  if (!root || root->size() != 32 || !timestamp || !signature) {
    return Status(Code::kCorruption, "tree head: malformed root, timestamp or signature");
  }
  std::copy(root->begin(), root->end(), head.root.begin());
  head.timestamp = *timestamp;
  head.key_id = json.value("key_id", "");
  head.signature = *signature;
  return head;
}

core::Result<std::unique_ptr<AuditLog>> AuditLog::Open(Store& store,
                                                       const core::SigningKeyPair& key,
                                                       std::string key_id) {
  std::unique_ptr<AuditLog> log(new AuditLog(store, key, std::move(key_id)));
  uint64_t size = 0;
  if (std::optional<std::string> last = store.LastKeyWithPrefix(Family::kAudit, "")) {
    size = DecodeBigEndian64(*last) + 1;
  }
  core::Result<core::CompactRange> range = core::CompactRange::FromReader(size, *log);
  if (!range.ok()) {
    return Status(Code::kCorruption, "audit log: cannot rebuild the Merkle frontier at size " +
                                         std::to_string(size) + ": " + range.status().message());
  }
  log->range_ = std::move(range).value();
  return log;
}

uint64_t AuditLog::Append(rocksdb::WriteBatch* batch, core::Micros time,
                          const AuditRecord& record) {
  uint64_t seq = range_.size();
  std::string leaf = CanonicalRecord(seq, time, record);
  core::CompactRange::NewNodes nodes;
  range_.Append(core::LeafHash(leaf), &nodes);
  batch->Put(store_.Handle(Family::kAudit), EncodeBigEndian64(seq), leaf);
  for (const auto& [address, hash] : nodes) {
    batch->Put(store_.Handle(Family::kMerkle), MerkleKey(address.level, address.index),
               rocksdb::Slice(reinterpret_cast<const char*>(hash.data()), hash.size()));
  }
  rocksdb::ColumnFamilyHandle* trail = store_.Handle(Family::kTrail);
  if (!record.subject.empty()) batch->Put(trail, TrailKey('s', record.subject, seq), "");
  if (!record.message_id.empty()) batch->Put(trail, TrailKey('m', record.message_id, seq), "");
  std::vector<std::string> endpoints = record.to;
  endpoints.push_back(record.from);
  endpoints.push_back(record.actor);
  std::sort(endpoints.begin(), endpoints.end());
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
  for (const std::string& endpoint : endpoints) {
    if (!endpoint.empty()) batch->Put(trail, TrailKey('e', endpoint, seq), "");
  }
  return seq;
}

SignedTreeHead AuditLog::SignHead(rocksdb::WriteBatch* batch, core::Micros now) const {
  SignedTreeHead head;
  head.tree_size = range_.size();
  head.root = range_.Root();
  head.timestamp = core::ParseRfc3339(core::FormatRfc3339(now)).value_or(now);  // ms precision
  head.key_id = key_id_;
  head.signature =
      core::Sign(key_, TreeHeadSigningInput(head.tree_size, head.root, head.timestamp));
  batch->Put(store_.Handle(Family::kHeads), EncodeBigEndian64(head.tree_size),
             head.ToJson().dump());
  return head;
}

core::Result<std::optional<SignedTreeHead>> AuditLog::LatestHead() const {
  std::optional<std::string> last = store_.LastKeyWithPrefix(Family::kHeads, "");
  if (!last) return std::optional<SignedTreeHead>();
  return HeadAt(DecodeBigEndian64(*last));
}

core::Result<std::optional<SignedTreeHead>> AuditLog::HeadAt(uint64_t tree_size) const {
  core::Result<std::optional<std::string>> stored =
      store_.Get(Family::kHeads, EncodeBigEndian64(tree_size));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<SignedTreeHead>();
  core::Result<SignedTreeHead> head =
      SignedTreeHead::FromJson(nlohmann::json::parse(**stored, nullptr, false));
  if (!head.ok()) return head.status();
  return std::optional<SignedTreeHead>(*head);
}

core::Result<std::string> AuditLog::RecordAt(uint64_t seq) const {
  core::Result<std::optional<std::string>> stored =
      store_.Get(Family::kAudit, EncodeBigEndian64(seq));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return Status(Code::kNotFound, "no audit record at that position");
  return **stored;
}

core::Result<core::Hash> AuditLog::Get(uint32_t level, uint64_t index) const {
  core::Result<std::optional<std::string>> stored =
      store_.Get(Family::kMerkle, MerkleKey(level, index));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || (*stored)->size() != 32) {
    return Status(Code::kCorruption, "audit log: Merkle node missing at level " +
                                         std::to_string(level) + " index " + std::to_string(index));
  }
  core::Hash hash;
  std::copy((*stored)->begin(), (*stored)->end(), hash.begin());
  return hash;
}

}  // namespace stafett::broker
