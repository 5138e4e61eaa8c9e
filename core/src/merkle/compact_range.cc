// CompactRange: appending to the right edge of an RFC 6962 tree and computing its root.
// Thread-safety: a value; const methods may run concurrently, Append needs exclusive access.
#include <bit>

#include "stafett/core/merkle.h"

namespace stafett::core {

Result<CompactRange> CompactRange::FromReader(uint64_t size, const NodeReader& reader) {
  CompactRange range;
  uint64_t begin = 0;
  // One perfect subtree per set bit of size, from the highest level down.
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    Result<Hash> node = reader.Get(static_cast<uint32_t>(level), begin >> level);
    if (!node.ok()) return node.status();
    range.frontier_.push_back(*node);
    begin += width;
  }
  range.size_ = size;
  return range;
}

void CompactRange::Append(const Hash& leaf_hash, NewNodes* new_nodes) {
  const uint64_t new_size = size_ + 1;
  Hash node = leaf_hash;
  uint32_t level = 0;
  if (new_nodes != nullptr) new_nodes->push_back({NodeAddress{0, size_}, node});
  // Each trailing 1 bit of the old size is a frontier subtree that this leaf now completes into
  // one twice as large, exactly like a binary carry.
  for (uint64_t carry = size_; (carry & 1) != 0; carry >>= 1) {
    node = NodeHash(frontier_.back(), node);
    frontier_.pop_back();
    ++level;
    if (new_nodes != nullptr) {
      new_nodes->push_back({NodeAddress{level, (new_size >> level) - 1}, node});
    }
  }
  frontier_.push_back(node);
  size_ = new_size;
}

Hash CompactRange::Root() const {
  if (frontier_.empty()) return EmptyRoot();
  // RFC 6962 splits at the largest power of two below the size, so the root folds the frontier
  // from the right: H(f0, H(f1, ... H(f[k-2], f[k-1]))).
  Hash root = frontier_.back();
  for (auto it = frontier_.rbegin() + 1; it != frontier_.rend(); ++it) root = NodeHash(*it, root);
  return root;
}

}  // namespace stafett::core
