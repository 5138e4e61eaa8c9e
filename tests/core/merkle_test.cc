// Tests of the Merkle maths: the RFC 6962 test vectors, generated proofs against a naive recursive
// reference, tampered proofs, read counts, and CompactRange restart. Single-threaded.
#include "stafett/core/merkle.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace stafett::core {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kVectors = fs::path(STAFETT_TESTDATA) / "rfc6962";

// ---- Test-vector loading: bytes are checked for length before a Hash exists. ----

Result<Hash> HashFromBase64(const Json& value) {
  if (!value.is_string()) return Result<Hash>(Code::kCorruption, "hash is not a string");
  const std::string text = value.get<std::string>();
  std::vector<uint8_t> bytes(text.size() + 1);  // never empty: libsodium wants a buffer
  size_t length = 0;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Result<Hash>(Code::kCorruption, "hash is not base64");
  }
  return HashFromBytes(std::span<const uint8_t>(bytes.data(), length));
}

Hash HashFromHex(const std::string& hex) {
  Hash hash{};
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(
      sodium_hex2bin(hash.data(), hash.size(), hex.data(), hex.size(), nullptr, nullptr, nullptr),
      0);
  return hash;
}

std::string BytesFromHex(const std::string& hex) {
  std::string bytes(hex.size() / 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return bytes;
}

Result<std::vector<Hash>> ProofFromJson(const Json& value) {
  std::vector<Hash> proof;
  if (value.is_null()) return proof;
  for (const Json& item : value) {
    Result<Hash> hash = HashFromBase64(item);
    if (!hash.ok()) return hash.status();
    proof.push_back(*hash);
  }
  return proof;
}

// What our verifier says about one vector file: Ok, or why it was rejected.
Status CheckInclusionCase(const Json& c) {
  Result<Hash> root = HashFromBase64(c["root"]);
  Result<Hash> leaf = HashFromBase64(c["leafHash"]);
  Result<std::vector<Hash>> proof = ProofFromJson(c["proof"]);
  for (const Status* s : {&root.status(), &leaf.status(), &proof.status()}) {
    if (!s->ok()) return *s;
  }
  return VerifyInclusion(c["leafIdx"].get<uint64_t>(), c["treeSize"].get<uint64_t>(), *leaf, *proof,
                         *root);
}

Status CheckConsistencyCase(const Json& c, bool stand_in_for_short_roots) {
  Result<Hash> root1 = HashFromBase64(c["root1"]);
  Result<Hash> root2 = HashFromBase64(c["root2"]);
  if (stand_in_for_short_roots) {
    // A 32-byte stand-in that keeps (in)equality: the leaf hash of the root's base64 text.
    if (!root1.ok()) root1 = LeafHash(c["root1"].get<std::string>());
    if (!root2.ok()) root2 = LeafHash(c["root2"].get<std::string>());
  }
  Result<std::vector<Hash>> proof = ProofFromJson(c["proof"]);
  for (const Status* s : {&root1.status(), &root2.status(), &proof.status()}) {
    if (!s->ok()) return *s;
  }
  return VerifyConsistency(c["size1"].get<uint64_t>(), c["size2"].get<uint64_t>(), *root1, *root2,
                           *proof);
}

// Runs every vector under `dir`; returns the number of cases.
template <typename Check>
int RunVectors(const std::string& dir, Check check, const std::set<std::string>& known_rejected) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kVectors / dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const std::string name = fs::relative(file, kVectors).generic_string();
    std::ifstream in(file);
    const Json c = Json::parse(in);
    const Status verdict = check(c);
    const bool want_reject = c["wantErr"].get<bool>() || known_rejected.count(name) > 0;
    EXPECT_EQ(!verdict.ok(), want_reject)
        << name << " (" << c["desc"] << "): " << verdict.ToString();
    if (!verdict.ok()) {
      EXPECT_EQ(verdict.code(), Code::kCorruption) << name;
    }
  }
  return static_cast<int>(files.size());
}

