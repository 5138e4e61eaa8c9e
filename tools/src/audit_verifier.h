// AuditVerifier: what `stafett audit verify` and `export` check — the signed tree head, the
// consistency with the last head this auditor saw, and every record against the head.
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "broker_client.h"
#include "stafett/core/merkle.h"
#include "stafett/core/status.h"

namespace stafett::tools {

struct TreeHead {
  uint64_t tree_size = 0;
  core::Hash root{};
  std::optional<core::Hash> map_root;  // v2 heads: the trail map's root
  std::string timestamp, key_id, signature_base64;
  nlohmann::json json;
};

// A 32-byte hash from 64 hex digits; nullopt for anything else.
std::optional<core::Hash> HashFromHex(const std::string& hex);
// A proof's hashes from a JSON list of hex strings (CORRUPTION for anything else).
core::Result<std::vector<core::Hash>> HashesFromJson(const nlohmann::json& list);

// Parses a signed head and checks its Ed25519 signature with the broker's key named by key_id.
core::Result<TreeHead> CheckSignedHead(const nlohmann::json& json,
                                       const keys::TrustDirectory& directory);

struct VerifyReport {
  uint64_t tree_size = 0;
  uint64_t records_checked = 0;
  std::optional<uint64_t> previous_size;  // the head this auditor saw before, if any
};

// Writes HEAD as STATE_DIR/last_head.json (STATE_DIR created if needed) durably: temp file,
// fsync, rename, fsync of the folder (core::WriteFileDurably) — after a power cut the auditor
// finds the head it last verified or the one before, never a torn file.
core::Status SaveVerifiedHead(const std::filesystem::path& state_dir, const nlohmann::json& head);

// Verifies against the broker: head signature, consistency from STATE_DIR/last_head.json,
// every record; on success saves the new head (SaveVerifiedHead). Errors name the first failing
// position.
core::Result<VerifyReport> VerifyLog(BrokerClient& client, const std::filesystem::path& state_dir);

// A trail fetched whole and checked complete under one signed head (docs/AUDIT.md).
struct VerifiedTrail {
  TreeHead head;
  std::vector<nlohmann::json> records;  // ascending seq
};

// The chain check: starting from LATEST (the trail's latest seq in the trail map, nullopt: the
// trail is empty), each record must be in RECORDS (seq → record) and name its predecessor in
// this trail (prev_subject_seq for kind 's', prev_endpoint_seq[ID] for kind 'e'), down to the
// first (null); and RECORDS must hold nothing else. kCorruption naming the position on a gap.
core::Status CheckTrailChain(char kind, const std::string& id, std::optional<uint64_t> latest,
                             const std::map<uint64_t, nlohmann::json>& records);

// Fetches every page of the trail of ID (kind 's': a pseudonym, 'e': an endpoint) with proofs
// and checks: the head's signature, the map proof of the trail's latest seq under the head's
// map root, each record's inclusion under the head's root, and the chain. QUERY_EXTRA (from, to)
// is sent along to be recorded in the audit_query record; the records come unfiltered.
core::Result<VerifiedTrail> FetchVerifiedTrail(BrokerClient& client, char kind,
                                               const std::string& id,
                                               const nlohmann::json& query_extra);

// Streams every record in [FROM_SEQ, head size) with its inclusion proof to EMIT.
core::Status ForEachRecordWithProof(BrokerClient& client, const TreeHead& head,
                                    const std::function<void(uint64_t seq, const std::string& leaf,
                                                             const nlohmann::json& proof)>& emit);

}  // namespace stafett::tools
