// Batch signatures: signing a batch's RFC 6962 root, the proof's byte format and its strict
// parser, the verified-root cache and per-item verification. Thread-safety: see the header.
#include "stafett/core/batch_signature.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

Status BadSignature(std::string message) {
  return Status(Code::kBadSignature, "batch proof: " + std::move(message));
}

Status Malformed(std::string message) {
  return Status(Code::kProtocolError, "batch proof: " + std::move(message));
}

bool IsKeyId(std::string_view key_id) {
  return key_id.size() == kKeyIdHexChars && std::all_of(key_id.begin(), key_id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void AppendHash(std::string& out, const Hash& hash) {
  out.append(reinterpret_cast<const char*>(hash.data()), hash.size());
}

Hash ReadHash(std::string_view bytes) {
  Hash hash;
  std::copy_n(reinterpret_cast<const uint8_t*>(bytes.data()), hash.size(), hash.data());
  return hash;
}

// Checks what ParseBatchProof checks of a proof's numbers, as kBadSignature for the verifier.
Status CheckShape(const BatchProof& proof) {
  if (proof.batch_size == 0 || proof.batch_size > kMaxBatchItems) {
    return BadSignature("batch size outside 1.." + std::to_string(kMaxBatchItems));
  }
  if (proof.leaf_index >= proof.batch_size) return BadSignature("leaf index outside the batch");
  if (proof.path.size() != BatchPathLength(proof.leaf_index, proof.batch_size)) {
    return BadSignature("audit path has the wrong length for its index and size");
  }
  if (proof.signature.size() != kSignatureBytes) return BadSignature("signature is not 64 bytes");
  return Status::Ok();
}

}  // namespace

std::string BatchSigningInput(std::string_view sender_key_id, uint64_t batch_size,
                              const Hash& root) {
  std::string input;
  input.reserve(kBatchSigningPrefix.size() + sender_key_id.size() + 8 + root.size());
  input.append(kBatchSigningPrefix);
  input.append(sender_key_id);
  AppendBigEndian64(batch_size, &input);
  AppendHash(input, root);
  return input;
}

size_t BatchPathLength(uint64_t index, uint64_t size) {
  // RFC 6962 §2.1.1: split at the largest power of two below the size, one hash per level.
  size_t length = 0;
  while (size > 1) {
    uint64_t split = uint64_t{1} << (63 - std::countl_zero(size - 1));
    if (index < split) {
      size = split;
    } else {
      index -= split;
      size -= split;
    }
    ++length;
  }
  return length;
}

Result<std::vector<BatchProof>> SignBatch(std::span<const std::string_view> items,
                                          std::string_view sender_key_id,
                                          const SigningKeyPair& sender) {
  if (items.empty()) return Status(Code::kSchemaInvalid, "batch: no items");
  if (items.size() > kMaxBatchItems) {
    return Status(Code::kSchemaInvalid,
                  "batch: more than " + std::to_string(kMaxBatchItems) + " items");
  }
  if (!IsKeyId(sender_key_id)) {
    return Status(Code::kSchemaInvalid, "batch: sender key id is not 16 lowercase hex");
  }
  if (sender.secret_key.size() != kSigningSecretKeyBytes) {
    return Status(Code::kKeyInvalid, "batch: signing key is not 64 bytes");
  }
  MemoryNodeStore tree;
  for (std::string_view item : items) tree.Append(item);
  const uint64_t size = tree.size();
  const Hash root = tree.Root();
  const std::string signature = Sign(sender, BatchSigningInput(sender_key_id, size, root));
  std::vector<BatchProof> proofs;
  proofs.reserve(items.size());
  for (uint64_t index = 0; index < size; ++index) {
    Result<std::vector<Hash>> path = InclusionProof(index, size, tree);
    if (!path.ok()) return Status(Code::kInternal, "batch: " + path.status().message());
    proofs.push_back(BatchProof{root, size, index, std::move(path).value(), signature});
  }
  return proofs;
}

std::string EncodeBatchProof(const BatchProof& proof) {
  std::string out;
  out.reserve(kBatchProofFixedBytes + 32 * proof.path.size());
  out.push_back(static_cast<char>(kBatchProofVersion));
  AppendBigEndian64(proof.batch_size, &out);
  AppendBigEndian64(proof.leaf_index, &out);
  out.push_back(static_cast<char>(proof.path.size() & 0xff));
  AppendHash(out, proof.root);
  for (const Hash& hash : proof.path) AppendHash(out, hash);
  out.append(proof.signature);
  return out;
}

Result<BatchProof> ParseBatchProof(std::string_view bytes) {
  if (bytes.size() < kBatchProofFixedBytes) {
    return Malformed("shorter than " + std::to_string(kBatchProofFixedBytes) + " bytes");
  }
  if (static_cast<uint8_t>(bytes[0]) != kBatchProofVersion) {
    return Malformed("unknown version");
  }
  BatchProof proof;
  proof.batch_size = *ReadBigEndian64(bytes.substr(1, kBigEndian64Bytes));
  proof.leaf_index = *ReadBigEndian64(bytes.substr(9, kBigEndian64Bytes));
  const size_t path_count = static_cast<uint8_t>(bytes[17]);
  if (proof.batch_size == 0 || proof.batch_size > kMaxBatchItems) {
    return Malformed("batch size outside 1.." + std::to_string(kMaxBatchItems));
  }
  if (proof.leaf_index >= proof.batch_size) return Malformed("leaf index outside the batch");
  if (path_count != BatchPathLength(proof.leaf_index, proof.batch_size)) {
    return Malformed("path count is not the path length for its index and size");
  }
  const size_t expected = kBatchProofFixedBytes + 32 * path_count;
  if (bytes.size() != expected) {
    return Malformed(std::to_string(bytes.size()) + " bytes where its path count needs " +
                     std::to_string(expected));
  }
  proof.root = ReadHash(bytes.substr(18));
  proof.path.reserve(path_count);
  for (size_t i = 0; i < path_count; ++i) proof.path.push_back(ReadHash(bytes.substr(50 + 32 * i)));
  proof.signature = std::string(bytes.substr(50 + 32 * path_count, kSignatureBytes));
  return proof;
}

VerifiedRootCache::VerifiedRootCache(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

bool VerifiedRootCache::VerifyRootSignature(std::string_view sender_key_id,
                                            std::string_view sender_public32, const Hash& root,
                                            uint64_t batch_size, std::string_view signature) {
  // The public key is part of the key: a key id names a key set, and a caller that looks keys up
  // wrongly must not be able to borrow another key's verdict.
  std::string key = BatchSigningInput(sender_key_id, batch_size, root);
  key.push_back('\0');
  key.append(sender_public32);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = entries_.find(key);
    if (found != entries_.end() && found->second.signature == signature) {
      lru_.splice(lru_.begin(), lru_, found->second.lru);
      ++hits_;
      return true;
    }
    ++verifications_;
  }
  // Ed25519 outside the lock: concurrent verifiers do not wait for each other.
  if (!Verify(sender_public32, BatchSigningInput(sender_key_id, batch_size, root), signature)) {
    return false;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(key);
  if (found != entries_.end()) {
    // Another signature of the same root verified first (or this one, concurrently): keep it.
    lru_.splice(lru_.begin(), lru_, found->second.lru);
    return true;
  }
  lru_.push_front(key);
  entries_.emplace(std::move(key), Entry{std::string(signature), lru_.begin()});
  while (entries_.size() > capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  return true;
}

uint64_t VerifiedRootCache::signature_verifications() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return verifications_;
}

uint64_t VerifiedRootCache::hits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

size_t VerifiedRootCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

Status VerifyBatchItem(std::string_view item, const BatchProof& proof,
                       std::string_view sender_key_id, std::string_view sender_signing_public32,
                       VerifiedRootCache* cache) {
  STAFETT_RETURN_IF_ERROR(CheckShape(proof));
  if (!IsKeyId(sender_key_id)) return BadSignature("sender key id is not 16 lowercase hex");
  if (sender_signing_public32.size() != kSigningPublicKeyBytes) {
    return BadSignature("sender signing key is not 32 bytes");
  }
  Result<Hash> root =
      RootFromInclusionProof(proof.leaf_index, proof.batch_size, LeafHash(item), proof.path);
  if (!root.ok()) return BadSignature("audit path: " + root.status().message());
  if (*root != proof.root) return BadSignature("audit path does not lead to the signed root");
  const bool signed_ok =
      cache != nullptr
          ? cache->VerifyRootSignature(sender_key_id, sender_signing_public32, proof.root,
                                       proof.batch_size, proof.signature)
          : Verify(sender_signing_public32,
                   BatchSigningInput(sender_key_id, proof.batch_size, proof.root), proof.signature);
  if (!signed_ok) return BadSignature("signature over the batch root does not verify");
  return Status::Ok();
}

}  // namespace stafett::core
