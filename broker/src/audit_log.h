// AuditLog: the append-only audit log as an RFC 6962 Merkle tree in the broker's RocksDB
// (docs/AUDIT.md). Records, Merkle nodes and trail indexes are appended into the caller's
// WriteBatch, so an event's audit record commits atomically with its other effects.
// Thread-safety: owned by the broker loop thread; not thread-safe.
#pragma once

#include <rocksdb/write_batch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/merkle.h"
#include "stafett/core/status.h"
#include "store.h"

namespace stafett::broker {

// One audit record. Never a personnummer, name or body: the subject is the child's pseudonym.
struct AuditRecord {
  std::string event;  // accepted, refused, delivered, expired, withheld, consent_granted, …
  std::string message_id, type, from;
  std::vector<std::string> to;
  std::string subject;     // pseudonym
  std::string consent_id;  // may be empty
  std::string code;        // refusal or withholding code; empty otherwise
  std::string actor;       // for audit_query: the auditor's id
  nlohmann::json query;    // for audit_query: the query (pseudonyms only); null otherwise
};

// The canonical leaf input: UTF-8 JSON, keys sorted, no whitespace.
std::string CanonicalRecord(uint64_t seq, core::Micros time, const AuditRecord& record);

struct SignedTreeHead {
  uint64_t tree_size = 0;
  core::Hash root{};
  core::Micros timestamp = 0;
  std::string key_id;
  std::string signature;  // Ed25519 over TreeHeadSigningInput
  nlohmann::json ToJson() const;
  static core::Result<SignedTreeHead> FromJson(const nlohmann::json& json);
};

// "stafett-tree-head-v1\n" size "\n" hex(root) "\n" RFC 3339 timestamp.
std::string TreeHeadSigningInput(uint64_t tree_size, const core::Hash& root,
                                 core::Micros timestamp);

class AuditLog : public core::NodeReader {
 public:
  static core::Result<std::unique_ptr<AuditLog>> Open(Store& store, const core::SigningKeyPair& key,
                                                      std::string key_id);

  // Appends RECORD at the next position; returns its seq. Indexes: subject, every endpoint
  // named (from, to, actor) and the message id.
  uint64_t Append(rocksdb::WriteBatch* batch, core::Micros time, const AuditRecord& record);

  // The in-memory tree state before a batch, to restore if the batch fails to commit.
  core::CompactRange Mark() const { return range_; }
  void Restore(const core::CompactRange& mark) { range_ = mark; }

  uint64_t size() const { return range_.size(); }
  core::Hash Root() const { return range_.Root(); }

  // Signs a head for the current size and adds it to BATCH.
  SignedTreeHead SignHead(rocksdb::WriteBatch* batch, core::Micros now) const;
  // The newest stored head, or the head stored for exactly TREE_SIZE.
  core::Result<std::optional<SignedTreeHead>> LatestHead() const;
  core::Result<std::optional<SignedTreeHead>> HeadAt(uint64_t tree_size) const;
  // A stored record's canonical bytes.
  core::Result<std::string> RecordAt(uint64_t seq) const;

  // NodeReader over committed Merkle nodes.
  core::Result<core::Hash> Get(uint32_t level, uint64_t index) const override;

 private:
  AuditLog(Store& store, const core::SigningKeyPair& key, std::string key_id)
      : store_(store), key_(key), key_id_(std::move(key_id)) {}

  Store& store_;
  const core::SigningKeyPair& key_;
  std::string key_id_;
  core::CompactRange range_;
};

}  // namespace stafett::broker
