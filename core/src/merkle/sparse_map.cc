// The trail map: a compact sparse Merkle tree over 256-bit keys in a MapNodeStore.
#include "stafett/core/sparse_map.h"

#include <sodium.h>

#include <algorithm>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

constexpr uint32_t kKeyBits = 256;

bool Bit(const Hash& key, uint32_t index) { return ((key[index / 8] >> (7 - index % 8)) & 1) != 0; }

// The first DEPTH bits of KEY, zero-padded to 32 bytes.
Hash Prefix(uint32_t depth, const Hash& key) {
  Hash out{};
  for (uint32_t byte = 0; byte * 8 < depth && byte < key.size(); ++byte) {
    uint32_t bits = std::min<uint32_t>(8, depth - byte * 8);
    auto mask = static_cast<uint8_t>(0xff << (8 - bits));
    out[byte] = static_cast<uint8_t>(key[byte] & mask);
  }
  return out;
}

// be16(depth) || Prefix(depth, key).
std::string NodeKey(uint32_t depth, const Hash& key) {
  Hash prefix = Prefix(depth, key);
  std::string out(2, '\0');
  out[0] = static_cast<char>((depth >> 8) & 0xff);
  out[1] = static_cast<char>(depth & 0xff);
  out.append(reinterpret_cast<const char*>(prefix.data()), prefix.size());
  return out;
}

Hash Flip(Hash key, uint32_t index) {
  key[index / 8] ^= static_cast<uint8_t>(1 << (7 - index % 8));
  return key;
}

std::string EncodeSeq(uint64_t seq) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return out;
}

uint64_t DecodeSeq(std::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}

std::string LeafValue(const Hash& key, uint64_t seq) {
  std::string out = "L";
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  return out + EncodeSeq(seq);
}

std::string InteriorValue(const Hash& hash) {
  std::string out = "N";
  out.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  return out;
}

struct Node {
  bool leaf = false;
  Hash hash{};  // interior: the stored hash; leaf: the key
  uint64_t seq = 0;
};

Result<Node> ParseNode(const std::string& value) {
  Node node;
  if (value.size() == 33 && value[0] == 'N') {
    std::copy(value.begin() + 1, value.end(), node.hash.begin());
    return node;
  }
  if (value.size() == 41 && value[0] == 'L') {
    node.leaf = true;
    std::copy(value.begin() + 1, value.begin() + 33, node.hash.begin());
    node.seq = DecodeSeq(std::string_view(value).substr(33));
    return node;
  }
  return Status(Code::kCorruption, "trail map: malformed node");
}

Result<std::optional<Node>> ReadNode(const MapNodeStore& store, uint32_t depth, const Hash& key) {
  Result<std::optional<std::string>> stored = store.GetNode(NodeKey(depth, key));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<Node>();
  Result<Node> node = ParseNode(**stored);
  if (!node.ok()) {
    return Status(Code::kCorruption,
                  node.status().message() + " at depth " + std::to_string(depth));
  }
  return std::optional<Node>(*node);
}

Hash NodeHashOf(const std::optional<Node>& node) {
  if (!node) return EmptyMapHash();
  return node->leaf ? MapLeafHash(node->hash, node->seq) : node->hash;
}

std::optional<Hash> HashFromHex(const std::string& hex) {
  std::optional<std::string> bytes = FromHex(hex);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  Hash hash;
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

}  // namespace

Hash TrailMapKey(char kind, std::string_view id) {
  std::string input = "stafett-trail-key-v1\n";
  input.push_back(kind);
  input.push_back('\n');
  input.append(id);
  Hash out;
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size());
  return out;
}

Hash MapLeafHash(const Hash& key, uint64_t seq) {
  std::string input(reinterpret_cast<const char*>(key.data()), key.size());
  return LeafHash(input + EncodeSeq(seq));
}

Hash EmptyMapHash() { return Hash{}; }

Result<Hash> SparseMap::HashAt(uint32_t depth, const Hash& key) const {
  Result<std::optional<Node>> node = ReadNode(store_, depth, key);
  if (!node.ok()) return node.status();
  return NodeHashOf(*node);
}

Result<Hash> SparseMap::Root() const { return HashAt(0, Hash{}); }

Result<std::optional<uint64_t>> SparseMap::Get(const Hash& key) const {
  Result<MapProof> proof = Prove(key);
  if (!proof.ok()) return proof.status();
  return proof->value;
}

Result<std::optional<uint64_t>> SparseMap::Set(const Hash& key, uint64_t seq) {
  StaleNodes stale;
  Result<std::optional<uint64_t>> previous = SetDeferred(key, seq, &stale);
  if (!previous.ok()) return previous;
  STAFETT_RETURN_IF_ERROR(Rehash(&stale));
  return previous;
}

Result<std::optional<uint64_t>> SparseMap::SetDeferred(const Hash& key, uint64_t seq,
                                                       StaleNodes* stale) {
  std::optional<uint64_t> previous;
  uint32_t depth = 0;  // the interior nodes on KEY's path are at depths [0, depth)
  for (;;) {
    Result<std::optional<Node>> node = ReadNode(store_, depth, key);
    if (!node.ok()) return node.status();
    if (!node->has_value()) {
      store_.PutNode(NodeKey(depth, key), LeafValue(key, seq));
      break;
    }
    if (!(*node)->leaf) {
      if (depth >= kKeyBits) return Status(Code::kCorruption, "trail map: path too deep");
      ++depth;
      continue;
    }
    const Node other = **node;
    if (other.hash == key) {
      previous = other.seq;
      store_.PutNode(NodeKey(depth, key), LeafValue(key, seq));
      break;
    }
    // Another key's leaf: both move down to where their bits first differ, below new interior
    // nodes (their hashes stale until Rehash) from the old leaf's place to the split.
    uint32_t split = depth;
    while (split < kKeyBits && Bit(key, split) == Bit(other.hash, split)) ++split;
    if (split >= kKeyBits) return Status(Code::kInternal, "trail map: equal keys");
    for (uint32_t level = depth; level <= split; ++level) {
      store_.PutNode(NodeKey(level, key), InteriorValue(EmptyMapHash()));
    }
    store_.PutNode(NodeKey(split + 1, other.hash), LeafValue(other.hash, other.seq));
    store_.PutNode(NodeKey(split + 1, key), LeafValue(key, seq));
    depth = split + 1;
    break;
  }
  for (uint32_t level = 0; level < depth; ++level) stale->emplace(level, Prefix(level, key));
  return previous;
}

