// The trail map (docs/MERKLE.md, "The trail map"): the root after any sequence of sets equals a
// naive recursive transcription of the definition; proofs of presence and of absence (ending
// in an empty subtree or in another key's leaf) verify, and fail for any other value, key or
// root; updating a key moves its proof to the new value only.
#include "stafett/core/sparse_map.h"

#include <gtest/gtest.h>

#include <map>

namespace stafett::core {
namespace {

bool Bit(const Hash& key, size_t index) { return ((key[index / 8] >> (7 - index % 8)) & 1) != 0; }

// The definition, word for word: no key → zeros, one key → its leaf, else NodeHash(left, right).
Hash NaiveRoot(const std::map<Hash, uint64_t>& entries, size_t depth = 0) {
  if (entries.empty()) return EmptyMapHash();
  if (entries.size() == 1) return MapLeafHash(entries.begin()->first, entries.begin()->second);
  std::map<Hash, uint64_t> left, right;
  for (const auto& [key, seq] : entries) (Bit(key, depth) ? right : left)[key] = seq;
  return NodeHash(NaiveRoot(left, depth + 1), NaiveRoot(right, depth + 1));
}

TEST(SparseMapTest, EmptyMapProvesAbsence) {
  MemoryMapNodeStore store;
  SparseMap map(store);
  EXPECT_EQ(*map.Root(), EmptyMapHash());
  Result<MapProof> proof = map.Prove(TrailMapKey('s', "child"));
  ASSERT_TRUE(proof.ok());
  EXPECT_FALSE(proof->value);
  EXPECT_TRUE(VerifyMapProof(*proof, *map.Root()).ok());
}

TEST(SparseMapTest, RootMatchesTheDefinitionAndProofsVerify) {
  MemoryMapNodeStore store;
  SparseMap map(store);
  std::map<Hash, uint64_t> expected;
  for (uint64_t seq = 0; seq < 300; ++seq) {
    // 60 keys, each set several times: inserts and updates interleaved.
    Hash key = TrailMapKey(seq % 2 ? 's' : 'e', "id-" + std::to_string(seq % 60));
    Result<std::optional<uint64_t>> previous = map.Set(key, seq);
    ASSERT_TRUE(previous.ok()) << previous.status().ToString();
    auto found = expected.find(key);
    if (found == expected.end()) {
      EXPECT_FALSE(previous->has_value()) << seq;
    } else {
      EXPECT_EQ(previous->value_or(UINT64_MAX), found->second) << seq;
    }
    expected[key] = seq;
    ASSERT_EQ(*map.Root(), NaiveRoot(expected)) << "after setting seq " << seq;
  }
  Hash root = *map.Root();
  for (const auto& [key, seq] : expected) {
    Result<MapProof> proof = map.Prove(key);
    ASSERT_TRUE(proof.ok());
    ASSERT_EQ(proof->value.value_or(UINT64_MAX), seq);
    EXPECT_TRUE(VerifyMapProof(*proof, root).ok());
    // Through JSON and back, as the trail query carries it.
    Result<MapProof> parsed = MapProof::FromJson(proof->ToJson());
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(VerifyMapProof(*parsed, root).ok());
    // Another value, or the claim that the key is absent, does not verify.
    MapProof altered = *proof;
    altered.value = seq + 1;
    EXPECT_EQ(VerifyMapProof(altered, root).code(), Code::kCorruption);
    altered.value.reset();
    EXPECT_EQ(VerifyMapProof(altered, root).code(), Code::kCorruption);
    // An older value (the state before the last update) does not verify under the new root.
    if (seq >= 60) {
      altered.value = seq - 60;
      EXPECT_EQ(VerifyMapProof(altered, root).code(), Code::kCorruption);
    }
  }
  // Absence: keys never set, proofs ending in an empty subtree or in another key's leaf.
  int ended_in_other = 0, ended_empty = 0;
  for (int i = 0; i < 200; ++i) {
    Hash key = TrailMapKey('s', "absent-" + std::to_string(i));
    Result<MapProof> proof = map.Prove(key);
    ASSERT_TRUE(proof.ok());
    EXPECT_FALSE(proof->value);
    (proof->other_key ? ended_in_other : ended_empty)++;
    EXPECT_TRUE(VerifyMapProof(*proof, root).ok());
    MapProof claimed = *proof;
    claimed.value = 5;
    claimed.other_key.reset();
    EXPECT_EQ(VerifyMapProof(claimed, root).code(), Code::kCorruption)
        << "an absent key cannot be proved present";
  }
  EXPECT_GT(ended_in_other, 0);
  EXPECT_GT(ended_empty, 0);
  // A proof verifies under its own root only.
  Result<MapProof> proof = map.Prove(expected.begin()->first);
  Hash other_root = root;
  other_root[0] ^= 1;
  EXPECT_EQ(VerifyMapProof(*proof, other_root).code(), Code::kCorruption);
}

// Deferred sets in batches (the broker: one Rehash per commit cycle) leave exactly the nodes,
// root and proofs that one Set at a time does; between Rehashes Get is exact.
TEST(SparseMapTest, DeferredSetsThenOneRehashEqualSetOneByOne) {
  MemoryMapNodeStore eager_store;
  MemoryMapNodeStore deferred_store;
  SparseMap eager(eager_store);
  SparseMap deferred(deferred_store);
  StaleNodes stale;
  std::map<Hash, uint64_t> expected;
  for (uint64_t seq = 0; seq < 500; ++seq) {
    Hash key = TrailMapKey(seq % 3 ? 's' : 'e', "id-" + std::to_string((seq * 7) % 90));
    Result<std::optional<uint64_t>> before = eager.Set(key, seq);
    Result<std::optional<uint64_t>> after = deferred.SetDeferred(key, seq, &stale);
    ASSERT_TRUE(before.ok() && after.ok());
    EXPECT_EQ(*before, *after) << seq;
    EXPECT_EQ(deferred.Get(key)->value_or(UINT64_MAX), seq);
    expected[key] = seq;
    if (seq % 37 == 36 || seq == 499) {  // batches of 37 (the last one shorter)
      ASSERT_FALSE(stale.empty());
      ASSERT_TRUE(deferred.Rehash(&stale).ok());
      EXPECT_TRUE(stale.empty());
      ASSERT_EQ(*deferred.Root(), NaiveRoot(expected)) << "after seq " << seq;
      ASSERT_EQ(*deferred.Root(), *eager.Root());
      ASSERT_EQ(deferred_store.size(), eager_store.size());
    }
  }
  for (const auto& [key, seq] : expected) {
    Result<MapProof> proof = deferred.Prove(key);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(VerifyMapProof(*proof, *eager.Root()).ok());
  }
}

TEST(SparseMapTest, SplitAtTheLastBitAndMalformedProofs) {
  MemoryMapNodeStore store;
  SparseMap map(store);
  Hash a{}, b{};
  b[31] = 1;  // differs from a in bit 255 only: leaves at depth 256
  ASSERT_TRUE(map.Set(a, 1).ok());
  ASSERT_TRUE(map.Set(b, 2).ok());
  std::map<Hash, uint64_t> expected = {{a, 1}, {b, 2}};
  EXPECT_EQ(*map.Root(), NaiveRoot(expected));
  Result<MapProof> proof = map.Prove(b);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(proof->siblings.size(), 256u);
  EXPECT_TRUE(VerifyMapProof(*proof, *map.Root()).ok());
  EXPECT_FALSE(MapProof::FromJson({{"key", "zz"}, {"siblings", nlohmann::json::array()}}).ok());
  EXPECT_FALSE(MapProof::FromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace stafett::core
