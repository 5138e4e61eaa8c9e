// RandomSource implementations: libsodium's CSPRNG and a seeded generator for tests.
#include "stafett/core/random.h"

#include <sodium.h>

#include "stafett/core/crypto.h"

namespace stafett::core {

uint64_t RandomSource::Below(uint64_t bound) {
  if (bound == 0) return 0;
  // Values at or above the largest multiple of BOUND would favour small results.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t value;
  do {
    value = Next();
  } while (value >= limit);
  return value % bound;
}

std::string SystemRandom::Bytes(size_t size) {
  EnsureSodiumInitialised();
  std::string out(size, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

uint64_t SystemRandom::Next() {
  EnsureSodiumInitialised();
  uint64_t value;
  randombytes_buf(&value, sizeof value);
  return value;
}

SystemRandom& SystemRandom::Instance() {
  static SystemRandom random;
  return random;
}

std::string SeededRandom::Bytes(size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t value = engine_();
    for (size_t j = 0; j < 8 && i + j < size; ++j) out[i + j] = static_cast<char>(value >> (8 * j));
  }
  return out;
}

uint64_t SeededRandom::Next() {
  std::lock_guard<std::mutex> lock(mutex_);
  return engine_();
}

}  // namespace stafett::core