Status SparseMap::Rehash(StaleNodes* stale) {
  // Deepest first: a node's children are up to date when it is hashed.
  for (const auto& [level, prefix] : *stale) {
    Result<Hash> left = HashAt(level + 1, prefix);
    if (!left.ok()) return left.status();
    Result<Hash> right = HashAt(level + 1, Flip(prefix, level));
    if (!right.ok()) return right.status();
    store_.PutNode(NodeKey(level, prefix), InteriorValue(NodeHash(*left, *right)));
  }
  stale->clear();
  return Status::Ok();
}

Result<MapProof> SparseMap::Prove(const Hash& key) const {
  MapProof proof;
  proof.key = key;
  for (uint32_t depth = 0;; ++depth) {
    Result<std::optional<Node>> node = ReadNode(store_, depth, key);
    if (!node.ok()) return node.status();
    if (!node->has_value()) return proof;
    if ((*node)->leaf) {
      if ((*node)->hash == key) {
        proof.value = (*node)->seq;
      } else {
        proof.other_key = (*node)->hash;
        proof.other_seq = (*node)->seq;
      }
      return proof;
    }
    if (depth >= kKeyBits) return Status(Code::kCorruption, "trail map: path too deep");
    Result<Hash> sibling = HashAt(depth + 1, Flip(key, depth));
    if (!sibling.ok()) return sibling.status();
    proof.siblings.push_back(*sibling);
  }
}

Status VerifyMapProof(const MapProof& proof, const Hash& root) {
  size_t depth = proof.siblings.size();
  if (depth > kKeyBits) return Status(Code::kCorruption, "trail map proof: too many siblings");
  Hash hash = EmptyMapHash();
  if (proof.value && proof.other_key) {
    return Status(Code::kCorruption, "trail map proof: both a value and another key");
  }
  if (proof.value) hash = MapLeafHash(proof.key, *proof.value);
  if (proof.other_key) {
    if (*proof.other_key == proof.key) {
      return Status(Code::kCorruption, "trail map proof: the other key is the key itself");
    }
    for (uint32_t i = 0; i < depth; ++i) {
      if (Bit(*proof.other_key, i) != Bit(proof.key, i)) {
        return Status(Code::kCorruption, "trail map proof: the other key is off the key's path");
      }
    }
    hash = MapLeafHash(*proof.other_key, proof.other_seq);
  }
  for (size_t i = depth; i-- > 0;) {
    const Hash& sibling = proof.siblings[i];
    hash = Bit(proof.key, static_cast<uint32_t>(i)) ? NodeHash(sibling, hash)
                                                    : NodeHash(hash, sibling);
  }
  if (hash != root) {
    return Status(Code::kCorruption, "trail map proof: the computed root differs from the head's");
  }
  return Status::Ok();
}

nlohmann::json MapProof::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const Hash& sibling : siblings) list.push_back(HashToHex(sibling));
  nlohmann::json json = {{"key", HashToHex(key)},
                         {"value", value ? nlohmann::json(*value) : nlohmann::json(nullptr)},
                         {"siblings", list}};
  if (other_key) json["other"] = {{"key", HashToHex(*other_key)}, {"seq", other_seq}};
  return json;
}

Result<MapProof> MapProof::FromJson(const nlohmann::json& json) {
  Status malformed(Code::kCorruption, "trail map proof: malformed");
  if (!json.is_object() || !json.contains("key") || !json["key"].is_string() ||
      !json.contains("siblings") || !json["siblings"].is_array()) {
    return malformed;
  }
  MapProof proof;
  std::optional<Hash> key = HashFromHex(json["key"].get<std::string>());
  if (!key) return malformed;
  proof.key = *key;
  if (json.contains("value") && !json["value"].is_null()) {
    if (!json["value"].is_number_unsigned()) return malformed;
    proof.value = json["value"].get<uint64_t>();
  }
  for (const nlohmann::json& item : json["siblings"]) {
    std::optional<Hash> sibling =
        item.is_string() ? HashFromHex(item.get<std::string>()) : std::nullopt;
    if (!sibling) return malformed;
    proof.siblings.push_back(*sibling);
  }
  if (json.contains("other")) {
    const nlohmann::json& other = json["other"];
    if (!other.is_object() || !other.contains("key") || !other["key"].is_string() ||
        !other.contains("seq") || !other["seq"].is_number_unsigned()) {
      return malformed;
    }
    proof.other_key = HashFromHex(other["key"].get<std::string>());
    if (!proof.other_key) return malformed;
    proof.other_seq = other["seq"].get<uint64_t>();
  }
  return proof;
}

Result<std::optional<std::string>> MemoryMapNodeStore::GetNode(const std::string& node_key) const {
  auto found = nodes_.find(node_key);
  if (found == nodes_.end()) return std::optional<std::string>();
  return std::optional<std::string>(found->second);
}

void MemoryMapNodeStore::PutNode(const std::string& node_key, const std::string& value) {
  nodes_[node_key] = value;
}

}  // namespace stafett::core
