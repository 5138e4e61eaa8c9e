// Tests of protocol v2's batch signatures: every index of batches of 1..70 verifies, tampering
// with any byte of an item or proof is refused, paths from other batches are refused, the
// verified-root cache checks a root's signature once, the proof codec refuses malformed bytes,
// agreement with the RFC 6962 vectors in tests/testdata, and the fixed vectors of
// docs/PROTOCOL_V2.md. Single-threaded except the cache's concurrency test.
#include "stafett/core/batch_signature.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Unhex(std::string_view hex) {
  std::optional<std::string> bytes = FromHex(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or("");
}

std::string HexOf(const Hash& hash) { return HashToHex(hash); }

struct Batch {
  std::vector<std::string> items;
  std::vector<BatchProof> proofs;
};

// A sender with a random key set.
class BatchSignatureTest : public ::testing::Test {
 protected:
  BatchSignatureTest()
      : signing_(SigningKeyPair::Generate()),
        key_id_(KeyIdOf(std::string(32, 't'), std::string(32, 'e'), signing_.public_key)) {}

  Batch Make(uint64_t size, std::string_view tag) const {
    Batch batch;
    for (uint64_t i = 0; i < size; ++i) {
      batch.items.push_back(std::string(tag) + " item " + std::to_string(i) + " of " +
                            std::to_string(size));
    }
    std::vector<std::string_view> views(batch.items.begin(), batch.items.end());
    Result<std::vector<BatchProof>> proofs = SignBatch(views, key_id_, signing_);
    EXPECT_TRUE(proofs.ok()) << proofs.status().ToString();
    if (proofs.ok()) batch.proofs = std::move(proofs).value();
    return batch;
  }

  Status Check(std::string_view item, const BatchProof& proof,
               VerifiedRootCache* cache = nullptr) const {
    return VerifyBatchItem(item, proof, key_id_, signing_.public_key, cache);
  }

  // Decoded, then verified: how a verifier meets a proof from the wire.
  Status CheckBytes(std::string_view item, std::string_view bytes,
                    VerifiedRootCache* cache = nullptr) const {
    Result<BatchProof> proof = ParseBatchProof(bytes);
    if (!proof.ok()) return proof.status();
    return Check(item, *proof, cache);
  }

  SigningKeyPair signing_;
  std::string key_id_;
};

TEST_F(BatchSignatureTest, EveryIndexOfEveryBatchSizeFromOneToSeventyVerifies) {
  for (uint64_t n = 1; n <= 70; ++n) {
    const Batch batch = Make(n, "sizes");
    ASSERT_EQ(batch.proofs.size(), n);
    MemoryNodeStore reference;
    for (const std::string& item : batch.items) reference.Append(item);
    for (uint64_t i = 0; i < n; ++i) {
      const BatchProof& proof = batch.proofs[i];
      EXPECT_EQ(proof.batch_size, n);
      EXPECT_EQ(proof.leaf_index, i);
      EXPECT_EQ(proof.root, reference.Root()) << n;
      EXPECT_EQ(proof.signature, batch.proofs[0].signature) << "one signature per batch";
      EXPECT_EQ(proof.path.size(), BatchPathLength(i, n));
      EXPECT_EQ(proof.path, *InclusionProof(i, n, reference)) << i << " of " << n;
      EXPECT_TRUE(Check(batch.items[i], proof).ok()) << i << " of " << n;
      const std::string bytes = EncodeBatchProof(proof);
      EXPECT_EQ(bytes.size(), kBatchProofFixedBytes + 32 * proof.path.size());
      Result<BatchProof> parsed = ParseBatchProof(bytes);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(*parsed, proof);
      EXPECT_TRUE(CheckBytes(batch.items[i], bytes).ok()) << i << " of " << n;
    }
  }
}

TEST_F(BatchSignatureTest, ALoneItemIsABatchOfOneWithAnEmptyPath) {
  const Batch batch = Make(1, "lone");
  const BatchProof& proof = batch.proofs.at(0);
  EXPECT_TRUE(proof.path.empty());
  EXPECT_EQ(proof.root, LeafHash(batch.items[0]));
  EXPECT_EQ(EncodeBatchProof(proof).size(), kBatchProofFixedBytes);
  EXPECT_TRUE(Check(batch.items[0], proof).ok());
  EXPECT_TRUE(
      Verify(signing_.public_key, BatchSigningInput(key_id_, 1, proof.root), proof.signature));
}

