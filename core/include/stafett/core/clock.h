// Clock: wall time behind an interface so that tests can inject time (TTL expiry, consent
// validity). Times are microseconds since the Unix epoch, UTC.
// Thread-safety: SystemClock is stateless; ManualClock is safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stafett::core {

using Micros = int64_t;  // microseconds since 1970-01-01T00:00:00Z

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Micros Now() const override;
  static const SystemClock& Instance();
};

// A clock that moves only when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start) : now_(start) {}
  Micros Now() const override { return now_.load(); }
  void Advance(Micros delta) { now_ += delta; }
  void Set(Micros now) { now_ = now; }

 private:
  std::atomic<Micros> now_;
};

// RFC 3339 in UTC with millisecond precision: "2026-11-23T08:15:00.123Z".
std::string FormatRfc3339(Micros time);
// Parses RFC 3339 ("2026-11-23T08:15:00Z", fractional seconds and numeric offsets accepted).
std::optional<Micros> ParseRfc3339(std::string_view text);

}  // namespace stafett::core
