// AuditVerifier: what `stafett audit verify` and `export` check — the signed tree head, the
// consistency with the last head this auditor saw, and every record against the head.
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "broker_client.h"
#include "stafett/core/merkle.h"
#include "stafett/core/status.h"

namespace stafett::tools {

struct TreeHead {
  uint64_t tree_size = 0;
  core::Hash root{};
  std::string timestamp, key_id, signature_base64;
  nlohmann::json json;
};

// Parses a signed head and checks its Ed25519 signature with the broker's key named by key_id.
core::Result<TreeHead> CheckSignedHead(const nlohmann::json& json,
                                       const keys::TrustDirectory& directory);

struct VerifyReport {
  uint64_t tree_size = 0;
  uint64_t records_checked = 0;
  std::optional<uint64_t> previous_size;  // the head this auditor saw before, if any
};

// Verifies against the broker: head signature, consistency from STATE_DIR/last_head.json,
// every record; on success saves the new head. Errors name the first failing position.
core::Result<VerifyReport> VerifyLog(BrokerClient& client, const std::filesystem::path& state_dir);

// Streams every record in [FROM_SEQ, head size) with its inclusion proof to EMIT.
core::Status ForEachRecordWithProof(BrokerClient& client, const TreeHead& head,
                                    const std::function<void(uint64_t seq, const std::string& leaf,
                                                             const nlohmann::json& proof)>& emit);

}  // namespace stafett::tools
