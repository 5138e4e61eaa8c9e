// The trail map: a sparse Merkle map from a trail's key (a child's pseudonym or an endpoint id,
// hashed) to the seq of that trail's latest audit record. The broker puts its root into every
// signed tree head, so a head commits to where each trail ends (docs/MERKLE.md, "The trail
// map"). A compact sparse Merkle tree over 256-bit keys: a subtree with no key hashes to 32 zero
// bytes, a subtree with one key to that key's leaf hash, any other to NodeHash(left, right).
// Keys are only ever set, never removed.
// Thread-safety: SparseMap is as thread-safe as its MapNodeStore; the free functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/merkle.h"
#include "stafett/core/status.h"

namespace stafett::core {

// SHA-256("stafett-trail-key-v1\n" || kind || "\n" || id); kind 's' (subject) or 'e' (endpoint).
Hash TrailMapKey(char kind, std::string_view id);
// The leaf of KEY holding SEQ: LeafHash(key || be64(seq)) = SHA-256(0x00 || key || be64(seq)).
Hash MapLeafHash(const Hash& key, uint64_t seq);
// The root of the empty map (and the hash of any empty subtree): 32 zero bytes.
Hash EmptyMapHash();

// Node storage. A node key is be16(depth) || the key's first `depth` bits (32 bytes, the rest
// zero); a value is 'N' || 32-byte hash (two keys or more below) or 'L' || key || be64(seq) (one
// key). Empty subtrees are not stored. Get must see earlier Puts (read your writes).
class MapNodeStore {
 public:
  virtual ~MapNodeStore() = default;
  virtual Result<std::optional<std::string>> GetNode(const std::string& node_key) const = 0;
  virtual void PutNode(const std::string& node_key, const std::string& value) = 0;
};

// The proof of what the map holds for KEY: the sibling hashes from the root down (siblings[i]
// is the sibling at depth i + 1 of KEY's path), and what the path ends in: KEY's own leaf
// (value set), another key's leaf (other_key/other_seq set: KEY is absent), or an empty
// subtree (neither: KEY is absent).
struct MapProof {
  Hash key{};
  std::optional<uint64_t> value;
  std::vector<Hash> siblings;
  std::optional<Hash> other_key;
  uint64_t other_seq = 0;

  // {"key": hex, "value": seq|null, "siblings": [hex…], "other": {"key": hex, "seq": n}?}
  nlohmann::json ToJson() const;
  static Result<MapProof> FromJson(const nlohmann::json& json);  // kCorruption if malformed
};

// Interior nodes whose hashes deferred Sets left stale, as (depth, the key's first depth bits),
// deepest first: the order Rehash brings them up to date in.
using StaleNodes = std::set<std::pair<uint32_t, Hash>, std::greater<>>;

class SparseMap {
 public:
  explicit SparseMap(MapNodeStore& store) : store_(store) {}

  Result<Hash> Root() const;
  Result<std::optional<uint64_t>> Get(const Hash& key) const;
  // Sets KEY to SEQ; returns the value it held before (nullopt: it was absent).
  Result<std::optional<uint64_t>> Set(const Hash& key, uint64_t seq);
  // Set without the rehash: the interior nodes on KEY's path keep stale hashes and are added
  // to *STALE; Rehash(STALE) then hashes each of them once, deepest first, and empties it.
  // Many deferred Sets and one Rehash write and hash every changed node once (the broker does
  // one Rehash per commit cycle, not one per trail per record). Between the two, Get and the
  // map's shape are exact; Root and Prove read stale hashes.
  Result<std::optional<uint64_t>> SetDeferred(const Hash& key, uint64_t seq, StaleNodes* stale);
  Status Rehash(StaleNodes* stale);
  Result<MapProof> Prove(const Hash& key) const;

 private:
  Result<Hash> HashAt(uint32_t depth, const Hash& key) const;
  MapNodeStore& store_;
};

// Ok iff PROOF shows, under the map root ROOT, that proof.key holds proof.value (or is absent
// when value is nullopt); otherwise kCorruption saying what failed.
Status VerifyMapProof(const MapProof& proof, const Hash& root);

// An in-memory MapNodeStore, for tests.
class MemoryMapNodeStore : public MapNodeStore {
 public:
  Result<std::optional<std::string>> GetNode(const std::string& node_key) const override;
  void PutNode(const std::string& node_key, const std::string& value) override;
  size_t size() const { return nodes_.size(); }

 private:
  std::map<std::string, std::string> nodes_;
};

}  // namespace stafett::core