TEST(MerkleVectorsTest, ReferenceTreeRoots) {
  std::ifstream in(kVectors / "reference-tree.json");
  const Json tree = Json::parse(in);
  const auto& inputs = tree["leaf_inputs_hex"];
  const auto& roots = tree["root_by_tree_size_hex"];
  ASSERT_EQ(roots.size(), 9u);
  MemoryNodeStore store;
  EXPECT_EQ(store.Root(), HashFromHex(roots[0]));
  for (const Json& input : inputs) store.Append(BytesFromHex(input.get<std::string>()));
  for (uint64_t n = 0; n < roots.size(); ++n) {
    Result<Hash> root = RootAt(n, store);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    EXPECT_EQ(*root, HashFromHex(roots[n])) << "n=" << n;
  }
  EXPECT_EQ(store.Root(), HashFromHex(roots[8]));
  EXPECT_EQ(EmptyRoot(), HashFromHex(roots[0]));
}

TEST(MerkleVectorsTest, EveryInclusionCase) {
  EXPECT_EQ(RunVectors("inclusion", CheckInclusionCase, {}), 98);
}

// This case wants two equal 12-byte "roots" accepted: upstream's Go verifier compares the roots of
// equal sizes as byte strings of any length. Here a hash is 32 bytes or rejected (the testdata
// README's own rule), so the strict run rejects it; the stand-in run below checks its intent.
const std::set<std::string> kShortRootsAccepted = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"};

TEST(MerkleVectorsTest, EveryConsistencyCase) {
  const auto strict = [](const Json& c) { return CheckConsistencyCase(c, false); };
  EXPECT_EQ(RunVectors("consistency", strict, kShortRootsAccepted), 98);
}

// The same cases with short roots replaced by 32-byte stand-ins, so that the size and equality
// rules of consistency/additional are exercised rather than stopped by the length check. Every
// wantErr holds here, with no exceptions.
TEST(MerkleVectorsTest, EveryConsistencyCaseWithStandInsForShortRoots) {
  const auto lenient = [](const Json& c) { return CheckConsistencyCase(c, true); };
  EXPECT_EQ(RunVectors("consistency", lenient, {}), 98);
}