// Flipping any bit-pattern of any byte of the item or of the encoded proof (size, index, path
// count, root, path, signature) is refused, with the cache and without it.
TEST_F(BatchSignatureTest, TamperingAnyByteOfItemOrProofIsRefused) {
  for (uint64_t n : {1, 2, 3, 5, 7, 16, 33}) {
    const Batch batch = Make(n, "tamper");
    VerifiedRootCache cache;
    for (uint64_t i = 0; i < n; ++i) {
      const std::string& item = batch.items[i];
      const std::string bytes = EncodeBatchProof(batch.proofs[i]);
      ASSERT_TRUE(CheckBytes(item, bytes, &cache).ok());  // the cache now holds the root
      for (size_t b = 0; b < item.size(); ++b) {
        std::string changed = item;
        changed[b] ^= 0x01;
        const Status verdict = CheckBytes(changed, bytes, &cache);
        EXPECT_EQ(verdict.code(), Code::kBadSignature) << "item byte " << b;
      }
      EXPECT_FALSE(CheckBytes(item + "x", bytes).ok()) << "item extended";
      EXPECT_FALSE(CheckBytes(item.substr(1), bytes).ok()) << "item shortened";
      for (size_t b = 0; b < bytes.size(); ++b) {
        for (uint8_t flip : {0x01, 0x80}) {
          std::string changed = bytes;
          changed[b] = static_cast<char>(changed[b] ^ flip);
          const Status verdict = CheckBytes(item, changed, &cache);
          EXPECT_FALSE(verdict.ok())
              << "proof byte " << b << " of " << bytes.size() << ", leaf " << i << " of " << n;
          EXPECT_TRUE(verdict.code() == Code::kBadSignature ||
                      verdict.code() == Code::kProtocolError)
              << verdict.ToString();
        }
      }
    }
    EXPECT_EQ(cache.size(), 1u) << "no tampered signature was cached beside the good one";
  }
}

TEST_F(BatchSignatureTest, TamperingTheDecodedFieldsIsRefused) {
  const Batch batch = Make(13, "fields");
  const std::string& item = batch.items[6];
  const BatchProof& good = batch.proofs[6];
  ASSERT_TRUE(Check(item, good).ok());
  auto expect_refused = [&](const BatchProof& proof, const char* what) {
    const Status verdict = Check(item, proof);
    EXPECT_EQ(verdict.code(), Code::kBadSignature) << what << ": " << verdict.ToString();
  };
  for (uint64_t index = 0; index < 16; ++index) {
    if (index == good.leaf_index) continue;
    BatchProof proof = good;
    proof.leaf_index = index;
    expect_refused(proof, "another index");
  }
  for (uint64_t size :
       {uint64_t{0}, uint64_t{6}, uint64_t{12}, uint64_t{14}, uint64_t{16}, kMaxBatchItems + 1}) {
    BatchProof proof = good;
    proof.batch_size = size;
    expect_refused(proof, "another size");
  }
  BatchProof proof = good;
  proof.root[0] ^= 1;
  expect_refused(proof, "root");
  proof = good;
  proof.path.pop_back();
  expect_refused(proof, "path truncated");
  proof = good;
  proof.path.push_back(good.path[0]);
  expect_refused(proof, "path extended");
  proof = good;
  std::swap(proof.path[0], proof.path[1]);
  expect_refused(proof, "path reordered");
  proof = good;
  proof.signature.pop_back();
  expect_refused(proof, "signature truncated");
  EXPECT_EQ(VerifyBatchItem(item, good, key_id_, SigningKeyPair::Generate().public_key).code(),
            Code::kBadSignature)
      << "another sender's key";
  std::string other_id = key_id_;
  other_id[0] = other_id[0] == '0' ? '1' : '0';
  EXPECT_EQ(VerifyBatchItem(item, good, other_id, signing_.public_key).code(), Code::kBadSignature)
      << "another key id";
  EXPECT_EQ(VerifyBatchItem(item, good, "ABCDEF0123456789", signing_.public_key).code(),
            Code::kBadSignature)
      << "a key id that is not lowercase hex";
}

