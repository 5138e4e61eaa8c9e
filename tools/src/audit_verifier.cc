// AuditVerifier: head signatures, consistency proofs, and record-by-record inclusion checks.
#include "audit_verifier.h"

#include <fstream>
#include <set>
#include <sstream>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/durable_file.h"
#include "stafett/core/encoding.h"
#include "stafett/core/sparse_map.h"

namespace stafett::tools {

using core::Code;
using core::Status;

namespace {

constexpr uint64_t kPage = 1000;

std::string SigningInput(const TreeHead& head) {
  if (!head.map_root) {
    return "stafett-tree-head-v1\n" + std::to_string(head.tree_size) + "\n" +
           core::HashToHex(head.root) + "\n" + head.timestamp;
  }
  return "stafett-tree-head-v2\n" + std::to_string(head.tree_size) + "\n" +
         core::HashToHex(head.root) + "\n" + core::HashToHex(*head.map_root) + "\n" +
         head.timestamp;
}

std::string Position(uint64_t seq) { return "position " + std::to_string(seq); }

// The back link of RECORD in the trail (KIND, ID); kCorruption if it has none.
core::Result<std::optional<uint64_t>> BackLink(char kind, const std::string& id, uint64_t seq,
                                               const nlohmann::json& record) {
  const nlohmann::json* link = nullptr;
  if (kind == 's') {
    if (record.value("subject", "") == id && record.contains("prev_subject_seq")) {
      link = &record["prev_subject_seq"];
    }
  } else if (record.contains("prev_endpoint_seq") && record["prev_endpoint_seq"].is_object() &&
             record["prev_endpoint_seq"].contains(id)) {
    link = &record["prev_endpoint_seq"][id];
  }
  if (link == nullptr ||
      !(link->is_null() || (link->is_number_integer() && link->get<int64_t>() >= 0))) {
    return Status(Code::kCorruption, Position(seq) +
                                         ": the record carries no back link for this trail "
                                         "(not of this trail, or written before trails were "
                                         "chained)");
  }
  if (link->is_null()) return std::optional<uint64_t>();
  uint64_t prev = link->get<uint64_t>();
  if (prev >= seq) {
    return Status(Code::kCorruption, Position(seq) + ": the back link does not point back");
  }
  return std::optional<uint64_t>(prev);
}

}  // namespace

std::optional<core::Hash> HashFromHex(const std::string& hex) {
  std::optional<std::string> bytes = core::FromHex(hex);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  core::Hash hash;
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

core::Result<std::vector<core::Hash>> HashesFromJson(const nlohmann::json& list) {
  std::vector<core::Hash> hashes;
  if (!list.is_array()) return Status(Code::kCorruption, "proof is not a list");
  for (const nlohmann::json& item : list) {
    std::optional<core::Hash> hash =
        item.is_string() ? HashFromHex(item.get<std::string>()) : std::nullopt;
    if (!hash) return Status(Code::kCorruption, "proof hash is not 32 bytes of hex");
    hashes.push_back(*hash);
  }
  return hashes;
}

core::Status CheckTrailChain(char kind, const std::string& id, std::optional<uint64_t> latest,
                             const std::map<uint64_t, nlohmann::json>& records) {
  std::optional<uint64_t> expected = latest;
  std::optional<uint64_t> named_by;
  std::set<uint64_t> walked;
  while (expected) {
    auto found = records.find(*expected);
    if (found == records.end()) {
      std::string why = named_by
                            ? "named as the previous record of this trail by " + Position(*named_by)
                            : std::string("the trail's latest record under the signed head");
      return Status(Code::kCorruption, "gap at " + Position(*expected) + ": " + why +
                                           ", but missing from the trail the broker returned");
    }
    core::Result<std::optional<uint64_t>> prev = BackLink(kind, id, *expected, found->second);
    if (!prev.ok()) return prev.status();
    walked.insert(*expected);
    named_by = expected;
    expected = *prev;
  }
  for (const auto& [seq, record] : records) {
    if (walked.count(seq) == 0) {
      return Status(Code::kCorruption,
                    Position(seq) + ": the record is not in this trail's chain under the head");
    }
  }
  return Status::Ok();
}

core::Result<TreeHead> CheckSignedHead(const nlohmann::json& json,
                                       const keys::TrustDirectory& directory) {
  TreeHead head;
  if (!json.is_object() || !json.contains("tree_size") || !json["tree_size"].is_number_unsigned()) {
    return Status(Code::kCorruption, "the signed head is malformed");
  }
  head.json = json;
  head.tree_size = json["tree_size"].get<uint64_t>();
  std::optional<core::Hash> root = HashFromHex(json.value("root_hash", ""));
  if (!root) return Status(Code::kCorruption, "the signed head's root is malformed");
  head.root = *root;
  if (json.contains("map_root")) {
    std::optional<core::Hash> map_root = json["map_root"].is_string()
                                             ? HashFromHex(json["map_root"].get<std::string>())
                                             : std::nullopt;
    if (!map_root) return Status(Code::kCorruption, "the signed head's map_root is malformed");
    head.map_root = *map_root;
  }
  head.timestamp = json.value("timestamp", "");
  head.key_id = json.value("key_id", "");
  head.signature_base64 = json.value("signature", "");
  std::optional<std::string> signature = core::FromBase64(head.signature_base64);
  const keys::PublicKeys* key = nullptr;
  for (const keys::Principal& principal : directory.principals()) {
    if (principal.role == keys::Role::kBroker) key = directory.KeyById(principal.id, head.key_id);
    if (key != nullptr) break;
  }
  if (key == nullptr) {
    return Status(Code::kBadSignature, "the head is signed by a key that is not the broker's");
  }
  if (!signature || !core::Verify(key->signing, SigningInput(head), *signature)) {
    return Status(Code::kBadSignature, "the signed tree head's signature does not verify");
  }
  return head;
}

core::Status ForEachRecordWithProof(
    BrokerClient& client, const TreeHead& head,
    const std::function<void(uint64_t, const std::string&, const nlohmann::json&)>& emit) {
  for (uint64_t from = 0; from < head.tree_size; from += kPage) {
    uint64_t count = std::min(kPage, head.tree_size - from);
    core::Result<nlohmann::json> page =
        client.Query({{"op", "records"}, {"from_seq", from}, {"count", count}});
    if (!page.ok()) return page.status();
    nlohmann::json seqs = nlohmann::json::array();
    for (uint64_t seq = from; seq < from + count; ++seq) seqs.push_back(seq);
    core::Result<nlohmann::json> proofs =
        client.Query({{"op", "inclusion"}, {"seqs", seqs}, {"tree_size", head.tree_size}});
    if (!proofs.ok()) return proofs.status();
    const nlohmann::json& records = (*page)["records"];
    if (records.size() != count) {
      return Status(Code::kCorruption, "position " + std::to_string(from + records.size()) +
                                           ": record missing (the log is shorter than its head)");
    }
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t seq = from + i;
      const nlohmann::json& record = records[i];
      std::optional<std::string> leaf = core::FromBase64(record.value("leaf", ""));
      if (record.value("seq", UINT64_MAX) != seq || !leaf) {
        return Status(Code::kCorruption, "position " + std::to_string(seq) + ": record missing");
      }
      core::Result<std::vector<core::Hash>> proof = HashesFromJson((*proofs)["proofs"][i]["proof"]);
      if (!proof.ok()) {
        return Status(Code::kCorruption,
                      "position " + std::to_string(seq) + ": " + proof.status().message());
      }
      Status included =
          core::VerifyInclusion(seq, head.tree_size, core::LeafHash(*leaf), *proof, head.root);
      if (!included.ok()) {
        return Status(Code::kCorruption, "position " + std::to_string(seq) +
                                             ": the record is not the one the signed head covers");
      }
      nlohmann::json parsed = nlohmann::json::parse(*leaf, nullptr, false);
      if (!parsed.is_object() || parsed.value("seq", UINT64_MAX) != seq) {
        return Status(Code::kCorruption,
                      "position " + std::to_string(seq) + ": the record names another position");
      }
      emit(seq, *leaf, (*proofs)["proofs"][i]["proof"]);
    }
  }
  return Status::Ok();
}

core::Result<VerifiedTrail> FetchVerifiedTrail(BrokerClient& client, char kind,
                                               const std::string& id,
                                               const nlohmann::json& query_extra) {
  nlohmann::json query = query_extra;
  query["op"] = "trail";
  query[kind == 's' ? "subject" : "endpoint"] = id;
  query["proofs"] = true;
  VerifiedTrail trail;
  std::optional<uint64_t> latest;
  std::map<uint64_t, nlohmann::json> records;
  for (bool first = true;; first = false) {
    core::Result<nlohmann::json> page = client.Query(query);
    if (!page.ok()) return page.status();
    if (first) {
      core::Result<TreeHead> head = CheckSignedHead((*page)["head"], client.directory());
      if (!head.ok()) return head.status();
      if (!head->map_root) {
        return Status(Code::kCorruption, "the signed head does not commit to the trails");
      }
      trail.head = *head;
      core::Result<core::MapProof> map_proof = core::MapProof::FromJson((*page)["map_proof"]);
      if (!map_proof.ok()) return map_proof.status();
      if (map_proof->key != core::TrailMapKey(kind, id)) {
        return Status(Code::kCorruption, "the trail map proof is for another trail");
      }
      Status mapped = core::VerifyMapProof(*map_proof, *head->map_root);
      if (!mapped.ok()) return mapped;
      latest = map_proof->value;
      query["tree_size"] = head->tree_size;
    }
    if (page->value("tree_size", UINT64_MAX) != trail.head.tree_size) {
      return Status(Code::kCorruption, "a page of the trail is proved against another tree size");
    }
    const nlohmann::json& page_records = (*page)["records"];
    const nlohmann::json& proofs = (*page)["proofs"];
    if (!page_records.is_array() || !proofs.is_array() || proofs.size() != page_records.size()) {
      return Status(Code::kCorruption, "a page of the trail lacks its proofs");
    }
    for (size_t i = 0; i < page_records.size(); ++i) {
      const nlohmann::json& record = page_records[i];
      uint64_t seq = record.value("seq", UINT64_MAX);
      if (seq >= trail.head.tree_size) {
        return Status(Code::kCorruption, "a record of the trail lies outside the signed head");
      }
      core::Result<std::vector<core::Hash>> proof = HashesFromJson(proofs[i]);
      if (!proof.ok())
        return Status(Code::kCorruption, Position(seq) + ": " + proof.status().message());
      Status included = core::VerifyInclusion(
          seq, trail.head.tree_size, core::LeafHash(record.dump()), *proof, trail.head.root);
      if (!included.ok()) {
        return Status(Code::kCorruption,
                      Position(seq) + ": the record is not the one the signed head covers");
      }
      records[seq] = record;
    }
    const nlohmann::json& cursor = page->value("next_cursor", nlohmann::json(nullptr));
    if (!cursor.is_number_unsigned()) break;
    query["after_seq"] = cursor;
  }
  Status chained = CheckTrailChain(kind, id, latest, records);
  if (!chained.ok()) return chained;
  for (auto& [seq, record] : records) trail.records.push_back(std::move(record));
  return trail;
}

Status SaveVerifiedHead(const std::filesystem::path& state_dir, const nlohmann::json& head) {
  std::error_code error;
  std::filesystem::create_directories(state_dir, error);
  if (error) return Status(Code::kIoError, state_dir.string() + ": " + error.message());
  return core::WriteFileDurably(state_dir / "last_head.json", head.dump() + "\n");
}

core::Result<VerifyReport> VerifyLog(BrokerClient& client, const std::filesystem::path& state_dir) {
  core::Result<nlohmann::json> answer = client.Query({{"op", "head"}});
  if (!answer.ok()) return answer.status();
  core::Result<TreeHead> head = CheckSignedHead((*answer)["head"], client.directory());
  if (!head.ok()) return head.status();
  VerifyReport report;
  report.tree_size = head->tree_size;
  std::filesystem::path saved = state_dir / "last_head.json";
  if (std::ifstream in(saved); in) {
    std::stringstream text;
    text << in.rdbuf();
    core::Result<TreeHead> previous =
        CheckSignedHead(nlohmann::json::parse(text.str(), nullptr, false), client.directory());
    if (!previous.ok())
      return Status(Code::kCorruption, saved.string() + ": " + previous.status().message());
    report.previous_size = previous->tree_size;
    if (previous->tree_size > head->tree_size) {
      return Status(Code::kCorruption, "position " + std::to_string(head->tree_size) +
                                           ": the log is shorter than the head seen before (" +
                                           std::to_string(previous->tree_size) + ")");
    }
    if (previous->tree_size > 0) {
      core::Result<nlohmann::json> consistency = client.Query({{"op", "consistency"},
                                                               {"from_size", previous->tree_size},
                                                               {"to_size", head->tree_size}});
      if (!consistency.ok()) return consistency.status();
      core::Result<std::vector<core::Hash>> proof = HashesFromJson((*consistency)["proof"]);
      if (!proof.ok()) return proof.status();
      Status consistent = core::VerifyConsistency(previous->tree_size, head->tree_size,
                                                  previous->root, head->root, *proof);
      if (!consistent.ok()) {
        return Status(Code::kCorruption,
                      "position " + std::to_string(previous->tree_size) +
                          ": the log is not an extension of the head seen before (rewritten?)");
      }
    }
  }
  Status records = ForEachRecordWithProof(
      client, *head,
      [&](uint64_t, const std::string&, const nlohmann::json&) { ++report.records_checked; });
  if (!records.ok()) return records;
  Status kept = SaveVerifiedHead(state_dir, head->json);
  if (!kept.ok()) return kept;
  return report;
}

}  // namespace stafett::tools
