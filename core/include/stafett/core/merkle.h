// Merkle maths of the audit log: RFC 6962 / RFC 9162 tree hashes, the compact range (frontier) of
// a growing tree, proof generation over stored perfect subtrees, and the offline proof verifiers.
// Thread-safety: free functions are pure; CompactRange and MemoryNodeStore are values (const use
// from many threads is safe, mutation needs external synchronisation). See docs/MERKLE.md.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::core {

// A SHA-256 tree hash.
using Hash = std::array<uint8_t, 32>;

// SHA-256(0x00 || leaf_input): the hash of one log entry (RFC 9162 §2.1.1).
Hash LeafHash(std::string_view leaf_input);
// SHA-256(0x01 || left || right): the hash of an interior node.
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256(""): the root of the empty tree.
Hash EmptyRoot();

// A hash from untrusted bytes (wire, JSON, disk); kCorruption unless exactly 32 bytes.
Result<Hash> HashFromBytes(std::span<const uint8_t> bytes);
// Lower-case hex, for logs and error messages.
std::string HashToHex(const Hash& hash);

// A perfect subtree of the log: the 2^level leaves [index << level, (index + 1) << level).
// Level 0 addresses the leaf hashes themselves. This is the storage key of a node.
struct NodeAddress {
  uint32_t level = 0;
  uint64_t index = 0;

  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

// Read access to stored perfect-subtree hashes. Get returns the hash of the subtree at
// (level, index); it is only asked for subtrees that are complete in the tree being read.
// Implementations report a missing node as kNotFound and a damaged one as kCorruption.
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  virtual Result<Hash> Get(uint32_t level, uint64_t index) const = 0;
};

// The right edge of a growing tree (a.k.a. Merkle frontier): the roots of the perfect subtrees
// that the leaves [0, size) decompose into, one per set bit of size, largest (leftmost) first.
// It is enough to append leaves and to compute the root without touching storage.
class CompactRange {
 public:
  using NewNodes = std::vector<std::pair<NodeAddress, Hash>>;

  CompactRange() = default;  // the empty tree

  // Rebuilds the frontier of a tree of `size` leaves from stored nodes (popcount(size) reads),
  // e.g. after a restart.
  static Result<CompactRange> FromReader(uint64_t size, const NodeReader& reader);

  // Appends one leaf hash. Appends to `new_nodes` (if not null) every perfect subtree completed
  // by this leaf, lowest level first, starting with (0, old size) for the leaf itself, so the
  // caller can store them in the same write batch as the leaf. Requires size() < UINT64_MAX.
  void Append(const Hash& leaf_hash, NewNodes* new_nodes);

  // The RFC 6962 root of the leaves appended so far (EmptyRoot() for size 0).
  Hash Root() const;
  uint64_t size() const { return size_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash> frontier_;  // one hash per set bit of size_, highest level first
};

// The RFC 6962 hash MTH(D[begin:end]) of the leaves [begin, end), composed from perfect subtrees
// with at most 64 reads. Supported are the ranges that occur in the RFC 6962 recursion, i.e.
// those where `begin` is a multiple of the largest power of two below end - begin; any other
// range is kInternal (a caller bug). begin == end yields EmptyRoot().
Result<Hash> SubtreeRoot(uint64_t begin, uint64_t end, const NodeReader& reader);

// The root of the tree of the first `size` leaves (EmptyRoot() for size 0).
Result<Hash> RootAt(uint64_t size, const NodeReader& reader);

// The inclusion proof (RFC 9162 §2.1.3.1, leaf-to-root order) of leaf `index` in the tree of
// `size` leaves; at most ~2·64 reads. kNotFound if index >= size. The caller checks that
// `size` does not exceed the stored tree.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& reader);

// The consistency proof (RFC 9162 §2.1.4.1) from the tree of size1 leaves to that of size2
// leaves; empty when size1 == size2; at most ~2·64 reads. kNotFound if size1 == 0 or
// size1 > size2 (no such proof exists).
Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2,
                                           const NodeReader& reader);

// The root that an inclusion proof implies for leaf `index` of a tree of `size` leaves
// (RFC 9162 §2.1.3.2 steps 1-4); kCorruption if the index or proof length is impossible.
Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    const std::vector<Hash>& proof);

// RFC 9162 §2.1.3.2: Ok iff `proof` proves `leaf_hash` at `index` in the tree of `size` leaves
// with root `root`; otherwise kCorruption saying what failed.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root);

// RFC 9162 §2.1.4.2: Ok iff `proof` proves that the tree (size2, root2) extends (size1, root1);
// otherwise kCorruption saying what failed. size1 == 0 is rejected (nothing to prove); size1 ==
// size2 requires an empty proof and equal roots.
Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                         const std::vector<Hash>& proof);

// An in-memory tree: one vector of hashes per level. For tests and the store conformance suite.
class MemoryNodeStore : public NodeReader {
 public:
  // Appends SHA-256(0x00 || leaf_input) and stores every completed node; returns the leaf hash.
  Hash Append(std::string_view leaf_input);
  // Appends an already hashed leaf.
  void AppendLeafHash(const Hash& leaf_hash);

  Result<Hash> Get(uint32_t level, uint64_t index) const override;
  uint64_t size() const { return range_.size(); }
  Hash Root() const { return range_.Root(); }

 private:
  CompactRange range_;
  std::vector<std::vector<Hash>> levels_;  // levels_[l][i] is the node (l, i)
};

}  // namespace stafett::core