// Leaf 0 of 5 and of 6 has the same path and implies the same root (docs/MERKLE.md): the size is
// bound by the signature, not by the path.
TEST_F(BatchSignatureTest, TheSizeIsBoundByTheSignatureWhereThePathCannotBindIt) {
  const Batch batch = Make(5, "size");
  BatchProof proof = batch.proofs[0];
  proof.batch_size = 6;
  ASSERT_EQ(BatchPathLength(0, 6), proof.path.size());
  ASSERT_EQ(*RootFromInclusionProof(0, 6, LeafHash(batch.items[0]), proof.path), proof.root);
  const Status verdict = Check(batch.items[0], proof);
  EXPECT_EQ(verdict.code(), Code::kBadSignature);
  EXPECT_NE(verdict.message().find("signature"), std::string::npos) << verdict.message();
}

TEST_F(BatchSignatureTest, APathFromAnotherBatchIsRefused) {
  const Batch a = Make(9, "batch a");
  const Batch b = Make(9, "batch b");
  // The same items in another order: the same leaves, another tree.
  Batch c;
  c.items = a.items;
  std::reverse(c.items.begin(), c.items.end());
  std::vector<std::string_view> views(c.items.begin(), c.items.end());
  c.proofs = *SignBatch(views, key_id_, signing_);
  for (uint64_t i = 0; i < 9; ++i) {
    EXPECT_FALSE(Check(a.items[i], b.proofs[i]).ok()) << "b's proof for a's item " << i;
    BatchProof mixed = a.proofs[i];
    mixed.path = b.proofs[i].path;
    EXPECT_FALSE(Check(a.items[i], mixed).ok()) << "a's root with b's path " << i;
    mixed = b.proofs[i];
    mixed.root = a.proofs[i].root;
    EXPECT_FALSE(Check(a.items[i], mixed).ok()) << "b's path and signature with a's root " << i;
    mixed = a.proofs[i];
    mixed.signature = b.proofs[i].signature;
    EXPECT_FALSE(Check(a.items[i], mixed).ok()) << "a's proof with b's signature " << i;
    // The same item sits at index 8 - i of c: a's proof for it does not fit c, nor c's a.
    EXPECT_TRUE(Check(a.items[i], c.proofs[8 - i]).ok());
    if (i != 4) {
      EXPECT_FALSE(Check(a.items[i], c.proofs[i]).ok()) << "c's proof of another index " << i;
      mixed = c.proofs[8 - i];
      mixed.path = a.proofs[i].path;
      EXPECT_FALSE(Check(a.items[i], mixed).ok()) << "c's root with a's path " << i;
    }
  }
}

TEST_F(BatchSignatureTest, SigningRefusesWhatCannotBeABatch) {
  EXPECT_EQ(SignBatch({}, key_id_, signing_).status().code(), Code::kSchemaInvalid);
  const std::vector<std::string_view> one = {"x"};
  EXPECT_EQ(SignBatch(one, "short", signing_).status().code(), Code::kSchemaInvalid);
  EXPECT_EQ(SignBatch(one, "0123456789ABCDEF", signing_).status().code(), Code::kSchemaInvalid);
  SigningKeyPair empty;
  EXPECT_EQ(SignBatch(one, key_id_, empty).status().code(), Code::kKeyInvalid);
  const std::vector<std::string_view> too_many(kMaxBatchItems + 1, "x");
  EXPECT_EQ(SignBatch(too_many, key_id_, signing_).status().code(), Code::kSchemaInvalid);
}

TEST_F(BatchSignatureTest, TheLargestBatchHasSixteenHashPathsThatParse) {
  EXPECT_EQ(BatchPathLength(0, kMaxBatchItems), kMaxBatchPathHashes);
  EXPECT_EQ(BatchPathLength(kMaxBatchItems - 1, kMaxBatchItems), kMaxBatchPathHashes);
  BatchProof proof;
  proof.batch_size = kMaxBatchItems;
  proof.leaf_index = kMaxBatchItems - 1;
  proof.path.assign(kMaxBatchPathHashes, Hash{});
  proof.signature.assign(kSignatureBytes, 's');
  const std::string bytes = EncodeBatchProof(proof);
  EXPECT_EQ(bytes.size(), kBatchProofMaxBytes);
  Result<BatchProof> parsed = ParseBatchProof(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, proof);
}

