// stafett_audit_bench: the broker's audit log at 10^6 (or 10^7) records, on a real RocksDB on
// disk, through the broker's own library (store/, broker/src/audit_log):
//
//   1. append rate with the Merkle tree maintained: AuditLog::Append (canonical JSON, leaf
//      hash, completed Merkle nodes, trail indexes) into WriteBatches committed with sync=true,
//      BATCH records per fsync, as the broker's group commit does;
//   2. reopening at N records (AuditLog::Open rebuilds the Merkle frontier from stored nodes);
//   3. inclusion and consistency proof generation at tree size N (core::InclusionProof /
//      core::ConsistencyProof over the stored nodes), each proof checked against the root;
//   4. a signed tree head (SignHead);
//   5. trail-query latency for one child among N records: the reads of Broker::QueryTrail
//      (trail index prefix scan, one audit record per position, JSON parse, the time filter)
//      plus the reply's JSON, for random children, after a reopen (cold block cache).
//
// The records look like the broker's: per message an `accepted` (sender → recipient) and a
// `delivered` record, 20 endpoints, one child pseudonym per message drawn from N/20 children,
// so a child's ~20 records lie at random positions across the whole log (each one a random read).
//
//   stafett_audit_bench --dir DIR [--records 1000000] [--batch 256] [--queries 1000]
//
// Prints one JSON line (bench_stats.h). DIR must not hold a database already unless --reuse.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "audit_log.h"
#include "bench_stats.h"
#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/core/merkle.h"
#include "stafett/store/rocksdb_broker_store.h"