TEST(MerkleVectorsTest, LoaderRejectsHashesThatAreNot32Bytes) {
  for (const char* text :
       {"", "ZG9uJ3QgY2FyZSAy", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFZ4"}) {
    Result<Hash> hash = HashFromBase64(Json(text));
    ASSERT_FALSE(hash.ok()) << text;
    EXPECT_EQ(hash.status().code(), Code::kCorruption);
  }
  EXPECT_TRUE(HashFromBase64(Json("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")).ok());
}

// ---- The naive reference: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 written as recursion. ----

using Leaves = std::vector<Hash>;

uint64_t LargestPowerOfTwoBelow(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash NaiveRoot(const Leaves& d, uint64_t begin, uint64_t end) {
  if (end == begin) return EmptyRoot();
  if (end - begin == 1) return d[begin];
  const uint64_t k = LargestPowerOfTwoBelow(end - begin);
  return NodeHash(NaiveRoot(d, begin, begin + k), NaiveRoot(d, begin + k, end));
}

Leaves NaivePath(uint64_t m, const Leaves& d, uint64_t begin, uint64_t end) {
  if (end - begin == 1) return {};
  const uint64_t k = LargestPowerOfTwoBelow(end - begin);
  Leaves path;
  if (m < k) {
    path = NaivePath(m, d, begin, begin + k);
    path.push_back(NaiveRoot(d, begin + k, end));
  } else {
    path = NaivePath(m - k, d, begin + k, end);
    path.push_back(NaiveRoot(d, begin, begin + k));
  }
  return path;
}

Leaves NaiveSubproof(uint64_t m, const Leaves& d, uint64_t begin, uint64_t end, bool b) {
  const uint64_t n = end - begin;
  if (m == n) return b ? Leaves{} : Leaves{NaiveRoot(d, begin, end)};
  const uint64_t k = LargestPowerOfTwoBelow(n);
  Leaves proof;
  if (m <= k) {
    proof = NaiveSubproof(m, d, begin, begin + k, b);
    proof.push_back(NaiveRoot(d, begin + k, end));
  } else {
    proof = NaiveSubproof(m - k, d, begin + k, end, false);
    proof.push_back(NaiveRoot(d, begin, begin + k));
  }
  return proof;
}

// Serves only the nodes that are complete in a tree of `size` leaves, and counts reads.
class BoundedReader : public NodeReader {
 public:
  BoundedReader(const NodeReader& inner, uint64_t size) : inner_(inner), size_(size) {}
  Result<Hash> Get(uint32_t level, uint64_t index) const override {
    ++reads_;
    if (level >= 64 || index >= (size_ >> level)) {
      ADD_FAILURE() << "read of (" << level << ", " << index << ") beyond size " << size_;
      return Result<Hash>(Code::kNotFound, "beyond the tree");
    }
    return inner_.Get(level, index);
  }
  int ReadCount() const { return reads_; }

 private:
  const NodeReader& inner_;
  uint64_t size_;
  mutable int reads_ = 0;
};

constexpr uint64_t kMaxSize = 64;

class MerkleProofTest : public ::testing::Test {
 protected:
  // Twice the largest tested size, so that "wrong size" checks have real roots to compare with.
  void SetUp() override {
    for (uint64_t i = 0; i < 2 * kMaxSize; ++i) {
      leaves_.push_back(store_.Append("leaf " + std::to_string(i)));
    }
  }
  MemoryNodeStore store_;
  Leaves leaves_;
};

TEST_F(MerkleProofTest, RootsMatchTheReference) {
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    BoundedReader reader(store_, n);
    Result<Hash> root = RootAt(n, reader);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    EXPECT_EQ(*root, NaiveRoot(leaves_, 0, n)) << "n=" << n;
  }
}

TEST_F(MerkleProofTest, EveryInclusionProofUpTo64MatchesAndVerifies) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    const Hash root = NaiveRoot(leaves_, 0, n);
    for (uint64_t i = 0; i < n; ++i) {
      BoundedReader reader(store_, n);
      Result<Leaves> proof = InclusionProof(i, n, reader);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, NaivePath(i, leaves_, 0, n)) << i << " of " << n;
      EXPECT_TRUE(VerifyInclusion(i, n, leaves_[i], *proof, root).ok()) << i << " of " << n;
    }
  }
}

TEST_F(MerkleProofTest, EveryConsistencyProofUpTo64MatchesAndVerifies) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      BoundedReader reader(store_, n);
      Result<Leaves> proof = ConsistencyProof(m, n, reader);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, NaiveSubproof(m, leaves_, 0, n, true)) << m << " to " << n;
      const Status verdict =
          VerifyConsistency(m, n, NaiveRoot(leaves_, 0, m), NaiveRoot(leaves_, 0, n), *proof);
      EXPECT_TRUE(verdict.ok()) << m << " to " << n << ": " << verdict.ToString();
    }
  }
}

void FlipBit(Hash& hash) { hash[7] ^= 0x10; }

