// Broker: the query service over the authenticated protocol — status and tracking for
// operators, trails, heads, records and proofs for auditors, own consents for endpoints.
// Every trail query is itself written to the audit log (audit_query).
#include <spdlog/spdlog.h>

#include <deque>

#include "broker.h"
#include "query_ops.h"
#include "stafett/core/encoding.h"
#include "stafett/core/frames.h"

namespace stafett::broker {

using core::Code;
using core::Status;
using keys::Role;
namespace protocol = core::protocol;

namespace {

constexpr uint64_t kMaxRecordsPerQuery = 10000;
constexpr uint64_t kMaxProvedRecordsPerQuery = 1000;  // each with an O(log n) inclusion proof
// party_consents: at most this many consents in an answer, and at most this many consent states
// read for one answer (the broker loop is busy meanwhile), whichever comes first.
constexpr uint64_t kMaxPartyConsentsPerQuery = 1000;
constexpr uint64_t kMaxConsentsScannedPerQuery = 20000;
// queues: at most this many entries per endpoint queue and this many ended deliveries in an
// answer; the ended ones are looked for among the newest this-many audit records (the broker
// loop is busy meanwhile; the leaves are matched as bytes, only the hits parsed).
constexpr uint64_t kMaxQueuesLimit = 1000;
constexpr uint64_t kDefaultQueuesLimit = 100;
constexpr uint64_t kMaxEndedScanned = 20000;

nlohmann::json Failure(const nlohmann::json& id, Code code, const std::string& message) {
  return {
      {"id", id}, {"ok", false}, {"code", std::string(core::CodeName(code))}, {"message", message}};
}

nlohmann::json HashList(const std::vector<core::Hash>& hashes) {
  nlohmann::json list = nlohmann::json::array();
  for (const core::Hash& hash : hashes) list.push_back(core::HashToHex(hash));
  return list;
}

}  // namespace

const std::vector<QueryOp>& QueryOps() {
  static const std::vector<QueryOp> kOps = {
      // Operators see metadata only.
      {"status", {Role::kOperator, Role::kAuditor}, &Broker::OpStatus},
      {"track", {Role::kOperator, Role::kAuditor}, &Broker::OpTrack},
      {"queues", {Role::kOperator, Role::kAuditor}, &Broker::OpQueues},
      {"trail", {Role::kAuditor}, &Broker::OpTrail},
      {"head", {Role::kAuditor}, &Broker::OpHead},
      {"records", {Role::kAuditor}, &Broker::OpRecords},
      {"inclusion", {Role::kAuditor}, &Broker::OpInclusion},
      {"consistency", {Role::kAuditor}, &Broker::OpConsistency},
      // Endpoints see the consents they are party to; auditors every consent of a subject (for
      // the register extract: parties, purposes, period, revocation).
      {"consents", {Role::kEndpoint, Role::kAuditor}, &Broker::OpConsents},
      // Every consent an endpoint is a party of (its own only; no other role has a use for it).
      {"party_consents", {Role::kEndpoint}, &Broker::OpPartyConsents},
      // Only the broker's own key (held by whoever runs `stafett-broker backup` on its host).
      {"backup", {Role::kBroker}, &Broker::OpBackup},
  };
  return kOps;
}

void Broker::HandleQuery(const Peer& peer, const protocol::Message& message) {
  const nlohmann::json& query = message.object;
  nlohmann::json id = query.contains("id") ? query["id"] : nlohmann::json(nullptr);
  std::string op = query.value("op", "");
  auto reply = [&](const nlohmann::json& result) {
    Send(peer.routing_id, protocol::Encode(protocol::Command::kResult, {result.dump()}));
  };
  const QueryOp* found = FindQueryOp(op);
  if (found == nullptr) {
    return reply(Failure(id, Code::kProtocolError, "unknown query"));
  }
  if (!MayAsk(peer.role, op)) {
    spdlog::warn("event=query_forbidden principal={} op={}", peer.id, op.substr(0, 32));
    return reply(Failure(id, Code::kForbidden, "this role may not run that query"));
  }
  std::optional<nlohmann::json> result;
  try {
    result = (this->*found->handler)(QueryRequest{peer, message, query, id, clock_.Now()});
  } catch (const nlohmann::json::exception&) {
    return reply(Failure(id, Code::kProtocolError, "malformed query fields"));
  }
  if (!result) return;          // staged or deferred by the handler
  result->emplace("ok", true);  // a failure says "ok": false already
  (*result)["id"] = id;
  reply(*result);
}

std::optional<nlohmann::json> Broker::OpStatus(const QueryRequest& request) {
  return QueryStatus(request.now);
}

std::optional<nlohmann::json> Broker::OpTrack(const QueryRequest& request) {
  return QueryTrack(request.query.value("message_id", ""));
}

std::optional<nlohmann::json> Broker::OpQueues(const QueryRequest& request) {
  return QueryQueues(request.query, request.now);
}

std::optional<nlohmann::json> Broker::OpConsents(const QueryRequest& request) {
  return QueryConsents(request.peer, request.query, request.now);
}

std::optional<nlohmann::json> Broker::OpPartyConsents(const QueryRequest& request) {
  return QueryPartyConsents(request.peer, request.query);
}

std::optional<nlohmann::json> Broker::OpTrail(const QueryRequest& request) {
  if (!cycle_.empty()) {
    // A trail reads the committed indexes and proves against committed nodes: answered once
    // what is staged (an earlier query's audit_query, a head) is durable.
    deferred_queries_.emplace_back(request.peer, request.message);
    return std::nullopt;
  }
  nlohmann::json result = QueryTrail(request.peer, request.query, request.now);
  if (!result.value("ok", true)) return result;
  // Answer once the audit_query record is durable.
  result["id"] = request.id;
  result["ok"] = true;
  cycle_.replies.push_back(
      {request.peer.routing_id, protocol::Encode(protocol::Command::kResult, {result.dump()}),
       protocol::Encode(protocol::Command::kResult,
                        {Failure(request.id, Code::kUnavailable, "not recorded; retry").dump()})});
  return std::nullopt;
}

std::optional<nlohmann::json> Broker::OpBackup(const QueryRequest& request) {
  Status copied = store_->Checkpoint(request.query.value("to", std::string()));
  if (!copied.ok()) return Failure(nullptr, copied.code(), copied.message());
  spdlog::info("event=backup_written audit_size={}", audit_->size());
  return nlohmann::json{{"audit_size", audit_->size()}};
}

std::optional<nlohmann::json> Broker::OpHead(const QueryRequest& request) {
  const nlohmann::json& query = request.query;
  if (!query.contains("tree_size") && audit_->size() != last_head_size_) {
    // On request: a fresh head covering everything so far, signed into this cycle and sent
    // once it (and the records it covers) are durable.
    SignedTreeHead fresh = audit_->SignHead(&cycle_.transaction, request.now);
    ++cycle_.events;
    cycle_.on_commit.push_back([this, now = request.now, size = fresh.tree_size] {
      last_head_at_ = now;
      last_head_size_ = size;
    });
    nlohmann::json answer = {{"id", request.id}, {"ok", true}, {"head", TreeHeadToJson(fresh)}};
    cycle_.replies.push_back(
        {request.peer.routing_id, protocol::Encode(protocol::Command::kResult, {answer.dump()}),
         protocol::Encode(
             protocol::Command::kResult,
             {Failure(request.id, Code::kUnavailable, "not persisted; retry").dump()})});
    return std::nullopt;
  }
  core::Result<std::optional<SignedTreeHead>> head =
      query.contains("tree_size") && query["tree_size"].is_number_unsigned()
          ? audit_->HeadAt(query["tree_size"].get<uint64_t>())
          : audit_->LatestHead();
  if (!head.ok()) return Failure(nullptr, head.status().code(), head.status().message());
  if (!head->has_value()) return Failure(nullptr, Code::kNotFound, "no signed head yet");
  return nlohmann::json{{"head", TreeHeadToJson(**head)}};
}

std::optional<nlohmann::json> Broker::OpRecords(const QueryRequest& request) {
  uint64_t from = request.query.value("from_seq", uint64_t{0});
  uint64_t count = std::min(request.query.value("count", uint64_t{1000}), kMaxRecordsPerQuery);
  nlohmann::json records = nlohmann::json::array();
  Status scanned = store_->ScanAudit(from, [&](uint64_t seq, std::string_view leaf) {
    if (records.size() >= count) return false;
    records.push_back({{"seq", seq}, {"leaf", core::ToBase64(leaf)}});
    return true;
  });
  if (!scanned.ok()) return Failure(nullptr, scanned.code(), scanned.message());
  return nlohmann::json{{"records", records}};
}

std::optional<nlohmann::json> Broker::OpInclusion(const QueryRequest& request) {
  // One proof ({seq, tree_size}) or a batch ({seqs: [...], tree_size}, at most 1000).
  const nlohmann::json& query = request.query;
  uint64_t size = query.value("tree_size", uint64_t{0});
  std::vector<uint64_t> seqs;
  if (query.contains("seqs")) {
    seqs = query["seqs"].get<std::vector<uint64_t>>();
  } else {
    seqs.push_back(query.value("seq", uint64_t{0}));
  }
  if (seqs.size() > 1000) return Failure(nullptr, Code::kProtocolError, "too many seqs");
  nlohmann::json proofs = nlohmann::json::array();
  for (uint64_t seq : seqs) {
    core::Result<std::vector<core::Hash>> proof = core::InclusionProof(seq, size, *audit_);
    if (!proof.ok()) return Failure(nullptr, proof.status().code(), proof.status().message());
    proofs.push_back({{"seq", seq}, {"proof", HashList(*proof)}});
  }
  nlohmann::json result = {{"tree_size", size}, {"proofs", proofs}};
  if (!query.contains("seqs")) {
    result["seq"] = seqs.front();
    result["proof"] = proofs.front()["proof"];
  }
  return result;
}

std::optional<nlohmann::json> Broker::OpConsistency(const QueryRequest& request) {
  uint64_t size1 = request.query.value("from_size", uint64_t{0});
  uint64_t size2 = request.query.value("to_size", uint64_t{0});
  core::Result<std::vector<core::Hash>> proof = core::ConsistencyProof(size1, size2, *audit_);
  if (!proof.ok()) return Failure(nullptr, proof.status().code(), proof.status().message());
  return nlohmann::json{{"from_size", size1}, {"to_size", size2}, {"proof", HashList(*proof)}};
}

nlohmann::json Broker::QueryStatus(core::Micros now) {
  nlohmann::json endpoints = nlohmann::json::array();
  for (const keys::Principal* endpoint : directory_.Endpoints()) {
    nlohmann::json row = {{"id", endpoint->id},
                          {"kind", endpoint->kind},
                          {"connected", false},
                          {"last_seen", nullptr},
                          {"queue_depth", queue_depth_[endpoint->id]},
                          {"oldest_undelivered_seconds", 0},
                          {"in_flight", 0},
                          {"sessions_replaced", 0},
                          {"last_replaced_at", nullptr}};
    auto session = sessions_.find(endpoint->id);
    if (session != sessions_.end()) {
      row["connected"] = session->second.connected;
      row["in_flight"] = session->second.in_flight.size();
      if (session->second.last_seen > 0) {
        row["last_seen"] = core::FormatRfc3339(session->second.last_seen);
      }
      row["sessions_replaced"] = session->second.replaced;
      if (session->second.replaced_at > 0) {
        row["last_replaced_at"] = core::FormatRfc3339(session->second.replaced_at);
        row["last_replaced_seconds"] = static_cast<double>(now - session->second.replaced_at) / 1e6;
      }
    }
    if (queue_depth_[endpoint->id] > 0) {
      if (std::optional<core::QueueEntry> oldest = OldestQueueEntry(endpoint->id)) {
        row["oldest_undelivered_seconds"] = static_cast<double>(now - oldest->queued_at) / 1e6;
      }
    }
    endpoints.push_back(std::move(row));
  }
  nlohmann::json commit_errors = nlohmann::json::object();
  for (const auto& [code, count] : commit_errors_) commit_errors[code] = count;
  nlohmann::json tree_head = nullptr;
  if (last_head_at_ > 0 && last_head_size_ != UINT64_MAX) {
    tree_head = {{"tree_size", last_head_size_},
                 {"signed_at", core::FormatRfc3339(last_head_at_)},
                 {"age_seconds", static_cast<double>(now - last_head_at_) / 1e6},
                 {"unsigned_records", audit_->size() - std::min(audit_->size(), last_head_size_)}};
  }
  return {{"endpoints", endpoints},
          {"audit_size", audit_->size()},
          {"storage_full", storage_full_},
          {"storage",
           {{"full", storage_full_},
            {"free_bytes", store_->FreeBytes()},
            {"min_free_bytes", config_.min_free_bytes},
            {"commit_errors", commit_errors}}},
          {"tree_head", tree_head}};
}

nlohmann::json Broker::QueryQueues(const nlohmann::json& query, core::Micros now) {
  std::string only;
  if (query.contains("endpoint") && !query["endpoint"].is_null()) {
    only = query["endpoint"].get<std::string>();
    if (directory_.Find(only) == nullptr) {
      return Failure(nullptr, Code::kNotFound, "no such endpoint in the trust directory");
    }
  }
  uint64_t limit = query.value("limit", kDefaultQueuesLimit);
  if (limit == 0 || limit > kMaxQueuesLimit) limit = kMaxQueuesLimit;
  // Waiting: each endpoint's queue from its oldest entry on (the longest waiting are the stuck
  // ones), messages only; receipts for senders are counted in queue_depth but not listed.
  nlohmann::json endpoints = nlohmann::json::array();
  for (const keys::Principal* endpoint : directory_.Endpoints()) {
    if (!only.empty() && endpoint->id != only) continue;
    const Session* session = nullptr;
    if (auto found = sessions_.find(endpoint->id); found != sessions_.end()) {
      session = &found->second;
    }
    nlohmann::json waiting = nlohmann::json::array();
    uint64_t visited = 0;
    bool truncated = false;
    Status failed;
    uint64_t depth = queue_depth_[endpoint->id];
    auto visit = [&](uint64_t queue_seq, const core::QueueEntry& entry) {
      if (visited >= limit) {
        truncated = true;
        return false;
      }
      ++visited;
      if (cycle_.removed_queue_entries.count({endpoint->id, queue_seq}) != 0) return true;
      const auto* queued = std::get_if<core::QueuedMessage>(&entry.item);
      if (queued == nullptr) return true;
      nlohmann::json row = {{"message_id", queued->message_id},
                            {"queued_at", core::FormatRfc3339(entry.queued_at)},
                            {"age_seconds", static_cast<double>(now - entry.queued_at) / 1e6},
                            {"state", "queued"}};
      core::Result<std::optional<core::MessageState>> state = LoadMessage(queued->message_id);
      if (!state.ok()) {
        failed = state.status();
        return false;
      }
      if (state->has_value()) {
        row["type"] = (*state)->type;
        row["from"] = (*state)->from;
        row["expires_at"] = core::FormatRfc3339((*state)->expires_at);
      }
      if (session != nullptr) {
        auto sent = session->in_flight.find(queue_seq);
        if (sent != session->in_flight.end()) {
          row["state"] = "in_flight";
          row["sent_at"] = core::FormatRfc3339(sent->second.sent_at);
        }
      }
      waiting.push_back(std::move(row));
      return true;
    };
    // From where OldestQueueEntry found the oldest entry: the tombstones before it are skipped.
    uint64_t from = oldest_queue_seq_[endpoint->id];
    Status scanned = depth == 0 ? Status::Ok()
                                : store_->ScanQueue(endpoint->id, from == 0 ? 0 : from - 1, visit);
    if (!failed.ok()) return Failure(nullptr, failed.code(), failed.message());
    if (!scanned.ok()) return Failure(nullptr, scanned.code(), scanned.message());
    endpoints.push_back({{"id", endpoint->id},
                         {"connected", session != nullptr && session->connected},
                         {"queue_depth", depth},
                         {"waiting", waiting},
                         {"truncated", truncated}});
  }
  // Ended without delivery: the newest expired, withheld (a recipient's rejection included,
  // with its code) and refused records among the newest kMaxEndedScanned of the log. Canonical
  // leaves have no whitespace, so the event is matched as bytes before anything is parsed.
  uint64_t size = audit_->size();
  uint64_t scan_from = size > kMaxEndedScanned ? size - kMaxEndedScanned : 0;
  std::deque<nlohmann::json> ended;
  bool ended_truncated = false;
  Status scanned = store_->ScanAudit(scan_from, [&](uint64_t seq, std::string_view leaf) {
    if (leaf.find("\"event\":\"expired\"") == std::string_view::npos &&
        leaf.find("\"event\":\"withheld\"") == std::string_view::npos &&
        leaf.find("\"event\":\"refused\"") == std::string_view::npos) {
      return true;
    }
    nlohmann::json record = nlohmann::json::parse(leaf, nullptr, false);
    if (!record.is_object()) return true;  // damage is track's and verify's to report
    std::vector<std::string> to = record.value("to", std::vector<std::string>());
    if (!only.empty() && record.value("from", "") != only &&
        std::find(to.begin(), to.end(), only) == to.end()) {
      return true;
    }
    // Metadata only: never the subject's pseudonym or the consent.
    nlohmann::json row = {{"seq", seq},
                          {"time", record.value("time", "")},
                          {"event", record.value("event", "")},
                          {"message_id", record.value("message_id", "")},
                          {"type", record.value("type", "")},
                          {"from", record.value("from", "")},
                          {"to", to}};
    if (record.contains("code")) row["code"] = record["code"];
    ended.push_front(std::move(row));
    if (ended.size() > limit) {
      ended.pop_back();
      ended_truncated = true;
    }
    return true;
  });
  if (!scanned.ok()) return Failure(nullptr, scanned.code(), scanned.message());
  return {{"endpoints", endpoints},
          {"ended", nlohmann::json(ended)},
          {"ended_truncated", ended_truncated},
          {"ended_scanned_from_seq", scan_from}};
}

nlohmann::json Broker::QueryTrack(const std::string& message_id) {
  // Every read error is an error of the answer (CORRUPTION, logged and counted where it was
  // read), never a gap: a damaged state must not read as "refused", nor a lost event as none.
  core::Result<std::optional<core::MessageState>> state = LoadMessage(message_id);
  if (!state.ok()) return Failure(nullptr, state.status().code(), state.status().message());
  nlohmann::json events = nlohmann::json::array();
  Status scanned = ScanMessageRecords(message_id, [&](uint64_t seq, const nlohmann::json& json) {
    nlohmann::json event = {{"time", json["time"]}, {"event", json["event"]}, {"seq", seq}};
    if (json.contains("code")) event["code"] = json["code"];
    if (json["event"] != "accepted" && json["event"] != "refused" && json["to"].size() == 1) {
      event["endpoint"] = json["to"][0];
    }
    events.push_back(std::move(event));
    return true;
  });
  if (!scanned.ok()) return Failure(nullptr, scanned.code(), scanned.message());
  if (!state->has_value()) {
    if (events.empty()) {
      return Failure(nullptr, Code::kNotFound, "no such message");
    }
    core::Result<std::optional<RetiredMessage>> retired = FindRetired(message_id);
    if (!retired.ok()) return Failure(nullptr, retired.status().code(), retired.status().message());
    if (!retired->has_value()) {
      return {{"message_id", message_id}, {"status", "refused"}, {"events", events}};
    }
    // Accepted, finished, and its state since removed by the retention (docs/PRIVACY.md): the
    // outcome per recipient is its audit records'; every receipt had been acknowledged.
    const RetiredMessage& message = **retired;
    nlohmann::json recipients = nlohmann::json::object();
    std::string last = "delivered";
    bool all_delivered = true;
    for (const nlohmann::json& event : events) {
      if (!event.contains("endpoint")) continue;
      const std::string name = event["event"].get<std::string>();
      if (name != "delivered" && name != "expired" && name != "withheld" && name != "rejected") {
        continue;
      }
      recipients[event["endpoint"].get<std::string>()] = name;
      all_delivered = all_delivered && name == "delivered";
      last = name;
    }
    return {{"message_id", message_id},
            {"status", all_delivered ? "delivered" : last},
            {"type", message.type},
            {"from", message.from},
            {"to", message.to},
            {"recipients", recipients},
            {"accepted_at", message.time},
            {"state_removed", "retention"},
            {"events", events}};
  }
  const core::MessageState& message = **state;
  nlohmann::json recipients = nlohmann::json::object();
  for (const auto& [id, delivery] : message.recipients) {
    recipients[id] = core::RecipientStateName(delivery.state);
    if (delivery.receipt_acknowledged_at) {
      events.push_back({{"time", core::FormatRfc3339(*delivery.receipt_acknowledged_at)},
                        {"event", "receipt"},
                        {"endpoint", id}});
    }
    if (delivery.state == core::RecipientState::kQueued) {
      auto session = sessions_.find(id);
      if (session != sessions_.end()) {
        auto in_flight = session->second.in_flight.find(delivery.queue_seq);
        if (in_flight != session->second.in_flight.end()) {
          events.push_back({{"time", core::FormatRfc3339(in_flight->second.sent_at)},
                            {"event", "delivery_attempt"},
                            {"endpoint", id}});
        }
      }
    }
  }
  return {{"message_id", message_id},
          {"status", core::MessageStatusName(message.status)},
          {"type", message.type},
          {"from", message.from},
          {"to", message.to},
          {"recipients", recipients},
          {"accepted_at", core::FormatRfc3339(message.accepted_at)},
          {"expires_at", core::FormatRfc3339(message.expires_at)},
          {"events", events}};
}

nlohmann::json Broker::QueryTrail(const Peer& peer, const nlohmann::json& query, core::Micros now) {
  char kind;
  std::string key;
  if (query.contains("subject") && query["subject"].is_string()) {
    kind = 's';
    key = query["subject"].get<std::string>();
  } else if (query.contains("endpoint") && query["endpoint"].is_string()) {
    kind = 'e';
    key = query["endpoint"].get<std::string>();
  } else {
    return Failure(nullptr, Code::kProtocolError, "trail needs subject or endpoint");
  }
  std::optional<core::Micros> from, to;
  if (query.contains("from")) from = core::ParseRfc3339(query.value("from", ""));
  if (query.contains("to")) to = core::ParseRfc3339(query.value("to", ""));
  if ((query.contains("from") && !from) || (query.contains("to") && !to)) {
    return Failure(nullptr, Code::kProtocolError, "from/to must be RFC 3339 times");
  }
  // Paging: records with seq > after_seq, at most `limit` of them; `next_cursor` is the
  // after_seq of the next page, null on the last one (docs/AUDIT.md).
  std::optional<uint64_t> after;
  if (query.contains("after_seq") && !query["after_seq"].is_null()) {
    after = query["after_seq"].get<uint64_t>();
  }
  // With proofs: every record of the trail under one signed head (no time filter: the client
  // checks the chain, then filters), each with its inclusion proof; the first page also
  // carries the head and the proof of the trail's latest seq in the trail map.
  bool proofs = query.value("proofs", false);
  uint64_t max_page = proofs ? kMaxProvedRecordsPerQuery : kMaxRecordsPerQuery;
  uint64_t limit = query.value("limit", max_page);
  if (limit == 0 || limit > max_page) limit = max_page;
  nlohmann::json answer = nlohmann::json::object();
  uint64_t bound = UINT64_MAX;  // records below this seq only
  if (proofs) {
    if (query.contains("tree_size")) {
      bound = query["tree_size"].get<uint64_t>();
      if (bound > audit_->size()) {
        return Failure(nullptr, Code::kNotFound, "no such tree size yet");
      }
    } else {
      core::Result<std::optional<SignedTreeHead>> latest = audit_->LatestHead();
      if (!latest.ok()) return Failure(nullptr, latest.status().code(), latest.status().message());
      std::optional<SignedTreeHead> head = *latest;
      if (!head || head->tree_size != audit_->size() || !head->map_root ||
          *head->map_root != audit_->MapRoot()) {
        // A fresh head over everything committed, signed into this cycle (sent after commit).
        head = audit_->SignHead(&cycle_.transaction, now);
        ++cycle_.events;
        cycle_.on_commit.push_back([this, now, size = head->tree_size] {
          last_head_at_ = now;
          last_head_size_ = size;
        });
      }
      core::Result<core::MapProof> map_proof = audit_->ProveTrail(kind, key);
      if (!map_proof.ok()) {
        spdlog::error("event=audit_map_corrupt error=\"{}\"", map_proof.status().message());
        return Failure(nullptr, Code::kCorruption, map_proof.status().message());
      }
      bound = head->tree_size;
      answer["head"] = TreeHeadToJson(*head);
      answer["map_proof"] = map_proof->ToJson();
    }
    answer["tree_size"] = bound;
  }
  nlohmann::json records = nlohmann::json::array();
  nlohmann::json inclusion = nlohmann::json::array();
  bool truncated = false;
  uint64_t last_seq = 0;
  Status failed;
  core::TrailKind trail = kind == 's' ? core::TrailKind::kSubject : core::TrailKind::kEndpoint;
  Status scanned = store_->ScanTrailFrom(trail, key, after ? *after + 1 : 0, [&](uint64_t seq) {
    if (seq >= bound) return false;
    if (records.size() >= limit) {
      truncated = true;
      return false;
    }
    last_seq = seq;
    core::Result<std::string> record = audit_->RecordAt(seq);
    if (!record.ok()) return true;
    nlohmann::json json = nlohmann::json::parse(*record, nullptr, false);
    if (!proofs) {
      std::optional<core::Micros> time = core::ParseRfc3339(json.value("time", ""));
      if (!time || (from && *time < *from) || (to && *time > *to)) return true;
    } else {
      core::Result<std::vector<core::Hash>> proof = core::InclusionProof(seq, bound, *audit_);
      if (!proof.ok()) {
        failed = proof.status();
        return false;
      }
      inclusion.push_back(HashList(*proof));
    }
    records.push_back(std::move(json));
    return true;
  });
  if (!failed.ok()) return Failure(nullptr, failed.code(), failed.message());
  if (!scanned.ok()) return Failure(nullptr, scanned.code(), scanned.message());
  nlohmann::json recorded_query = {{kind == 's' ? "subject" : "endpoint", key}};
  if (from) recorded_query["from"] = core::FormatRfc3339(*from);
  if (to) recorded_query["to"] = core::FormatRfc3339(*to);
  if (after) recorded_query["after_seq"] = *after;
  AuditRecord audit_record{"audit_query",          "", "", "",      {},
                           kind == 's' ? key : "", "", "", peer.id, recorded_query};
  uint64_t seq = AppendAudit(now, audit_record);
  answer["records"] = records;
  if (proofs) answer["proofs"] = inclusion;
  answer["truncated"] = truncated;
  answer["next_cursor"] = truncated ? nlohmann::json(last_seq) : nlohmann::json(nullptr);
  answer["query_seq"] = seq;
  return answer;
}

nlohmann::json Broker::QueryConsents(const Peer& peer, const nlohmann::json& query,
                                     core::Micros now) {
  std::string subject = query.value("subject", "");
  std::vector<std::string> ids;
  Status scanned = store_->ScanTrailLinks(core::TrailKind::kSubjectConsent, subject,
                                          [&](std::string_view consent_id) {
                                            ids.emplace_back(consent_id);
                                            return true;
                                          });
  if (!scanned.ok()) return Failure(nullptr, scanned.code(), scanned.message());
  nlohmann::json consents = nlohmann::json::array();
  for (const std::string& consent_id : ids) {
    core::Result<std::optional<core::ConsentRecord>> stored = store_->GetConsent(consent_id);
    if (!stored.ok()) return Failure(nullptr, stored.status().code(), stored.status().message());
    if (!stored->has_value()) continue;
    const core::ConsentRecord& record = **stored;
    const core::ConsentFacts& facts = record.facts;
    if (peer.role != keys::Role::kAuditor &&
        std::find(facts.parties.begin(), facts.parties.end(), peer.id) == facts.parties.end()) {
      continue;
    }
    std::string state = facts.revoked              ? "revoked"
                        : now < facts.valid_from   ? "pending"
                        : now >= facts.valid_until ? "expired"
                                                   : "active";
    consents.push_back({{"consent_id", facts.consent_id},
                        {"state", state},
                        {"parties", facts.parties},
                        {"purposes", facts.purposes},
                        {"valid_from", core::FormatRfc3339(facts.valid_from)},
                        {"valid_until", core::FormatRfc3339(facts.valid_until)},
                        {"recorded_by", facts.recorded_by}});
    if (record.revocation) {
      consents.back()["revoked_at"] = core::FormatRfc3339(record.revocation->at);
      consents.back()["revoked_by"] = record.revocation->by;
    }
  }
  return {{"consents", consents}};
}

nlohmann::json Broker::QueryPartyConsents(const Peer& peer, const nlohmann::json& query) {
  // No index by party: the consents are walked in id order, a bounded slice per query, and the
  // answer says where to go on. Asked by an agent when it starts, not per message.
  std::string after;
  if (query.contains("after") && !query["after"].is_null()) {
    if (!query["after"].is_string()) {
      return Failure(nullptr, Code::kProtocolError, "after must be a consent id or null");
    }
    after = query["after"].get<std::string>();
  }
  uint64_t limit = query.value("limit", kMaxPartyConsentsPerQuery);
  if (limit == 0 || limit > kMaxPartyConsentsPerQuery) limit = kMaxPartyConsentsPerQuery;
  nlohmann::json consents = nlohmann::json::array();
  uint64_t scanned_count = 0;
  std::string last;
  bool more = false;
  Status scanned = store_->ScanConsents(after, [&](const core::ConsentRecord& record) {
    if (consents.size() >= limit || scanned_count >= kMaxConsentsScannedPerQuery) {
      more = true;
      return false;
    }
    ++scanned_count;
    last = record.facts.consent_id;
    const std::vector<std::string>& parties = record.facts.parties;
    if (std::find(parties.begin(), parties.end(), peer.id) != parties.end()) {
      consents.push_back(protocol::EncodePartyConsent(record));
    }
    return true;
  });
  if (!scanned.ok()) return Failure(nullptr, scanned.code(), scanned.message());
  return {{"consents", consents}, {"next_cursor", more ? nlohmann::json(last) : nullptr}};
}

}  // namespace stafett::broker
