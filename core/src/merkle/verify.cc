// Proof verification (what auditors run offline): RFC 9162 §2.1.3.2 and §2.1.4.2, step by step.
// Thread-safety: pure functions.
#include <bit>

#include "stafett/core/merkle.h"

namespace stafett::core {
namespace {

Status Corruption(std::string message) { return Status(Code::kCorruption, std::move(message)); }

// Shifts the RFC's fn and sn right together until fn is odd or zero.
void ShiftWhileEven(uint64_t& fn, uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    const std::vector<Hash>& proof) {
  if (index >= size) {
    return Corruption("inclusion proof for leaf " + std::to_string(index) +
                      " outside a tree of size " + std::to_string(size));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash root = leaf_hash;
  for (const Hash& sibling : proof) {
    if (sn == 0) {
      return Corruption("inclusion proof has too many hashes (" + std::to_string(proof.size()) +
                        ") for leaf " + std::to_string(index) + " of " + std::to_string(size));
    }
    if ((fn & 1) != 0 || fn == sn) {
      root = NodeHash(sibling, root);
      ShiftWhileEven(fn, sn);
    } else {
      root = NodeHash(root, sibling);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Corruption("inclusion proof has too few hashes (" + std::to_string(proof.size()) +
                      ") for leaf " + std::to_string(index) + " of " + std::to_string(size));
  }
  return root;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root) {
  Result<Hash> computed = RootFromInclusionProof(index, size, leaf_hash, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return Corruption("inclusion proof for leaf " + std::to_string(index) + " of " +
                      std::to_string(size) + " leads to root " + HashToHex(*computed) + ", want " +
                      HashToHex(root));
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                         const std::vector<Hash>& proof) {
  const std::string sizes = std::to_string(size1) + " to " + std::to_string(size2);
  if (size1 == 0) return Corruption("consistency proof from the empty tree proves nothing");
  if (size1 > size2) return Corruption("consistency proof from a larger tree: " + sizes);
  if (size1 == size2) {
    if (!proof.empty()) return Corruption("consistency proof between equal sizes is not empty");
    if (root1 != root2) return Corruption("equal tree sizes " + sizes + " with different roots");
    return Status::Ok();
  }
  if (proof.empty()) return Corruption("consistency proof " + sizes + " is empty");
  // Step 2: an old tree of a power-of-two size is itself a node of the new one, so its root is
  // the proof's implicit first hash.
  const bool root1_is_node = std::has_single_bit(size1);
  auto next = proof.begin();
  const Hash seed = root1_is_node ? root1 : *next++;
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash first = seed;
  Hash second = seed;
  for (; next != proof.end(); ++next) {
    if (sn == 0) return Corruption("consistency proof " + sizes + " has too many hashes");
    if ((fn & 1) != 0 || fn == sn) {
      first = NodeHash(*next, first);
      second = NodeHash(*next, second);
      ShiftWhileEven(fn, sn);
    } else {
      second = NodeHash(second, *next);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Corruption("consistency proof " + sizes + " has too few hashes");
  if (first != root1) {
    return Corruption("consistency proof " + sizes + " leads to first root " + HashToHex(first) +
                      ", want " + HashToHex(root1));
  }
  if (second != root2) {
    return Corruption("consistency proof " + sizes + " leads to second root " + HashToHex(second) +
                      ", want " + HashToHex(root2));
  }
  return Status::Ok();
}

}  // namespace stafett::core
