// MemoryNodeStore: an in-memory NodeReader holding every perfect subtree, for tests.
// Thread-safety: const methods may run concurrently; Append needs exclusive access.
#include "stafett/core/merkle.h"

namespace stafett::core {

Hash MemoryNodeStore::Append(std::string_view leaf_input) {
  const Hash leaf_hash = LeafHash(leaf_input);
  AppendLeafHash(leaf_hash);
  return leaf_hash;
}

void MemoryNodeStore::AppendLeafHash(const Hash& leaf_hash) {
  CompactRange::NewNodes new_nodes;
  range_.Append(leaf_hash, &new_nodes);
  // Nodes of one level complete left to right, so each new node is the next of its level.
  for (const auto& [address, hash] : new_nodes) {
    if (levels_.size() <= address.level) levels_.resize(address.level + 1);
    levels_[address.level].push_back(hash);
  }
}

Result<Hash> MemoryNodeStore::Get(uint32_t level, uint64_t index) const {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return Result<Hash>(Code::kNotFound, "no merkle node at level " + std::to_string(level) +
                                             " index " + std::to_string(index));
  }
  return levels_[level][index];
}

}  // namespace stafett::core
