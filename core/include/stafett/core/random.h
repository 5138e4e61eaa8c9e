// RandomSource: randomness behind an interface, so that tests can inject a seed (reconnect
// jitter, ids, test workloads). SystemRandom is libsodium's CSPRNG (randombytes_buf), for
// anything an attacker must not guess; SeededRandom is a deterministic generator for tests,
// never for keys or ids that must be unguessable.
// Thread-safety: both are safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace stafett::core {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // SIZE random bytes.
  virtual std::string Bytes(size_t size) = 0;
  // A uniformly distributed 64-bit value.
  virtual uint64_t Next() = 0;
  // Uniform in [0, BOUND); 0 for BOUND 0. Unbiased (rejection sampling).
  uint64_t Below(uint64_t bound);
};

class SystemRandom final : public RandomSource {
 public:
  std::string Bytes(size_t size) override;
  uint64_t Next() override;
  static SystemRandom& Instance();
};

// The same SEED gives the same sequence on every platform (std::mt19937_64 is specified).
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  std::string Bytes(size_t size) override;
  uint64_t Next() override;

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;
};

}  // namespace stafett::core
