// Shared helpers of the bench clients: monotonic time, latency samples with percentiles, the
// fixed-rate schedule (latency is measured from each message's scheduled send time, so a late
// sender cannot hide queueing: no coordinated omission), and the one-line JSON result.
// Thread-safety: LatencySamples is per thread or guarded by its owner; the rest is pure.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stafett::bench {

inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Latencies in nanoseconds; summarised as microseconds.
class LatencySamples {
 public:
  void Reserve(size_t count) { samples_.reserve(count); }
  void Add(int64_t nanos) { samples_.push_back(nanos); }
  size_t size() const { return samples_.size(); }

  // {count, p50_us, p99_us, p999_us, max_us, mean_us}; empty samples give zeros.
  nlohmann::json Summary() {
    nlohmann::json out = {{"count", samples_.size()}};
    if (samples_.empty()) return out;
    std::sort(samples_.begin(), samples_.end());
    auto at = [&](double q) {
      size_t index = static_cast<size_t>(q * static_cast<double>(samples_.size() - 1) + 0.5);
      return static_cast<double>(samples_[std::min(index, samples_.size() - 1)]) / 1000.0;
    };
    double sum = 0;
    for (int64_t sample : samples_) sum += static_cast<double>(sample);
    out["p50_us"] = at(0.50);
    out["p99_us"] = at(0.99);
    out["p999_us"] = at(0.999);
    out["max_us"] = static_cast<double>(samples_.back()) / 1000.0;
    out["mean_us"] = sum / static_cast<double>(samples_.size()) / 1000.0;
    return out;
  }

 private:
  std::vector<int64_t> samples_;
};

// Send times start + i * interval for a fixed offered rate.
class Schedule {
 public:
  Schedule(int64_t start_nanos, double rate_per_second)
      : start_(start_nanos), interval_(1e9 / rate_per_second) {}
  int64_t At(uint64_t index) const {
    return start_ + static_cast<int64_t>(static_cast<double>(index) * interval_);
  }

 private:
  int64_t start_;
  double interval_;
};

// The result line every client prints on stdout (run.sh collects them).
// Adds the client's own CPU time (user + system, all threads) so that CPU per message can be
// compared across systems whatever else the machine is doing.
inline void PrintResult(nlohmann::json result) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
  };
  result["client_cpu_s"] = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  std::printf("%s\n", result.dump().c_str());
  std::fflush(stdout);
}

// A 2 KiB opaque payload for the peers; bytes 0..7 carry the message index.
inline std::string MakePayload(uint64_t index, size_t size = 2048) {
  std::string payload(size, 'r');
  for (int i = 0; i < 8; ++i) payload[i] = static_cast<char>((index >> (8 * i)) & 0xff);
  return payload;
}
inline uint64_t PayloadIndex(const void* data, size_t size) {
  uint64_t index = 0;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < 8 && i < size; ++i) index |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return index;
}

// argv as --name value pairs (and bare --flags as "1").
class Flags {
 public:
  Flags(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string name = argv[i];
      if (name.rfind("--", 0) != 0) continue;
      name = name.substr(2);
      if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        values_.push_back({name, argv[++i]});
      } else {
        values_.push_back({name, "1"});
      }
    }
  }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    for (const auto& [key, value] : values_) {
      if (key == name) return value;
    }
    return fallback;
  }
  int64_t Int(const std::string& name, int64_t fallback) const {
    std::string value = Get(name);
    return value.empty() ? fallback : std::stoll(value);
  }
  double Double(const std::string& name, double fallback) const {
    std::string value = Get(name);
    return value.empty() ? fallback : std::stod(value);
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

}  // namespace stafett::bench