TEST_F(MerkleProofTest, InclusionVerifierCatchesTampering) {
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    const Hash root = NaiveRoot(leaves_, 0, n);
    for (uint64_t i = 0; i < n; ++i) {
      SCOPED_TRACE("leaf " + std::to_string(i) + " of " + std::to_string(n));
      const Leaves proof = *InclusionProof(i, n, store_);
      Hash leaf = leaves_[i];
      FlipBit(leaf);
      EXPECT_FALSE(VerifyInclusion(i, n, leaf, proof, root).ok()) << "changed leaf";
      Hash wrong_root = root;
      FlipBit(wrong_root);
      EXPECT_FALSE(VerifyInclusion(i, n, leaves_[i], proof, wrong_root).ok()) << "changed root";
      for (size_t j = 0; j < proof.size(); ++j) {
        Leaves changed = proof;
        FlipBit(changed[j]);
        EXPECT_FALSE(VerifyInclusion(i, n, leaves_[i], changed, root).ok()) << "changed " << j;
        if (j + 1 < proof.size()) {
          Leaves swapped = proof;
          std::swap(swapped[j], swapped[j + 1]);
          EXPECT_FALSE(VerifyInclusion(i, n, leaves_[i], swapped, root).ok()) << "swapped " << j;
        }
      }
      if (!proof.empty()) {
        const Leaves truncated(proof.begin(), proof.end() - 1);
        EXPECT_FALSE(VerifyInclusion(i, n, leaves_[i], truncated, root).ok()) << "truncated";
      }
      Leaves extended = proof;
      extended.push_back(leaves_[0]);
      EXPECT_FALSE(VerifyInclusion(i, n, leaves_[i], extended, root).ok()) << "extended";
      for (uint64_t wrong : {n - 1, n + 1, n / 2, n * 2}) {
        if (wrong == n || i >= wrong) continue;
        EXPECT_FALSE(
            VerifyInclusion(i, wrong, leaves_[i], proof, NaiveRoot(leaves_, 0, wrong)).ok())
            << "size " << wrong;
      }
      EXPECT_FALSE(VerifyInclusion(i + n, n, leaves_[i], proof, root).ok()) << "index past size";
    }
  }
}

// The verifier cannot tell sizes apart whose paths hash in the same order: leaf 0 of 5 and of 6
// both hash as ((l0·h1)·h23)·x. That is why a root is only trusted together with the size it was
// signed with (the signed tree head).
TEST_F(MerkleProofTest, SizeIsOnlyBoundThroughTheRoot) {
  const Leaves proof = *InclusionProof(0, 5, store_);
  const Hash root5 = NaiveRoot(leaves_, 0, 5);
  EXPECT_TRUE(VerifyInclusion(0, 6, leaves_[0], proof, root5).ok());
  EXPECT_FALSE(VerifyInclusion(0, 6, leaves_[0], proof, NaiveRoot(leaves_, 0, 6)).ok());
  EXPECT_FALSE(VerifyInclusion(0, 4, leaves_[0], proof, root5).ok());
}

TEST_F(MerkleProofTest, ConsistencyVerifierCatchesTampering) {
  for (uint64_t n = 2; n <= kMaxSize; ++n) {
    for (uint64_t m = 1; m < n; ++m) {
      SCOPED_TRACE(std::to_string(m) + " to " + std::to_string(n));
      const Leaves proof = *ConsistencyProof(m, n, store_);
      const Hash root1 = NaiveRoot(leaves_, 0, m);
      const Hash root2 = NaiveRoot(leaves_, 0, n);
      Hash changed_root = root1;
      FlipBit(changed_root);
      EXPECT_FALSE(VerifyConsistency(m, n, changed_root, root2, proof).ok()) << "changed root1";
      changed_root = root2;
      FlipBit(changed_root);
      EXPECT_FALSE(VerifyConsistency(m, n, root1, changed_root, proof).ok()) << "changed root2";
      EXPECT_FALSE(VerifyConsistency(m, n, root2, root1, proof).ok()) << "swapped roots";
      for (size_t j = 0; j < proof.size(); ++j) {
        Leaves changed = proof;
        FlipBit(changed[j]);
        EXPECT_FALSE(VerifyConsistency(m, n, root1, root2, changed).ok()) << "changed " << j;
        if (j + 1 < proof.size()) {
          Leaves swapped = proof;
          std::swap(swapped[j], swapped[j + 1]);
          EXPECT_FALSE(VerifyConsistency(m, n, root1, root2, swapped).ok()) << "swapped " << j;
        }
      }
      const Leaves truncated(proof.begin(), proof.end() - 1);
      EXPECT_FALSE(VerifyConsistency(m, n, root1, root2, truncated).ok()) << "truncated";
      Leaves extended = proof;
      extended.push_back(leaves_[0]);
      EXPECT_FALSE(VerifyConsistency(m, n, root1, root2, extended).ok()) << "extended";
      for (uint64_t wrong : {m - 1, m + 1}) {
        if (wrong == 0 || wrong >= n) continue;
        EXPECT_FALSE(VerifyConsistency(wrong, n, NaiveRoot(leaves_, 0, wrong), root2, proof).ok())
            << "size1 " << wrong;
      }
      for (uint64_t wrong : {n - 1, n + 1}) {
        if (wrong <= m) continue;
        EXPECT_FALSE(VerifyConsistency(m, wrong, root1, NaiveRoot(leaves_, 0, wrong), proof).ok())
            << "size2 " << wrong;
      }
    }
  }
}