// ---- The codec ----

TEST(BatchProofCodecTest, RefusesEveryMalformedInputWithProtocolError) {
  BatchProof proof;
  proof.batch_size = 5;
  proof.leaf_index = 4;
  proof.path.assign(BatchPathLength(4, 5), Hash{});  // 1 hash
  proof.signature.assign(kSignatureBytes, 's');
  const std::string good = EncodeBatchProof(proof);
  ASSERT_TRUE(ParseBatchProof(good).ok());
  auto expect_refused = [](const std::string& bytes, std::string_view says) {
    Result<BatchProof> parsed = ParseBatchProof(bytes);
    ASSERT_FALSE(parsed.ok()) << says;
    EXPECT_EQ(parsed.status().code(), Code::kProtocolError) << says;
    EXPECT_NE(parsed.status().message().find(says), std::string::npos) << parsed.status().message();
  };
  expect_refused("", "shorter");
  for (size_t length = 0; length < good.size(); ++length) {
    EXPECT_FALSE(ParseBatchProof(good.substr(0, length)).ok()) << "truncated to " << length;
  }
  expect_refused(good + '\0', "bytes where");
  std::string bytes = good;
  bytes[0] = 2;
  expect_refused(bytes, "version");
  auto with_be64 = [&](size_t offset, uint64_t value) {
    std::string out = good;
    for (int i = 0; i < 8; ++i) out[offset + i] = static_cast<char>(value >> (56 - 8 * i));
    return out;
  };
  expect_refused(with_be64(1, 0), "batch size");
  expect_refused(with_be64(1, kMaxBatchItems + 1), "batch size");
  expect_refused(with_be64(1, ~uint64_t{0}), "batch size");
  expect_refused(with_be64(9, 5), "leaf index");
  expect_refused(with_be64(9, ~uint64_t{0}), "leaf index");
  bytes = good;
  bytes[17] = 0;
  expect_refused(bytes, "path count");
  bytes = good;
  bytes[17] = static_cast<char>(0xff);
  expect_refused(bytes, "path count");
  // A path count that fits another index: index 0 of 5 has 3 hashes.
  expect_refused(with_be64(9, 0), "path count");
}

TEST(BatchProofCodecTest, RefusalsDoNotQuoteTheInput) {
  std::string bytes(kBatchProofFixedBytes + 32, 'Z');
  bytes[0] = 1;
  Result<BatchProof> parsed = ParseBatchProof(bytes);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().find("ZZ"), std::string::npos);
}

// ---- The verified-root cache ----

TEST_F(BatchSignatureTest, TheCacheVerifiesARootsSignatureOnce) {
  VerifiedRootCache cache;
  const Batch a = Make(64, "cache a");
  for (uint64_t i = 0; i < 64; ++i) ASSERT_TRUE(Check(a.items[i], a.proofs[i], &cache).ok());
  EXPECT_EQ(cache.signature_verifications(), 1u);
  EXPECT_EQ(cache.hits(), 63u);
  EXPECT_EQ(cache.size(), 1u);
  const Batch b = Make(3, "cache b");
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(Check(b.items[i], b.proofs[i], &cache).ok());
  EXPECT_EQ(cache.signature_verifications(), 2u);
  EXPECT_EQ(cache.size(), 2u);

  // A cached root with other signature bytes is verified in full, refused, and not cached.
  BatchProof forged = a.proofs[0];
  forged.signature[10] ^= 0x20;
  EXPECT_EQ(Check(a.items[0], forged, &cache).code(), Code::kBadSignature);
  EXPECT_EQ(cache.signature_verifications(), 3u);
  EXPECT_TRUE(Check(a.items[1], a.proofs[1], &cache).ok());
  EXPECT_EQ(cache.signature_verifications(), 3u) << "the good signature is still the cached one";

  // A path that fails is refused before the signature is looked at.
  BatchProof bad_path = a.proofs[5];
  bad_path.path[0][0] ^= 1;
  EXPECT_EQ(Check(a.items[5], bad_path, &cache).code(), Code::kBadSignature);
  EXPECT_EQ(cache.signature_verifications(), 3u);

  // Another public key under the same key id does not borrow the cached verdict.
  const SigningKeyPair other = SigningKeyPair::Generate();
  EXPECT_FALSE(VerifyBatchItem(a.items[2], a.proofs[2], key_id_, other.public_key, &cache).ok());
  EXPECT_EQ(cache.signature_verifications(), 4u);
}

