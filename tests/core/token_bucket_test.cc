// TokenBucket: accrues at its rate up to its capacity, from the first refill, on monotonic time.
#include "stafett/core/token_bucket.h"

#include <gtest/gtest.h>

#include "stafett/core/clock.h"

namespace stafett::core {
namespace {

constexpr Micros kSecond = 1'000'000;

TEST(TokenBucketTest, TakesWhatItHoldsThenRefusesUntilTimeAccrues) {
  ManualClock clock(0);
  TokenBucket bucket(/*rate_per_second=*/10, /*capacity=*/10, /*initial=*/10);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bucket.TryTake(clock.MonotonicNow())) << i;
  EXPECT_FALSE(bucket.TryTake(clock.MonotonicNow()));
  clock.Advance(kSecond / 10);
  EXPECT_TRUE(bucket.TryTake(clock.MonotonicNow()));
  EXPECT_FALSE(bucket.TryTake(clock.MonotonicNow()));
}

TEST(TokenBucketTest, NeverHoldsMoreThanItsCapacity) {
  ManualClock clock(0);
  TokenBucket bucket(100, 5, 0);
  bucket.Refill(clock.MonotonicNow());
  clock.Advance(60 * kSecond);
  int taken = 0;
  while (bucket.TryTake(clock.MonotonicNow())) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(TokenBucketTest, TheFirstRefillStartsTheClockAndAddsNothing) {
  ManualClock clock(0);
  clock.Advance(3600 * kSecond);
  TokenBucket bucket(1, 100, 0);
  bucket.Refill(clock.MonotonicNow());
  EXPECT_FALSE(bucket.HasToken());
  clock.Advance(2 * kSecond);
  bucket.Refill(clock.MonotonicNow());
  EXPECT_DOUBLE_EQ(bucket.tokens(), 2);
}

TEST(TokenBucketTest, AWallClockStepNeitherFillsNorDrainsIt) {
  ManualClock clock(1000 * kSecond);
  TokenBucket bucket(1, 10, 0);
  bucket.Refill(clock.MonotonicNow());
  clock.Set(5000 * kSecond);  // the wall clock jumps forward
  bucket.Refill(clock.MonotonicNow());
  EXPECT_DOUBLE_EQ(bucket.tokens(), 0);
  clock.Set(10 * kSecond);  // and back
  clock.Advance(kSecond);
  bucket.Refill(clock.MonotonicNow());
  EXPECT_DOUBLE_EQ(bucket.tokens(), 1);
}

TEST(TokenBucketTest, WithoutARateEveryTakeSucceeds) {
  ManualClock clock(0);
  TokenBucket bucket;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.TryTake(clock.MonotonicNow()));
  EXPECT_TRUE(bucket.unlimited());
}

TEST(TokenBucketTest, ATakeOwedMayGoBelowZeroButNotFurther) {
  ManualClock clock(0);
  TokenBucket bucket(1, 1, 0);
  bucket.Refill(clock.MonotonicNow());
  bucket.Take();
  bucket.Take();
  EXPECT_DOUBLE_EQ(bucket.tokens(), -1);
  clock.Advance(2 * kSecond);
  EXPECT_TRUE(bucket.TryTake(clock.MonotonicNow()));
}

}  // namespace
}  // namespace stafett::core
