// SubtreeRoot and RootAt: RFC 6962 hashes of leaf ranges, composed from stored perfect subtrees.
// Thread-safety: pure functions; as thread-safe as the NodeReader they are given.
#include <bit>
#include <vector>

#include "stafett/core/merkle.h"

namespace stafett::core {

Result<Hash> SubtreeRoot(uint64_t begin, uint64_t end, const NodeReader& reader) {
  if (begin > end) {
    return Result<Hash>(Code::kInternal, "merkle range [" + std::to_string(begin) + ", " +
                                             std::to_string(end) + ") is reversed");
  }
  if (begin == end) return EmptyRoot();
  // Split the range the way RFC 6962 does (at the largest power of two below its length) until
  // every piece is a stored perfect subtree; there are at most 64 pieces, left to right.
  std::vector<Hash> pieces;
  uint64_t position = begin;
  uint64_t remaining = end - begin;
  while (remaining > 0) {
    uint64_t width = remaining;
    if (!std::has_single_bit(remaining) || position % remaining != 0) {
      width = std::bit_floor(remaining - 1);
      if (position % width != 0) {
        return Result<Hash>(Code::kInternal, "merkle range [" + std::to_string(begin) + ", " +
                                                 std::to_string(end) +
                                                 ") is not a subtree of an RFC 6962 tree");
      }
    }
    const int level = std::countr_zero(width);
    Result<Hash> node = reader.Get(static_cast<uint32_t>(level), position >> level);
    if (!node.ok()) return node.status();
    pieces.push_back(*node);
    position += width;
    remaining -= width;
  }
  Hash root = pieces.back();
  for (auto it = pieces.rbegin() + 1; it != pieces.rend(); ++it) root = NodeHash(*it, root);
  return root;
}

Result<Hash> RootAt(uint64_t size, const NodeReader& reader) {
  return SubtreeRoot(0, size, reader);
}

}  // namespace stafett::core