TEST_F(BatchSignatureTest, TheCacheIsBoundedAndEvictsTheLeastRecentlyUsed) {
  VerifiedRootCache cache(2);
  const Batch a = Make(2, "lru a");
  const Batch b = Make(2, "lru b");
  const Batch c = Make(2, "lru c");
  ASSERT_TRUE(Check(a.items[0], a.proofs[0], &cache).ok());
  ASSERT_TRUE(Check(b.items[0], b.proofs[0], &cache).ok());
  ASSERT_TRUE(Check(a.items[1], a.proofs[1], &cache).ok());  // a is the most recent now
  EXPECT_EQ(cache.signature_verifications(), 2u);
  ASSERT_TRUE(Check(c.items[0], c.proofs[0], &cache).ok());  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.signature_verifications(), 3u);
  ASSERT_TRUE(Check(a.items[0], a.proofs[0], &cache).ok());
  EXPECT_EQ(cache.signature_verifications(), 3u) << "a stayed";
  ASSERT_TRUE(Check(b.items[1], b.proofs[1], &cache).ok());
  EXPECT_EQ(cache.signature_verifications(), 4u) << "b was evicted and is verified again";
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(BatchSignatureTest, TheCacheServesConcurrentVerifiers) {
  VerifiedRootCache cache;
  const Batch batch = Make(32, "threads");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i = 0; i < 32; ++i) {
        if (!Check(batch.items[i], batch.proofs[i], &cache).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(cache.signature_verifications() + cache.hits(), 128u);
  EXPECT_GE(cache.signature_verifications(), 1u);
  EXPECT_LE(cache.signature_verifications(), 4u) << "at most one per thread before it is cached";
  EXPECT_EQ(cache.size(), 1u);
}

// ---- Agreement with the RFC 6962 vectors (tests/testdata/rfc6962) ----

const fs::path kRfcVectors = fs::path(STAFETT_TESTDATA) / "rfc6962";

TEST(BatchRfc6962Test, BatchRootsAreTheReferenceTreeRoots) {
  std::ifstream in(kRfcVectors / "reference-tree.json");
  const Json tree = Json::parse(in);
  std::vector<std::string> inputs;
  for (const Json& input : tree["leaf_inputs_hex"])
    inputs.push_back(Unhex(input.get<std::string>()));
  const auto& roots = tree["root_by_tree_size_hex"];
  ASSERT_EQ(inputs.size(), 8u);
  const SigningKeyPair key = SigningKeyPair::Generate();
  for (size_t n = 1; n <= inputs.size(); ++n) {
    std::vector<std::string_view> items(inputs.begin(), inputs.begin() + static_cast<long>(n));
    Result<std::vector<BatchProof>> proofs = SignBatch(items, "0123456789abcdef", key);
    ASSERT_TRUE(proofs.ok()) << proofs.status().ToString();
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(HexOf((*proofs)[i].root), roots[n].get<std::string>()) << "n=" << n;
      EXPECT_TRUE(
          VerifyBatchItem(inputs[i], (*proofs)[i], "0123456789abcdef", key.public_key).ok());
    }
  }
}

