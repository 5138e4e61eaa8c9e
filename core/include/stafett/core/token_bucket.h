// TokenBucket: the one rate limiter — the broker's publish limit per endpoint and the sending
// agent's pacing below it. RATE tokens a second accrue up to CAPACITY; each action takes one.
// Time is monotonic (core/clock.h), so a step of the wall clock neither fills nor drains it.
// Thread-safety: a value; one owner.
#pragma once

#include "stafett/core/clock.h"

namespace stafett::core {

class TokenBucket {
 public:
  // A bucket holding INITIAL tokens (at most CAPACITY) that starts accruing at the first
  // Refill. RATE <= 0 is no limit: every take succeeds.
  TokenBucket(double rate_per_second, double capacity, double initial);
  TokenBucket() : TokenBucket(0, 0, 0) {}

  // Adds what accrued since the last Refill (nothing the first time: the clock starts then).
  void Refill(MonotonicTime now);
  // True when a token is there to take (always, without a limit).
  bool HasToken() const { return unlimited() || tokens_ >= 1; }
  // Takes one token; the caller checked HasToken (or takes one it may owe: never below -1).
  void Take();
  // Refill, then take one if there is one: false when the rate is exhausted.
  bool TryTake(MonotonicTime now);

  bool unlimited() const { return rate_ <= 0; }
  double rate() const { return rate_; }
  double tokens() const { return tokens_; }

 private:
  double rate_;
  double capacity_;
  double tokens_;
  bool started_ = false;
  MonotonicTime refilled_at_{};
};

}  // namespace stafett::core
