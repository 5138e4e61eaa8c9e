// Clock: time behind an interface so that tests can inject it, as envoy's TimeSource: wall time
// (TTL expiry, consent validity; microseconds since the Unix epoch, UTC) and monotonic time
// (timeouts, intervals, durations: never goes back, unrelated to the wall clock).
// Thread-safety: SystemClock is stateless; ManualClock is safe for concurrent use.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stafett::core {

using Micros = int64_t;  // microseconds since 1970-01-01T00:00:00Z
using MonotonicTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time: may jump (NTP, an operator); for what is dated, never for how long something took.
  virtual Micros Now() const = 0;
  // Monotonic time: for deadlines, timeouts and durations.
  virtual MonotonicTime MonotonicNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  Micros Now() const override;
  MonotonicTime MonotonicNow() const override;
  static const SystemClock& Instance();
};

// A clock that moves only when told to; for tests. Advance moves both times; Set moves only
// the wall clock (a clock step), as the monotonic time of a real machine does not follow it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start) : now_(start) {}
  Micros Now() const override { return now_.load(); }
  MonotonicTime MonotonicNow() const override {
    return MonotonicTime(std::chrono::microseconds(monotonic_.load()));
  }
  // DELTA < 0 moves the wall clock back and leaves the monotonic time where it is.
  void Advance(Micros delta) {
    now_ += delta;
    monotonic_ += std::max<Micros>(delta, 0);
  }
  void Set(Micros now) { now_ = now; }

 private:
  std::atomic<Micros> now_;
  std::atomic<Micros> monotonic_{0};
};

// RFC 3339 in UTC with millisecond precision: "2026-11-23T08:15:00.123Z".
std::string FormatRfc3339(Micros time);
// Parses RFC 3339 ("2026-11-23T08:15:00Z", fractional seconds and numeric offsets accepted).
std::optional<Micros> ParseRfc3339(std::string_view text);

}  // namespace stafett::core