TEST(VerifyConsistencyTest, EqualSizes) {
  const Hash root = LeafHash("a");
  EXPECT_TRUE(VerifyConsistency(1, 1, root, root, {}).ok());
  EXPECT_TRUE(VerifyConsistency(7, 7, root, root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(1, 1, root, LeafHash("b"), {}).ok());
  EXPECT_FALSE(VerifyConsistency(1, 1, root, root, {root}).ok());
  const Status from_empty = VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {});
  EXPECT_EQ(from_empty.code(), Code::kCorruption);
  EXPECT_NE(from_empty.message().find("empty tree"), std::string::npos) << from_empty.message();
}

TEST(MerkleArgumentsTest, ImpossibleRequestsAreErrors) {
  MemoryNodeStore store;
  for (int i = 0; i < 10; ++i) store.Append(std::to_string(i));
  EXPECT_EQ(InclusionProof(10, 10, store).status().code(), Code::kNotFound);
  EXPECT_EQ(ConsistencyProof(0, 10, store).status().code(), Code::kNotFound);
  EXPECT_EQ(ConsistencyProof(6, 5, store).status().code(), Code::kNotFound);
  EXPECT_TRUE(ConsistencyProof(10, 10, store)->empty());
  EXPECT_EQ(SubtreeRoot(1, 4, store).status().code(), Code::kInternal);  // not an RFC subtree
  EXPECT_EQ(SubtreeRoot(4, 2, store).status().code(), Code::kInternal);
  EXPECT_EQ(*SubtreeRoot(3, 3, store), EmptyRoot());
  EXPECT_EQ(RootAt(11, store).status().code(), Code::kNotFound);  // from the store
  EXPECT_EQ(store.Get(0, 10).status().code(), Code::kNotFound);
  EXPECT_EQ(RootFromInclusionProof(3, 3, LeafHash("x"), {}).status().code(), Code::kCorruption);
}

// Returns a made-up hash for any node complete in a tree of `size` leaves; counts reads.
class SyntheticReader : public NodeReader {
 public:
  explicit SyntheticReader(uint64_t size) : size_(size) {}
  Result<Hash> Get(uint32_t level, uint64_t index) const override {
    ++reads_;
    EXPECT_TRUE(level < 64 && index < (size_ >> level)) << level << ", " << index;
    return LeafHash(std::to_string(level) + "/" + std::to_string(index));
  }
  int ReadCount() const { return reads_; }

 private:
  uint64_t size_;
  mutable int reads_ = 0;
};

