// RecentMessages: bounded, oldest inserted out first, an update keeps its place.
#include "recent_messages.h"

#include <gtest/gtest.h>

namespace stafett::broker {
namespace {

core::MessageState StateWithSeq(uint64_t seq) {
  core::MessageState state;
  state.seq = seq;
  return state;
}

TEST(RecentMessagesTest, KeepsTheNewestUpToItsCapacity) {
  RecentMessages recent(3);
  for (uint64_t seq = 1; seq <= 5; ++seq) recent.Put("m" + std::to_string(seq), StateWithSeq(seq));
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent.Find("m1"), nullptr);
  EXPECT_EQ(recent.Find("m2"), nullptr);
  ASSERT_NE(recent.Find("m5"), nullptr);
  EXPECT_EQ(recent.Find("m5")->seq, 5u);
}

TEST(RecentMessagesTest, AnUpdateReplacesTheStateAndKeepsItsPlace) {
  RecentMessages recent(2);
  recent.Put("a", StateWithSeq(1));
  recent.Put("b", StateWithSeq(2));
  recent.Put("a", StateWithSeq(10));  // an update: "a" is still the oldest
  ASSERT_NE(recent.Find("a"), nullptr);
  EXPECT_EQ(recent.Find("a")->seq, 10u);
  recent.Put("c", StateWithSeq(3));
  EXPECT_EQ(recent.Find("a"), nullptr);
  EXPECT_NE(recent.Find("b"), nullptr);
  EXPECT_NE(recent.Find("c"), nullptr);
}

TEST(RecentMessagesTest, AForgottenStateIsGoneAndItsPlaceFreed) {
  RecentMessages recent(2);
  recent.Put("a", StateWithSeq(1));
  recent.Put("b", StateWithSeq(2));
  recent.Forget("a");  // the retention removed it from the store
  recent.Forget("nowhere");
  EXPECT_EQ(recent.Find("a"), nullptr);
  EXPECT_EQ(recent.size(), 1u);
  recent.Put("c", StateWithSeq(3));  // fits: "a"'s place was freed, "b" stays
  EXPECT_NE(recent.Find("b"), nullptr);
  EXPECT_NE(recent.Find("c"), nullptr);
  recent.Put("d", StateWithSeq(4));  // the oldest left, "b", goes
  EXPECT_EQ(recent.Find("b"), nullptr);
  EXPECT_EQ(recent.size(), 2u);
}

TEST(RecentMessagesTest, CapacityZeroKeepsNothing) {
  RecentMessages recent(0);
  recent.Put("a", StateWithSeq(1));
  EXPECT_EQ(recent.Find("a"), nullptr);
  EXPECT_EQ(recent.size(), 0u);
}

}  // namespace
}  // namespace stafett::broker
