// RandomSource: the seeded source repeats, the system one does not, Below stays in range.
#include "stafett/core/random.h"

#include <gtest/gtest.h>

#include <random>
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

namespace stafett::core {
namespace {

// FormatRfc3339 writes its digits directly for years 0000-9999; the definition is the
// printf format below. Known answers, and random times over the whole range, round trip.
TEST(ClockTest, Rfc3339FormatMatchesItsDefinitionAndRoundTrips) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(951782400123456), "2000-02-29T00:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(253402300799999000), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(-1000), "1969-12-31T23:59:59.999Z");
  std::mt19937_64 random(3339);
  for (int i = 0; i < 20000; ++i) {
    Micros time = static_cast<Micros>(random() % 253402300800000000ULL) / 1000 * 1000;
    std::string text = FormatRfc3339(time);
    ASSERT_EQ(text.size(), 24u) << time;
    std::optional<Micros> parsed = ParseRfc3339(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    ASSERT_EQ(*parsed, time) << text;
  }
}

}  // namespace
}  // namespace stafett::core
