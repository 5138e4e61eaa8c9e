// WAL check: the LevelDB/RocksDB log format walked record by record (db/log_format.h there).
#include "stafett/store/wal_check.h"

#include <array>
#include <fstream>
#include <iterator>

namespace stafett::store {
namespace {

constexpr size_t kBlockSize = 32768;
constexpr size_t kHeaderSize = 7;             // crc (4), length (2), type (1)
constexpr size_t kRecyclableHeaderSize = 11;  // + log number (4)
constexpr uint8_t kZeroType = 0;
constexpr uint8_t kFirstRecyclableType = 5, kLastRecyclableType = 8;

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) != 0 ? 0x82F63B78u : 0);
    table[i] = crc;
  }
  return table;
}

uint32_t DecodeFixed32(const char* p) {
  return static_cast<uint32_t>(static_cast<uint8_t>(p[0])) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3])) << 24;
}

size_t HeaderSizeOf(uint8_t type) {
  return type >= kFirstRecyclableType && type <= kLastRecyclableType ? kRecyclableHeaderSize
                                                                     : kHeaderSize;
}

// Whether a whole record with a matching checksum starts at OFFSET.
bool ValidRecordAt(std::string_view bytes, size_t offset) {
  if (offset + kHeaderSize > bytes.size()) return false;
  const char* header = bytes.data() + offset;
  uint8_t type = static_cast<uint8_t>(header[6]);
  size_t length = static_cast<uint8_t>(header[4]) | static_cast<size_t>(header[5] & 0xff) << 8;
  size_t header_size = HeaderSizeOf(type);
  if (type == kZeroType || offset + header_size + length > bytes.size()) return false;
  if (offset / kBlockSize != (offset + header_size + length - 1) / kBlockSize) return false;
  // The CRC covers the type byte (and a recyclable record's log number) and the data.
  uint32_t actual = Crc32c(bytes.substr(offset + 6, header_size - 6 + length));
  return actual == UnmaskCrc(DecodeFixed32(header));
}

bool AllZero(std::string_view bytes) {
  for (char c : bytes) {
    if (c != '\0') return false;
  }
  return true;
}

}  // namespace

uint32_t Crc32c(std::string_view data) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t crc = 0xFFFFFFFFu;
  for (char c : data) crc = table[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t UnmaskCrc(uint32_t masked) {
  uint32_t rotated = masked - 0xa282ead8u;
  return (rotated >> 17) | (rotated << 15);
}

WalCheck CheckWalBytes(std::string_view bytes) {
  size_t offset = 0;
  while (offset < bytes.size()) {
    size_t block_left = kBlockSize - offset % kBlockSize;
    if (block_left < kHeaderSize) {  // a block's trailer: zeros, skipped
      offset += block_left;
      continue;
    }
    if (ValidRecordAt(bytes, offset)) {
      const char* header = bytes.data() + offset;
      size_t length = static_cast<uint8_t>(header[4]) | static_cast<size_t>(header[5] & 0xff) << 8;
      offset += HeaderSizeOf(static_cast<uint8_t>(header[6])) + length;
      continue;
    }
    // Not a whole, valid record here. A torn write leaves a prefix of the last record (or
    // zeros where the file was extended) and nothing valid after it; damage in the middle
    // leaves valid records behind the broken one.
    WalCheck check;
    check.offset = offset;
    std::string_view rest = bytes.substr(offset);
    if (AllZero(rest)) {
      check.verdict = WalCheck::Verdict::kTornTail;
      check.reason = "zeros after the last record";
      return check;
    }
    for (size_t later = offset + 1; later + kHeaderSize <= bytes.size(); ++later) {
      if (ValidRecordAt(bytes, later)) {
        check.verdict = WalCheck::Verdict::kCorrupted;
        check.reason = "a damaged record with valid records after it";
        return check;
      }
    }
    const char* header = bytes.data() + offset;
    size_t length =
        rest.size() >= kHeaderSize
            ? (static_cast<uint8_t>(header[4]) | static_cast<size_t>(header[5] & 0xff) << 8)
            : 0;
    if (rest.size() < kHeaderSize || kHeaderSize + length > rest.size()) {
      check.verdict = WalCheck::Verdict::kTornTail;
      check.reason = "the last record is cut short";
    } else {
      check.verdict = WalCheck::Verdict::kCorrupted;
      check.reason = "the last record fails its checksum";
    }
    return check;
  }
  return WalCheck{};
}

WalCheck CheckWalFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return WalCheck{WalCheck::Verdict::kCorrupted, 0, "cannot be read"};
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return WalCheck{WalCheck::Verdict::kCorrupted, 0, "cannot be read"};
  return CheckWalBytes(bytes);
}

}  // namespace stafett::store