// Every valid inclusion vector's path has the length our parser demands for its index and size,
// and our verifier's path check (RootFromInclusionProof) reaches its root.
TEST(BatchRfc6962Test, PathLengthsAgreeWithEveryValidInclusionVector) {
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kRfcVectors / "inclusion")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const Json c = Json::parse(in);
    if (c["wantErr"].get<bool>()) continue;
    const uint64_t index = c["leafIdx"].get<uint64_t>();
    const uint64_t size = c["treeSize"].get<uint64_t>();
    std::vector<Hash> path;
    if (!c["proof"].is_null()) {
      for (const Json& item : c["proof"]) {
        const std::string bytes = FromBase64(item.get<std::string>()).value_or("");
        ASSERT_EQ(bytes.size(), 32u);
        Hash hash;
        std::copy(bytes.begin(), bytes.end(), hash.begin());
        path.push_back(hash);
      }
    }
    EXPECT_EQ(BatchPathLength(index, size), path.size()) << entry.path();
    const std::string leaf = FromBase64(c["leafHash"].get<std::string>()).value_or("");
    const std::string root = FromBase64(c["root"].get<std::string>()).value_or("");
    ASSERT_EQ(leaf.size(), 32u);
    Hash leaf_hash;
    std::copy(leaf.begin(), leaf.end(), leaf_hash.begin());
    Result<Hash> computed = RootFromInclusionProof(index, size, leaf_hash, path);
    ASSERT_TRUE(computed.ok()) << entry.path();
    EXPECT_EQ(std::string(computed->begin(), computed->end()), root) << entry.path();
    ++checked;
  }
  EXPECT_EQ(checked, 6) << "the valid cases of tests/testdata/rfc6962/inclusion";
}

// ---- The fixed vectors of docs/PROTOCOL_V2.md ("Test vectors") ----

// The sender's key set: three 32-byte secrets (seeds), written out.
constexpr std::string_view kSigningSeedHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kEncryptionSecretHex =
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
constexpr std::string_view kTransportSecretHex =
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";

constexpr std::string_view kVectorSigningPublicHex =
    "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
constexpr std::string_view kVectorKeyId = "e14a6476872814c8";
constexpr std::string_view kVectorRootHex =
    "77b88b06f83d7cbe7b7fc28951db838703618d4e50ccac3d80ba34a6ca809186";
constexpr std::string_view kVectorSignatureHex =
    "426aa1884ebd4d081d9ff2b851ecb1a319375253d6550769c24a4eb4c1c0e15a0aeac961a2b95ba356ab0ac4442922"
    "b060f312a4edb46d9e5f5344afda40ba02";
// Each proof: version, be64 size, be64 index and path count; root; path hashes; signature.
constexpr std::string_view kVectorProofHex[5] = {
    "010000000000000005000000000000000003"
    "77b88b06f83d7cbe7b7fc28951db838703618d4e50ccac3d80ba34a6ca809186"
    "022962c2e982bf9eade299618f156b8acaaa0919f35fc73f25f6010c039ed175"
    "886447277df038bc4fd605cef95204a48623c84bdd2f3b17b9f4da3b366a85f0"
    "9934649e2f9a2fcf93c4b9b375ba41d31dc6c82b45834ad2b3a04a6647d98a68"
    "426aa1884ebd4d081d9ff2b851ecb1a319375253d6550769c24a4eb4c1c0e15a0aeac961a2b95ba356ab0ac4442922"
    "b060f312a4edb46d9e5f5344afda40ba02",
    "010000000000000005000000000000000103"
    "77b88b06f83d7cbe7b7fc28951db838703618d4e50ccac3d80ba34a6ca809186"
    "c22095350c541a9319f413f87ebd5ac777f9a5b9c4218fdd9b5e951d1808e0e1"
    "886447277df038bc4fd605cef95204a48623c84bdd2f3b17b9f4da3b366a85f0"
    "9934649e2f9a2fcf93c4b9b375ba41d31dc6c82b45834ad2b3a04a6647d98a68"
    "426aa1884ebd4d081d9ff2b851ecb1a319375253d6550769c24a4eb4c1c0e15a0aeac961a2b95ba356ab0ac4442922"
    "b060f312a4edb46d9e5f5344afda40ba02",
    "010000000000000005000000000000000203"
    "77b88b06f83d7cbe7b7fc28951db838703618d4e50ccac3d80ba34a6ca809186"
    "b75dd666eb194aea06e02a6f80ed72e0454efe81c53aca66c947ebff1f06406e"
    "ac884c1b4b1caf0585a09981cb8a0f0966ba163c4a4894f1a3ba017d45b11a17"
    "9934649e2f9a2fcf93c4b9b375ba41d31dc6c82b45834ad2b3a04a6647d98a68"
    "426aa1884ebd4d081d9ff2b851ecb1a319375253d6550769c24a4eb4c1c0e15a0aeac961a2b95ba356ab0ac4442922"
    "b060f312a4edb46d9e5f5344afda40ba02",
    "010000000000000005000000000000000303"
    "77b88b06f83d7cbe7b7fc28951db838703618d4e50ccac3d80ba34a6ca809186"
    "1cb6e1bb1a927c64dec4649d24610cc5dc3202d65b3fa860cdc8fb36d1f3630a"
    "ac884c1b4b1caf0585a09981cb8a0f0966ba163c4a4894f1a3ba017d45b11a17"
    "9934649e2f9a2fcf93c4b9b375ba41d31dc6c82b45834ad2b3a04a6647d98a68"
    "426aa1884ebd4d081d9ff2b851ecb1a319375253d6550769c24a4eb4c1c0e15a0aeac961a2b95ba356ab0ac4442922"
    "b060f312a4edb46d9e5f5344afda40ba02",
    "010000000000000005000000000000000401"
    "77b88b06f83d7cbe7b7fc28951db838703618d4e50ccac3d80ba34a6ca809186"
    "105373a44c8ac165aed824ee06054ddbf7030f32504361ffd6d6ac6e3bc7eef4"
    "426aa1884ebd4d081d9ff2b851ecb1a319375253d6550769c24a4eb4c1c0e15a0aeac961a2b95ba356ab0ac4442922"
    "b060f312a4edb46d9e5f5344afda40ba02",
};

