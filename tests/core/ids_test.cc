// Tests for UUIDv7 message ids and the id syntax checks. Thread-safety: n/a (test).
#include "stafett/core/ids.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <set>

namespace stafett::core {
namespace {

TEST(NewMessageIdTest, IsUuidV7WithTheTimestamp) {
  const Micros now = *ParseRfc3339("2026-03-01T12:00:00.123Z");
  const std::string id = NewMessageId(now);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[13], '-');
  EXPECT_EQ(id[18], '-');
  EXPECT_EQ(id[23], '-');
  EXPECT_EQ(id[14], '7');                                          // version
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);  // variant 0b10
  const uint64_t millis = static_cast<uint64_t>(now / 1000);
  char expected[13];
  std::snprintf(expected, sizeof(expected), "%012llx", static_cast<unsigned long long>(millis));
  EXPECT_EQ(id.substr(0, 8) + id.substr(9, 4), expected);
  for (char c : id)
    EXPECT_TRUE(c == '-' || (std::isxdigit(static_cast<unsigned char>(c)) &&
                             !std::isupper(static_cast<unsigned char>(c))))
        << id;
  EXPECT_TRUE(IsValidMessageId(id));
}

TEST(NewMessageIdTest, IsUniqueAndSortsByTime) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(NewMessageId(1'000'000));
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_LT(NewMessageId(1'000'000), NewMessageId(2'000'000));
}

TEST(NewMessageIdTest, TakesItsRandomBitsFromTheInjectedSource) {
  SeededRandom a(5), b(5), c(6);
  constexpr Micros kNow = 1'764'000'000'000'000;
  std::string id = NewMessageId(kNow, a);
  EXPECT_EQ(id, NewMessageId(kNow, b));
  EXPECT_NE(id, NewMessageId(kNow, c));
  EXPECT_EQ(id.substr(14, 1), "7");  // still a UUIDv7
  EXPECT_TRUE(IsValidMessageId(id));
}

TEST(IsValidMessageIdTest, FollowsTheGrammar) {
  EXPECT_TRUE(IsValidMessageId("a"));
  EXPECT_TRUE(IsValidMessageId("Msg-1.2_3"));
  EXPECT_TRUE(IsValidMessageId(std::string(64, 'x')));
  EXPECT_FALSE(IsValidMessageId(""));
  EXPECT_FALSE(IsValidMessageId(std::string(65, 'x')));
  EXPECT_FALSE(IsValidMessageId("-leading"));
  EXPECT_FALSE(IsValidMessageId(".leading"));
  EXPECT_FALSE(IsValidMessageId("has space"));
  EXPECT_FALSE(IsValidMessageId("slash/"));
  EXPECT_FALSE(IsValidMessageId("åäö"));
}

TEST(IsValidEndpointIdTest, FollowsTheGrammar) {
  EXPECT_TRUE(IsValidEndpointId("flen.school"));
  EXPECT_TRUE(IsValidEndpointId("region.health-bup"));
  EXPECT_TRUE(IsValidEndpointId("a.b"));
  EXPECT_TRUE(IsValidEndpointId(std::string(63, 'a') + "." + std::string(63, 'b')));
  EXPECT_FALSE(IsValidEndpointId(std::string(64, 'a') + ".b"));
  EXPECT_FALSE(IsValidEndpointId("flen"));
  EXPECT_FALSE(IsValidEndpointId("flen."));
  EXPECT_FALSE(IsValidEndpointId(".school"));
  EXPECT_FALSE(IsValidEndpointId("a.b.c"));
  EXPECT_FALSE(IsValidEndpointId("Flen.school"));
  EXPECT_FALSE(IsValidEndpointId("flen_x.school"));
  EXPECT_FALSE(IsValidEndpointId(""));
}

TEST(IsValidPrincipalIdTest, AcceptsRolesAndEndpoints) {
  EXPECT_TRUE(IsValidPrincipalId("broker"));
  EXPECT_TRUE(IsValidPrincipalId("auditor"));
  EXPECT_TRUE(IsValidPrincipalId("flen.school"));
  EXPECT_FALSE(IsValidPrincipalId(""));
  EXPECT_FALSE(IsValidPrincipalId("-x"));
  EXPECT_FALSE(IsValidPrincipalId("Broker"));
  EXPECT_FALSE(IsValidPrincipalId(std::string(129, 'a')));
}

}  // namespace
}  // namespace stafett::core
