// Disk and RocksDB limits: fdatasync rate, RocksDB sync=true puts and 64-message batches.
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <string>

#include "bench_stats.h"
#include "limits.h"

namespace stafett::bench {

nlohmann::json MeasureFdatasync(const std::filesystem::path& dir, double seconds) {
  std::filesystem::path file = dir / "fdatasync.bin";
  int fd = open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0) return {{"error", "open"}};
  std::string block(2048, 'd');
  int64_t start = NowNanos(), end = start + static_cast<int64_t>(seconds * 1e9);
  uint64_t syncs = 0;
  LatencySamples samples;
  while (NowNanos() < end) {
    int64_t before = NowNanos();
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    if (fdatasync(fd) != 0) break;
    samples.Add(NowNanos() - before);
    ++syncs;
  }
  double elapsed = static_cast<double>(NowNanos() - start) / 1e9;
  close(fd);
  std::filesystem::remove(file);
  return {{"syncs_per_sec", static_cast<double>(syncs) / elapsed}, {"latency", samples.Summary()}};
}

namespace {

// Puts BATCH values of 2 KiB per WriteBatch with sync=true for SECONDS; values per second.
double RocksRate(rocksdb::DB* db, int batch_size, double seconds, uint64_t* key) {
  rocksdb::WriteOptions options;
  options.sync = true;
  std::string value(2048, 'v');
  int64_t start = NowNanos(), end = start + static_cast<int64_t>(seconds * 1e9);
  uint64_t values = 0;
  while (NowNanos() < end) {
    rocksdb::WriteBatch batch;
    for (int i = 0; i < batch_size; ++i) batch.Put("k" + std::to_string((*key)++), value);
    if (!db->Write(options, &batch).ok()) break;
    values += batch_size;
  }
  return static_cast<double>(values) / (static_cast<double>(NowNanos() - start) / 1e9);
}

}  // namespace

nlohmann::json MeasureRocksDb(const std::filesystem::path& dir, double seconds) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  std::filesystem::path path = dir / "rocksdb-limits";
  if (!rocksdb::DB::Open(options, path.string(), &raw).ok()) return {{"error", "open"}};
  std::unique_ptr<rocksdb::DB> db(raw);
  uint64_t key = 0;
  double single = RocksRate(db.get(), 1, seconds, &key);
  double batched = RocksRate(db.get(), 64, seconds, &key);
  db.reset();
  std::filesystem::remove_all(path);
  return {{"sync_single_puts_per_sec", single},
          {"sync_batch64_values_per_sec", batched},
          {"sync_batch64_batches_per_sec", batched / 64}};
}

}  // namespace stafett::bench