namespace {

using stafett::bench::LatencySamples;
using stafett::bench::NowNanos;
namespace broker = stafett::broker;
namespace core = stafett::core;

uint64_t Mix(uint64_t x) {  // splitmix64: a fixed, well-spread function of the index
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A 64-hex-digit pseudonym for child C (the broker only ever sees pseudonyms).
std::string Pseudonym(uint64_t child) {
  std::string out;
  char part[17];
  for (uint64_t i = 0; i < 4; ++i) {
    std::snprintf(part, sizeof part, "%016llx",
                  static_cast<unsigned long long>(Mix(child * 4 + i + 0x51a11)));
    out += part;
  }
  return out;
}

constexpr int kEndpoints = 20;
std::string Endpoint(uint64_t n) {
  static const char* kKinds[] = {"school", "social", "health", "school"};
  return "m" + std::to_string(n % kEndpoints / 4) + "." + kKinds[n % 4] + std::to_string(n % 3);
}

constexpr core::Micros kStart = 1'790'000'000'000'000;  // 2026-09-21, one record per 10 ms

// Record SEQ: message SEQ/2, accepted then delivered.
broker::AuditRecord RecordFor(uint64_t seq, uint64_t children) {
  uint64_t message = seq / 2;
  uint64_t mixed = Mix(message);
  broker::AuditRecord record;
  record.event = seq % 2 == 0 ? "accepted" : "delivered";
  char id[40];
  std::snprintf(id, sizeof id, "01J%023llu", static_cast<unsigned long long>(message));
  record.message_id = id;
  record.type = "referral";
  record.from = Endpoint(mixed);
  record.to = {Endpoint(mixed / kEndpoints + 1 + mixed % kEndpoints)};
  if (record.to[0] == record.from) record.to[0] = Endpoint(mixed + 1);
  record.subject = Pseudonym(mixed % children);
  record.consent_id = "c-" + std::to_string(mixed % children);
  return record;
}

// What Broker::QueryTrail does for {subject}: the prefix scan of the trail index, one audit
// record per position, parse, the time filter; then the reply body as the broker dumps it.
size_t QueryTrail(const stafett::store::BrokerStore& store, const broker::AuditLog& audit,
                  const std::string& subject, size_t* reply_bytes) {
  nlohmann::json records = nlohmann::json::array();
  store
      .ScanTrailFrom(core::TrailKind::kSubject, subject, 0,
                     [&](uint64_t seq) {
                       core::Result<std::string> record = audit.RecordAt(seq);
                       if (!record.ok()) return true;
                       nlohmann::json json = nlohmann::json::parse(*record, nullptr, false);
                       std::optional<core::Micros> time =
                           core::ParseRfc3339(json.value("time", ""));
                       if (time) records.push_back(std::move(json));
                       return true;
                     })
      .ok();
  nlohmann::json reply = {{"records", records}, {"truncated", false}, {"ok", true}};
  *reply_bytes = reply.dump().size();
  return records.size();
}

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

// CPU seconds of the whole process (every thread, RocksDB's flushes and compactions included).
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU seconds of the calling thread.
double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

uint64_t DirBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, error)) {
    if (entry.is_regular_file(error)) total += entry.file_size(error);
  }
  return total;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "stafett_audit_bench: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  stafett::bench::Flags flags(argc, argv, 1);
  std::filesystem::path dir = flags.Get("dir");
  if (dir.empty()) return Fail("--dir DIR is required");
  const uint64_t records = static_cast<uint64_t>(flags.Int("records", 1'000'000));
  if (records < 2) return Fail("--records must be at least 2");
  const uint64_t batch_size = static_cast<uint64_t>(flags.Int("batch", 256));
  const int queries = static_cast<int>(flags.Int("queries", 1000));
  const uint64_t children = std::max<uint64_t>(1, records / 20);
  core::EnsureSodiumInitialised();
  core::SigningKeyPair key = core::SigningKeyPair::Generate();
  nlohmann::json result = {{"system", "stafett_audit"},
                           {"records", records},
                           {"batch", batch_size},
                           {"children", children}};

  // 1. Append with the tree maintained, BATCH records per fsynced WriteBatch.
  {
    core::Result<std::unique_ptr<stafett::store::BrokerStore>> store =
        stafett::store::OpenRocksDbBrokerStore(dir,
                                               stafett::store::RocksDbStoreOptions{.sync = true});
    if (!store.ok()) return Fail(store.status().ToString());
    core::Result<std::unique_ptr<broker::AuditLog>> audit =
        broker::AuditLog::Open(**store, key, "bench");
    if (!audit.ok()) return Fail(audit.status().ToString());
    uint64_t start_size = (*audit)->size();
    if (start_size != 0) return Fail(dir.string() + " already holds an audit log");
    LatencySamples commits;
    int64_t append_nanos = 0, commit_nanos = 0;
    double append_cpu = 0;
    double cpu_started = ProcessCpuSeconds();
    int64_t started = NowNanos();
    int64_t last_report = started;
    for (uint64_t seq = 0; seq < records;) {
      stafett::store::BrokerTransaction batch;
      double thread_cpu = ThreadCpuSeconds();
      int64_t t0 = NowNanos();
      for (uint64_t n = 0; n < batch_size && seq < records; ++n, ++seq) {
        (*audit)->Append(&batch, kStart + static_cast<core::Micros>(seq) * 10'000,
                         RecordFor(seq, children));
      }
      (*audit)->StageMap(&batch);  // the batch's trail map nodes, rehashed once
      int64_t t1 = NowNanos();
      append_cpu += ThreadCpuSeconds() - thread_cpu;
      core::Status committed = (*store)->Commit(batch);
      if (!committed.ok()) return Fail(committed.ToString());
      (*audit)->Mark();  // as the broker does after each commit (drops the map overlay)
      int64_t t2 = NowNanos();
      append_nanos += t1 - t0;
      commit_nanos += t2 - t1;
      commits.Add(t2 - t1);
      if (t2 - last_report > 10'000'000'000) {
        std::fprintf(stderr, "stafett_audit_bench: %llu records, %.0f/s\n",
                     static_cast<unsigned long long>(seq),
                     static_cast<double>(seq) / Seconds(t2 - started));
        last_report = t2;
      }
    }
    double elapsed = Seconds(NowNanos() - started);
    double cpu = ProcessCpuSeconds() - cpu_started;
    result["append"] = {
        {"records_per_s", static_cast<double>(records) / elapsed},
        {"seconds", elapsed},
        // CPU of AuditLog::Append alone (record JSON, leaf and node hashes, batch puts).
        {"append_cpu_us_per_record", append_cpu * 1e6 / static_cast<double>(records)},
        // CPU of the whole process per record: Append, RocksDB writes, flushes, compactions.
        {"process_cpu_us_per_record", cpu * 1e6 / static_cast<double>(records)},
        {"staging_wall_us_per_record", static_cast<double>(append_nanos) / 1e3 / records},
        {"commit_wall_us_per_record", static_cast<double>(commit_nanos) / 1e3 / records},
        {"fsynced_batches", commits.size()},
        {"commit_latency", commits.Summary()}};
    result["root"] = core::HashToHex((*audit)->Root());
    // 4. A signed tree head at size N.
    stafett::store::BrokerTransaction head_batch;
    int64_t t0 = NowNanos();
    broker::SignedTreeHead head = (*audit)->SignHead(&head_batch, kStart);
    result["sign_head_us"] = static_cast<double>(NowNanos() - t0) / 1e3;
    if (!(*store)->Commit(head_batch).ok()) return Fail("head commit failed");
    (void)head;
  }
  std::fprintf(stderr, "stafett_audit_bench: appended %llu records\n",
               static_cast<unsigned long long>(records));

  // 2. Reopen: RocksDB replays its WAL (bounded by max_total_wal_size), then the Merkle
  // frontier is rebuilt from the stored nodes (O(log n) reads).
  int64_t t0 = NowNanos();
  core::Result<std::unique_ptr<stafett::store::BrokerStore>> store =
      stafett::store::OpenRocksDbBrokerStore(dir,
                                             stafett::store::RocksDbStoreOptions{.sync = true});
  if (!store.ok()) return Fail(store.status().ToString());
  int64_t t1 = NowNanos();
  core::Result<std::unique_ptr<broker::AuditLog>> opened =
      broker::AuditLog::Open(**store, key, "bench");
  if (!opened.ok()) return Fail(opened.status().ToString());
  result["reopen_store_ms"] = static_cast<double>(t1 - t0) / 1e6;
  result["reopen_audit_log_ms"] = static_cast<double>(NowNanos() - t1) / 1e6;
  const broker::AuditLog& audit = **opened;
  if (audit.size() != records) return Fail("reopened at the wrong size");
  const core::Hash root = audit.Root();
  if (core::HashToHex(root) != result["root"]) return Fail("root changed across a reopen");
  result["data_bytes"] = DirBytes(dir);

  std::mt19937_64 random(20261130);
  // 3. Proofs at size N, each checked.
  {
    LatencySamples inclusion, consistency;
    size_t inclusion_hashes = 0, consistency_hashes = 0;
    for (int q = 0; q < queries; ++q) {
      uint64_t seq = random() % records;
      int64_t start = NowNanos();
      core::Result<std::vector<core::Hash>> proof = core::InclusionProof(seq, records, audit);
      inclusion.Add(NowNanos() - start);
      if (!proof.ok()) return Fail(proof.status().ToString());
      inclusion_hashes += proof->size();
      core::Result<std::string> leaf = audit.RecordAt(seq);
      if (!leaf.ok() ||
          !core::VerifyInclusion(seq, records, core::LeafHash(*leaf), *proof, root).ok()) {
        return Fail("an inclusion proof does not verify at seq " + std::to_string(seq));
      }
    }
    for (int q = 0; q < queries; ++q) {
      uint64_t size1 = 1 + random() % (records - 1);
      core::Result<core::Hash> root1 = core::RootAt(size1, audit);
      if (!root1.ok()) return Fail(root1.status().ToString());
      int64_t start = NowNanos();
      core::Result<std::vector<core::Hash>> proof = core::ConsistencyProof(size1, records, audit);
      consistency.Add(NowNanos() - start);
      if (!proof.ok()) return Fail(proof.status().ToString());
      consistency_hashes += proof->size();
      if (!core::VerifyConsistency(size1, records, *root1, root, *proof).ok()) {
        return Fail("a consistency proof does not verify from size " + std::to_string(size1));
      }
    }
    result["inclusion_proof"] = inclusion.Summary();
    result["inclusion_proof"]["hashes_mean"] = static_cast<double>(inclusion_hashes) / queries;
    result["consistency_proof"] = consistency.Summary();
    result["consistency_proof"]["hashes_mean"] = static_cast<double>(consistency_hashes) / queries;
  }

  // 5. Trail of one child among N records (cold block cache: reopened above, never read).
  {
    LatencySamples trails;
    size_t found = 0, bytes = 0, reply_bytes = 0;
    for (int q = 0; q < queries; ++q) {
      std::string subject = Pseudonym(random() % children);
      int64_t start = NowNanos();
      found += QueryTrail(**store, audit, subject, &reply_bytes);
      trails.Add(NowNanos() - start);
      bytes += reply_bytes;
    }
    result["trail_query"] = trails.Summary();
    result["trail_query"]["records_mean"] = static_cast<double>(found) / queries;
    result["trail_query"]["reply_bytes_mean"] = static_cast<double>(bytes) / queries;
  }
  stafett::bench::PrintResult(result);
  return 0;
}
