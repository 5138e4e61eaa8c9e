// The machine's limits, measured in the same run as the systems: what the disk, RocksDB,
// libsodium and raw ZeroMQ can do at most, so each system's figure can be read against them.
// Thread-safety: each probe runs alone; the ZeroMQ probe starts and joins its own threads.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

namespace stafett::bench {

// 2 KiB appends, each followed by fdatasync, for SECONDS: syncs per second.
nlohmann::json MeasureFdatasync(const std::filesystem::path& dir, double seconds);
// RocksDB with sync=true: single 2 KiB puts, and WriteBatches of 64 such puts.
// One thread: 2 KiB files written, each fsynced and renamed into a folder, the folder fsynced
// per 64 files; {"files_per_sec", ...}.
nlohmann::json MeasureFileHandoff(const std::filesystem::path& dir, double seconds);
nlohmann::json MeasureRocksDb(const std::filesystem::path& dir, double seconds);
// libsodium per-message costs: sign, verify, crypto_box_seal, open, AEAD 2 KiB, SHA-256 2 KiB,
// and the whole envelope (SealEnvelope; ParseHeader + VerifyEnvelope + OpenEnvelope).
nlohmann::json MeasureCrypto(double seconds_per_operation);
// DEALER → ROUTER → DEALER, with an ack back the same way, WINDOW in flight, 2 KiB messages;
// plain and CURVE, over TCP loopback.
nlohmann::json MeasureZmq(int count, int window);

}  // namespace stafett::bench
