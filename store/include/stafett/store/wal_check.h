// WAL check: reads a RocksDB write-ahead log file (the LevelDB log format: 32 KiB blocks of
// records, each a 7-byte header — masked CRC32C, length, type — and its data) and says whether
// it is whole, ends in a torn write, or is damaged where a torn write cannot explain it.
// The broker opens its database with absolute WAL consistency; only when that fails does it ask
// this check whether the one problem is a torn tail (docs/STORAGE.md, "A damaged WAL").
// Thread-safety: pure functions of the file's bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace stafett::store {

struct WalCheck {
  enum class Verdict {
    kWhole,      // every record checks out to the end of the file
    kTornTail,   // whole up to a last record cut short, with no valid record after it
    kCorrupted,  // a record fails its checksum, or valid records follow a broken one
  };
  Verdict verdict = Verdict::kWhole;
  uint64_t offset = 0;  // where the torn or damaged record starts
  std::string reason;   // for the log; never any record data
};

// Checks the log bytes BYTES.
WalCheck CheckWalBytes(std::string_view bytes);
// Reads FILE and checks it; an unreadable file is kCorrupted.
WalCheck CheckWalFile(const std::filesystem::path& file);

// CRC-32C (Castagnoli) of DATA, and RocksDB's masking of a stored CRC.
uint32_t Crc32c(std::string_view data);
uint32_t UnmaskCrc(uint32_t masked);

}  // namespace stafett::store
