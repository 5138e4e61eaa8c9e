// TokenBucket (stafett/core/token_bucket.h).
#include "stafett/core/token_bucket.h"

#include <algorithm>
#include <chrono>

namespace stafett::core {

TokenBucket::TokenBucket(double rate_per_second, double capacity, double initial)
    : rate_(rate_per_second), capacity_(capacity), tokens_(std::min(initial, capacity)) {}

void TokenBucket::Refill(MonotonicTime now) {
  if (unlimited()) return;
  if (started_ && now > refilled_at_) {
    double elapsed = std::chrono::duration<double>(now - refilled_at_).count();
    tokens_ = std::min(capacity_, tokens_ + rate_ * elapsed);
  }
  if (!started_ || now > refilled_at_) refilled_at_ = now;
  started_ = true;
}

void TokenBucket::Take() {
  if (unlimited()) return;
  tokens_ = std::max(-1.0, tokens_ - 1);
}

bool TokenBucket::TryTake(MonotonicTime now) {
  Refill(now);
  if (!HasToken()) return false;
  Take();
  return true;
}

}  // namespace stafett::core
