// Protocol v2 batch signatures (issue 17; built, not yet on the wire): a sender signs one RFC 6962
// Merkle root over the exact bytes of a batch of items (v2 headers) with Ed25519; each item gets a
// BatchProof (root, batch size, leaf index, audit path, signature) that a third party verifies on
// its own, without the other items. A verifier checks the path with hashes only and the root's
// signature once, through VerifiedRootCache. Byte formats: docs/PROTOCOL_V2.md.
// Thread-safety: free functions are pure; VerifiedRootCache is safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "stafett/core/crypto.h"
#include "stafett/core/merkle.h"
#include "stafett/core/status.h"

namespace stafett::core {

// What the sender signs: kBatchSigningPrefix || sender key id (16 ASCII lowercase hex) ||
// be64(batch size) || root (32 bytes).
inline constexpr std::string_view kBatchSigningPrefix = "stafett-batch-v1\n";
// A batch holds 1..kMaxBatchItems items, so an audit path has at most 16 hashes.
inline constexpr uint64_t kMaxBatchItems = uint64_t{1} << 16;
inline constexpr size_t kMaxBatchPathHashes = 16;
// The encoded proof: version(1) || be64 size || be64 index || path count(1) || root(32) ||
// path(32 each) || signature(64).
inline constexpr uint8_t kBatchProofVersion = 1;
inline constexpr size_t kBatchProofFixedBytes = 1 + 8 + 8 + 1 + 32 + kSignatureBytes;  // 114
inline constexpr size_t kBatchProofMaxBytes = kBatchProofFixedBytes + 32 * kMaxBatchPathHashes;

// One item's proof of membership in a signed batch.
struct BatchProof {
  Hash root{};              // RFC 6962 root of the batch's items
  uint64_t batch_size = 0;  // 1..kMaxBatchItems
  uint64_t leaf_index = 0;  // < batch_size
  std::vector<Hash> path;   // RFC 9162 §2.1.3.1 inclusion path, leaf to root
  std::string signature;    // 64 bytes: Ed25519 over BatchSigningInput(key id, size, root)

  bool operator==(const BatchProof&) const = default;
};

// kBatchSigningPrefix || key id || be64(size) || root. The key id is taken as given (the caller
// has checked it: 16 lowercase hex).
[[nodiscard]] std::string BatchSigningInput(std::string_view sender_key_id, uint64_t batch_size,
                                            const Hash& root);

// The number of hashes in the audit path of leaf `index` in a tree of `size` leaves (0 for a
// tree of one); requires index < size.
[[nodiscard]] size_t BatchPathLength(uint64_t index, uint64_t size);

// Hashes every item as an RFC 6962 leaf, builds the root, signs it and returns one proof per
// item, in the items' order. kSchemaInvalid for no items, more than kMaxBatchItems or a key id
// that is not 16 lowercase hex; kKeyInvalid for a signing key of the wrong size.
[[nodiscard]] Result<std::vector<BatchProof>> SignBatch(std::span<const std::string_view> items,
                                                        std::string_view sender_key_id,
                                                        const SigningKeyPair& sender);

// The proof's bytes (the format above). The proof is encoded as it is; EncodeBatchProof does not
// validate it (ParseBatchProof does).
[[nodiscard]] std::string EncodeBatchProof(const BatchProof& proof);

// Strict parse of untrusted bytes: exactly the format above, version 1, size in
// 1..kMaxBatchItems, index < size, a path of exactly BatchPathLength(index, size) hashes and no
// trailing bytes. Every refusal is kProtocolError with a message naming the field (never the
// input's bytes).
[[nodiscard]] Result<BatchProof> ParseBatchProof(std::string_view bytes);

// A bounded cache of roots whose signature has verified, keyed by (sender key id, sender public
// key, root, size) and remembering the signature that verified. A proof whose signature bytes
// equal the remembered ones skips Ed25519; any other signature is verified in full. Evicts the
// least recently used entry beyond its capacity.
class VerifiedRootCache {
 public:
  static constexpr size_t kDefaultCapacity = 4096;
  explicit VerifiedRootCache(size_t capacity = kDefaultCapacity);

  // Ed25519 over BatchSigningInput(key id, size, root), or a cache hit. True iff it verifies.
  bool VerifyRootSignature(std::string_view sender_key_id, std::string_view sender_public32,
                           const Hash& root, uint64_t batch_size, std::string_view signature);

  // How many Ed25519 verifications this cache ran, and how many it saved.
  uint64_t signature_verifications() const;
  uint64_t hits() const;
  size_t size() const;

 private:
  struct Entry {
    std::string signature;
    std::list<std::string>::iterator lru;  // position in lru_
  };
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
  uint64_t verifications_ = 0;
  uint64_t hits_ = 0;
};

// Checks one item against its proof: the audit path from LeafHash(item) at (index, size) must
// reach proof.root (hashes only), and the signature over BatchSigningInput(sender key id, size,
// root) must verify under the sender's Ed25519 public key (through `cache` when given). Every
// failure, a proof ParseBatchProof would refuse included, is kBadSignature, the message saying
// which check failed.
[[nodiscard]] Status VerifyBatchItem(std::string_view item, const BatchProof& proof,
                                     std::string_view sender_key_id,
                                     std::string_view sender_signing_public32,
                                     VerifiedRootCache* cache = nullptr);

}  // namespace stafett::core
