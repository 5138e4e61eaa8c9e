// Tree hashing: RFC 6962 leaf and node hashes on libsodium's SHA-256, and hash parsing.
// Thread-safety: pure functions; sodium_init() runs once behind a function-local static.
#include <sodium.h>

#include <algorithm>

#include "stafett/core/merkle.h"

namespace stafett::core {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// SHA-256 needs no initialisation, but libsodium asks for sodium_init() before any use; its only
// possible failure concerns the random generator, which this module does not use.
void EnsureSodium() { [[maybe_unused]] static const int kInitResult = sodium_init(); }

}  // namespace

Hash LeafHash(std::string_view leaf_input) {
  EnsureSodium();
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, &kLeafPrefix, 1);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(leaf_input.data()),
                            leaf_input.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  EnsureSodium();
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, &kNodePrefix, 1);
  crypto_hash_sha256_update(&state, left.data(), left.size());
  crypto_hash_sha256_update(&state, right.data(), right.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Hash EmptyRoot() {
  EnsureSodium();
  Hash out;
  crypto_hash_sha256(out.data(), nullptr, 0);
  return out;
}

Result<Hash> HashFromBytes(std::span<const uint8_t> bytes) {
  Hash out;
  if (bytes.size() != out.size()) {
    return Result<Hash>(Code::kCorruption, "merkle hash has " + std::to_string(bytes.size()) +
                                               " bytes, want " + std::to_string(out.size()));
  }
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

std::string HashToHex(const Hash& hash) {
  std::string hex(hash.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
  hex.pop_back();  // the terminating NUL written by sodium_bin2hex
  return hex;
}

}  // namespace stafett::core
