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

// The file hand-off limit (issue 16's physical anchor): one thread writes 2 KiB files, fsyncs
// each, renames it into a folder, and fsyncs that folder once per 64 files — the naive careful
// loop an integrator would write. Files per second.
nlohmann::json MeasureFileHandoff(const std::filesystem::path& dir, double seconds) {
  std::filesystem::path staging = dir / "handoff.tmp", target = dir / "handoff";
  std::error_code error;
  std::filesystem::create_directories(staging, error);
  std::filesystem::create_directories(target, error);
  if (error) return {{"error", "mkdir"}};
  int folder = open(target.c_str(), O_RDONLY | O_DIRECTORY);
  if (folder < 0) return {{"error", "open folder"}};
  std::string block(2048, 'f');
  int64_t start = NowNanos(), end = start + static_cast<int64_t>(seconds * 1e9);
  uint64_t files = 0;
  bool failed = false;
  while (!failed && NowNanos() < end) {
    std::string name = "doc-" + std::to_string(files) + ".json";
    std::filesystem::path temp = staging / name;
    int fd = open(temp.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
    failed = fd < 0 ||
             write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
             fsync(fd) != 0;
    if (fd >= 0) close(fd);
    failed = failed || rename(temp.c_str(), (target / name).c_str()) != 0;
    ++files;
    if (!failed && files % 64 == 0) failed = fsync(folder) != 0;
  }
  if (!failed) fsync(folder);
  double elapsed = static_cast<double>(NowNanos() - start) / 1e9;
  close(folder);
  std::filesystem::remove_all(staging, error);
  std::filesystem::remove_all(target, error);
  if (failed) return {{"error", "write, fsync or rename failed"}};
  return {{"files_per_sec", static_cast<double>(files) / elapsed},
          {"file_bytes", 2048},
          {"folder_fsync_every", 64}};
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
