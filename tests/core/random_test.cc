// RandomSource: the seeded source repeats, the system one does not, Below stays in range.
#include "stafett/core/random.h"

#include <gtest/gtest.h>

#include <set>

#include "stafett/core/clock.h"

namespace stafett::core {
namespace {

TEST(RandomTest, TheSameSeedGivesTheSameSequence) {
  SeededRandom a(42), b(42), c(43);
  EXPECT_EQ(a.Bytes(13), b.Bytes(13));
  EXPECT_EQ(a.Next(), b.Next());
  EXPECT_NE(a.Next(), c.Next());
}

TEST(RandomTest, SystemRandomDiffersEveryTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) seen.insert(SystemRandom::Instance().Bytes(16));
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_EQ(SystemRandom::Instance().Bytes(0), "");
}

TEST(RandomTest, BelowStaysInRangeAndReachesIt) {
  SeededRandom random(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    uint64_t value = random.Below(10);
    ASSERT_LT(value, 10u);
    seen.insert(value);
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(random.Below(0), 0u);
  EXPECT_EQ(random.Below(1), 0u);
}

TEST(ClockTest, ManualMonotonicTimeFollowsAdvanceNotSet) {
  ManualClock clock(1'000'000);
  MonotonicTime start = clock.MonotonicNow();
  clock.Advance(250);
  EXPECT_EQ(clock.MonotonicNow() - start, std::chrono::microseconds(250));
  EXPECT_EQ(clock.Now(), 1'000'250);
  clock.Set(0);  // the wall clock steps back
  EXPECT_EQ(clock.MonotonicNow() - start, std::chrono::microseconds(250));
  clock.Advance(-100);
  EXPECT_EQ(clock.Now(), -100);
  EXPECT_EQ(clock.MonotonicNow() - start, std::chrono::microseconds(250)) << "never backwards";
}

TEST(ClockTest, SystemMonotonicTimeNeverGoesBack) {
  MonotonicTime first = SystemClock::Instance().MonotonicNow();
  MonotonicTime second = SystemClock::Instance().MonotonicNow();
  EXPECT_LE(first, second);
}

}  // namespace
}  // namespace stafett::core