TEST(MerkleReadsTest, ProofsOfHugeTreesTakeLogarithmicReads) {
  constexpr uint64_t kMax = ~uint64_t{0};
  const std::vector<uint64_t> sizes = {kMax,
                                       kMax - 1,
                                       uint64_t{1} << 63,
                                       (uint64_t{1} << 63) + 1,
                                       0xAAAAAAAAAAAAAAAA,
                                       0x5555555555555555,
                                       1'000'000'007};
  for (uint64_t size : sizes) {
    for (uint64_t index : {uint64_t{0}, size / 3, size - 1}) {
      SyntheticReader reader(size);
      Result<Leaves> proof = InclusionProof(index, size, reader);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_LE(reader.ReadCount(), 128) << index << " of " << size;
      EXPECT_TRUE(RootFromInclusionProof(index, size, LeafHash(""), *proof).ok());
    }
    for (uint64_t size1 : {uint64_t{1}, size / 3, size - 1}) {
      SyntheticReader reader(size);
      Result<Leaves> proof = ConsistencyProof(size1, size, reader);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_LE(reader.ReadCount(), 130) << size1 << " to " << size;
    }
    SyntheticReader reader(size);
    EXPECT_TRUE(RootAt(size, reader).ok());
    EXPECT_EQ(reader.ReadCount(), std::popcount(size));
  }
}

// ---- CompactRange ----

TEST(CompactRangeTest, ReportsEveryCompletedNodeWithItsHash) {
  Leaves leaves;
  CompactRange range;
  std::vector<NodeAddress> seen;
  for (uint64_t n = 1; n <= 100; ++n) {
    leaves.push_back(LeafHash(std::to_string(n)));
    CompactRange::NewNodes new_nodes;
    range.Append(leaves.back(), &new_nodes);
    ASSERT_FALSE(new_nodes.empty());
    EXPECT_EQ(new_nodes[0].first, (NodeAddress{0, n - 1}));
    for (const auto& [address, hash] : new_nodes) {
      const uint64_t begin = address.index << address.level;
      const uint64_t end = (address.index + 1) << address.level;
      EXPECT_EQ(end, n) << "a node completed by leaf " << n - 1 << " ends there";
      EXPECT_EQ(hash, NaiveRoot(leaves, begin, end));
      seen.push_back(address);
    }
    EXPECT_EQ(range.size(), n);
    EXPECT_EQ(range.Root(), NaiveRoot(leaves, 0, n));
  }
  // Every perfect subtree of 100 leaves exactly once: 100 + 50 + 25 + 12 + 6 + 3 + 1.
  EXPECT_EQ(seen.size(), 197u);
  range.Append(LeafHash("null"), nullptr);
  EXPECT_EQ(range.size(), 101u);
}

TEST(CompactRangeTest, RestartFromReaderContinuesToTheSameRoots) {
  constexpr uint64_t kTotal = 300;
  MemoryNodeStore full;
  for (uint64_t i = 0; i < kTotal; ++i) full.Append("entry " + std::to_string(i));
  for (uint64_t n = 0; n <= 70; ++n) {
    MemoryNodeStore store;
    for (uint64_t i = 0; i < n; ++i) store.Append("entry " + std::to_string(i));
    BoundedReader reader(store, n);
    Result<CompactRange> restored = CompactRange::FromReader(n, reader);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_EQ(reader.ReadCount(), std::popcount(n));
    EXPECT_EQ(restored->size(), n);
    EXPECT_EQ(restored->Root(), store.Root());
    for (uint64_t i = n; i < kTotal; ++i) {
      CompactRange::NewNodes new_nodes;
      restored->Append(LeafHash("entry " + std::to_string(i)), &new_nodes);
      for (const auto& [address, hash] : new_nodes) {
        EXPECT_EQ(hash, *full.Get(address.level, address.index)) << n << " at " << i;
      }
      ASSERT_EQ(restored->Root(), *RootAt(i + 1, full))
          << "restarted at " << n << ", size " << i + 1;
    }
  }
}

TEST(CompactRangeTest, FromReaderReportsAMissingNode) {
  MemoryNodeStore store;
  for (int i = 0; i < 5; ++i) store.Append(std::to_string(i));
  EXPECT_EQ(CompactRange::FromReader(8, store).status().code(), Code::kNotFound);
}

TEST(MerkleHashTest, DomainSeparationAndHex) {
  EXPECT_EQ(HashToHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashToHex(LeafHash("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
  std::string concatenated(a.begin(), a.end());
  concatenated.append(b.begin(), b.end());
  EXPECT_NE(NodeHash(a, b), LeafHash(concatenated));
}

}  // namespace
}  // namespace stafett::core
