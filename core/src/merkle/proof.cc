// Proof generation: RFC 9162 §2.1.3.1 inclusion and §2.1.4.1 consistency proofs over stored nodes.
// Thread-safety: pure functions; as thread-safe as the NodeReader they are given.
//
// Both walk the RFC recursion from the root down, iteratively. Every proof hash is the root of a
// sibling range; all but at most one of them are perfect subtrees (one read each), and the one on
// the right edge costs at most 64 reads, so a proof costs O(log n) reads.
#include <algorithm>
#include <bit>

#include "stafett/core/merkle.h"

namespace stafett::core {

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& reader) {
  if (index >= size) {
    return Result<std::vector<Hash>>(Code::kNotFound,
                                     "no inclusion proof: leaf " + std::to_string(index) +
                                         " is not in a tree of size " + std::to_string(size));
  }
  std::vector<Hash> proof;
  uint64_t begin = 0;  // D[begin:end] is the subtree that holds the leaf
  uint64_t end = size;
  while (end - begin > 1) {
    const uint64_t split = begin + std::bit_floor(end - begin - 1);
    const bool leaf_on_left = index < split;
    Result<Hash> sibling =
        leaf_on_left ? SubtreeRoot(split, end, reader) : SubtreeRoot(begin, split, reader);
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
    if (leaf_on_left) {
      end = split;
    } else {
      begin = split;
    }
  }
  std::reverse(proof.begin(), proof.end());  // RFC order is leaf to root
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2,
                                           const NodeReader& reader) {
  if (size1 == 0 || size1 > size2) {
    return Result<std::vector<Hash>>(Code::kNotFound, "no consistency proof from size " +
                                                          std::to_string(size1) + " to size " +
                                                          std::to_string(size2));
  }
  std::vector<Hash> proof;
  uint64_t begin = 0;  // SUBPROOF(size1 - begin, D[begin:end], whole_first_tree)
  uint64_t end = size2;
  bool whole_first_tree = true;  // the RFC's b: is D[begin:size1] still the entire old tree?
  while (size1 != end) {
    const uint64_t split = begin + std::bit_floor(end - begin - 1);
    const bool old_end_on_left = size1 <= split;
    Result<Hash> sibling =
        old_end_on_left ? SubtreeRoot(split, end, reader) : SubtreeRoot(begin, split, reader);
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
    if (old_end_on_left) {
      end = split;
    } else {
      begin = split;
      whole_first_tree = false;
    }
  }
  if (!whole_first_tree) {
    Result<Hash> old_subtree = SubtreeRoot(begin, end, reader);
    if (!old_subtree.ok()) return old_subtree.status();
    proof.push_back(*old_subtree);
  }
  std::reverse(proof.begin(), proof.end());  // RFC order is deepest first
  return proof;
}

}  // namespace stafett::core
