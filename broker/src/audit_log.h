// AuditLog: the append-only audit log as an RFC 6962 Merkle tree in the broker's RocksDB
// (docs/AUDIT.md). Records, Merkle nodes and trail indexes are appended into the caller's
// store transaction, so an event's audit record commits atomically with its other effects.
// Thread-safety: owned by the broker loop thread; not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/merkle.h"
#include "stafett/core/records/tree_head.h"
#include "stafett/core/sparse_map.h"
#include "stafett/core/status.h"
#include "stafett/store/broker_store.h"

namespace stafett::broker {

// One audit record. Never a personnummer, name or body: the subject is the child's pseudonym.
struct AuditRecord {
  std::string event;  // accepted, refused, delivered, expired, withheld, consent_granted, …
  std::string message_id, type, from;
  std::vector<std::string> to;
  std::string subject;       // pseudonym
  std::string consent_id;    // may be empty
  std::string code;          // refusal or withholding code; empty otherwise
  std::string actor;         // for audit_query: the auditor's id
  nlohmann::json query;      // for audit_query: the query (pseudonyms only); null otherwise
  nlohmann::json retention;  // for retention: what was removed (counts, seq range); else null
};

// The back links of a record: for each trail it belongs to, the seq of that trail's previous
// record (nullopt: it is the trail's first). docs/AUDIT.md, "Complete trails".
struct AuditLinks {
  std::optional<std::optional<uint64_t>> subject;            // set iff the record has a subject
  std::map<std::string, std::optional<uint64_t>> endpoints;  // every endpoint named
};

// The canonical leaf input: UTF-8 JSON, keys sorted, no whitespace; with LINKS, the fields
// prev_subject_seq and prev_endpoint_seq.
std::string CanonicalRecord(uint64_t seq, core::Micros time, const AuditRecord& record,
                            const AuditLinks* links = nullptr);

// A signed tree head: the stored record (core/records/tree_head.h).
using SignedTreeHead = core::TreeHead;
// As the protocol and the auditor's files carry it: hex hashes, RFC 3339 time, base64 signature.
nlohmann::json TreeHeadToJson(const core::TreeHead& head);

// "stafett-tree-head-v2\n" size "\n" hex(root) "\n" hex(map_root) "\n" RFC 3339 timestamp;
// without MAP_ROOT the v1 form "stafett-tree-head-v1\n" size "\n" hex(root) "\n" timestamp.
std::string TreeHeadSigningInput(uint64_t tree_size, const core::Hash& root, core::Micros timestamp,
                                 const std::optional<core::Hash>& map_root = std::nullopt);

class AuditLog : public core::NodeReader {
 public:
  static core::Result<std::unique_ptr<AuditLog>> Open(store::BrokerStore& store,
                                                      const core::SigningKeyPair& key,
                                                      std::string key_id);

  // Appends RECORD at the next position; returns its seq. Links it to the previous record of
  // its subject's and of each named endpoint's trail, and sets those trails' latest seq in the
  // trail map. Indexes: subject, every endpoint named (from, to, actor) and the message id.
  // A trail map that cannot be read is corruption the log cannot be extended past: logged
  // (event=audit_map_corrupt) and the process aborts (restart refuses to open it).
  uint64_t Append(store::BrokerTransaction* transaction, core::Micros time,
                  const AuditRecord& record);

  // The in-memory state at the start of a batch (everything before it committed), to restore
  // if the batch fails to commit. Mark also drops the overlay of trail map nodes written by
  // committed batches; call it at the start of every batch.
  core::CompactRange Mark();
  void Restore(const core::CompactRange& mark);

  uint64_t size() const { return range_.size(); }
  core::Hash Root() const { return range_.Root(); }
  core::Hash MapRoot();
  // The proof of a trail's latest seq in the trail map (kind 's' or 'e').
  core::Result<core::MapProof> ProveTrail(char kind, const std::string& id);
  // Puts the trail map nodes this batch changed into TRANSACTION, each once with its final
  // value (Append only stages them in memory): call it once, when the batch is sealed.
  void StageMap(store::BrokerTransaction* transaction);

  // Signs a head for the current size and adds it to TRANSACTION.
  SignedTreeHead SignHead(store::BrokerTransaction* transaction, core::Micros now);
  // The newest stored head, or the head stored for exactly TREE_SIZE.
  core::Result<std::optional<SignedTreeHead>> LatestHead() const;
  core::Result<std::optional<SignedTreeHead>> HeadAt(uint64_t tree_size) const;
  // A stored record's canonical bytes.
  core::Result<std::string> RecordAt(uint64_t seq) const;

  // NodeReader over committed Merkle nodes.
  core::Result<core::Hash> Get(uint32_t level, uint64_t index) const override;

 private:
  AuditLog(store::BrokerStore& store, const core::SigningKeyPair& key, std::string key_id)
      : store_(store), key_(key), key_id_(std::move(key_id)) {}

  class MapStore;
  // Rehashes the trail map paths Append left stale and sets map_root_; a map that cannot be
  // read is corruption: logged (event=audit_map_corrupt) and the process aborts.
  void SettleMap();

  store::BrokerStore& store_;
  const core::SigningKeyPair& key_;
  std::string key_id_;
  core::CompactRange range_;
  core::Hash map_root_{};
  core::Hash map_root_mark_{};
  // Trail map nodes written since the last Mark (read your writes across a batch).
  std::unordered_map<std::string, std::string> map_pending_;
  // Interior nodes on the paths Append changed, to rehash before the root is read.
  core::StaleNodes map_stale_;
  // Committed trail map nodes near the root (absent ones as nullopt); see MapStore.
  mutable std::unordered_map<std::string, std::optional<std::string>> map_cache_;
};

}  // namespace stafett::broker