std::vector<std::string> VectorItems() {
  std::vector<std::string> items;
  for (int i = 0; i < 5; ++i) items.push_back("stafett-v2-vector-item-" + std::to_string(i));
  return items;
}

TEST(BatchVectorsTest, TheFixedBatchOfFiveHasTheWrittenRootSignatureAndProofs) {
  const SigningKeyPair signing = *SigningKeyPair::FromSeed(Unhex(kSigningSeedHex));
  const BoxKeyPair encryption = *BoxKeyPair::FromSecret(Unhex(kEncryptionSecretHex));
  const TransportKeyPair transport = *TransportKeyPair::FromSecret(Unhex(kTransportSecretHex));
  EXPECT_EQ(ToHex(signing.public_key), kVectorSigningPublicHex);
  const std::string key_id =
      KeyIdOf(transport.public_key, encryption.public_key, signing.public_key);
  EXPECT_EQ(key_id, kVectorKeyId);

  const std::vector<std::string> items = VectorItems();
  std::vector<std::string_view> views(items.begin(), items.end());
  Result<std::vector<BatchProof>> proofs = SignBatch(views, key_id, signing);
  ASSERT_TRUE(proofs.ok()) << proofs.status().ToString();
  ASSERT_EQ(proofs->size(), 5u);
  EXPECT_EQ(HexOf(proofs->front().root), kVectorRootHex);
  EXPECT_EQ(ToHex(proofs->front().signature), kVectorSignatureHex);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ToHex(EncodeBatchProof((*proofs)[i])), kVectorProofHex[i]) << "proof " << i;
  }
  for (size_t i = 0; i < 5; ++i) {
    // The written bytes verify on their own, as an implementer elsewhere would check them.
    Result<BatchProof> parsed = ParseBatchProof(Unhex(kVectorProofHex[i]));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_TRUE(
        VerifyBatchItem(items[i], *parsed, kVectorKeyId, Unhex(kVectorSigningPublicHex)).ok());
  }
  // The root by hand, RFC 6962: ((l0 l1) (l2 l3)) l4.
  const Hash root = NodeHash(NodeHash(NodeHash(LeafHash(items[0]), LeafHash(items[1])),
                                      NodeHash(LeafHash(items[2]), LeafHash(items[3]))),
                             LeafHash(items[4]));
  EXPECT_EQ(HexOf(root), kVectorRootHex);
  EXPECT_EQ(ToHex(BatchSigningInput(key_id, 5, root)),
            ToHex(std::string(kBatchSigningPrefix) + key_id + std::string(7, '\0') + "\x05" +
                  std::string(root.begin(), root.end())));
}

}  // namespace
}  // namespace stafett::core
