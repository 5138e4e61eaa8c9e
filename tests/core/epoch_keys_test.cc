// Tests of protocol v2's per-pair epoch keys: sender and recipient agree, keys differ per pair,
// epoch and direction, wraps fail across pairs, epochs, directions and message ids and when
// altered, SenderEpochKeys rotates by age and count and wipes its secret, and the fixed vector
// of docs/PROTOCOL_V2.md; RecipientEpochKeys derives once per epoch. Single-threaded.
#include "stafett/core/epoch_keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

using std::chrono::seconds;

constexpr EpochDirection kOut = EpochDirection::kSenderToRecipient;
constexpr EpochDirection kBack = EpochDirection::kRecipientToSender;

std::string Unhex(std::string_view hex) {
  std::optional<std::string> bytes = FromHex(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or("");
}

std::string Hex(const SecretBytes& bytes) { return ToHex(bytes.view()); }

bool AllZero(std::span<const unsigned char> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](unsigned char b) { return b == 0; });
}

TEST(EpochKeysTest, SenderAndRecipientAgreeOnTheEpochKey) {
  for (int round = 0; round < 8; ++round) {
    const BoxKeyPair epoch = BoxKeyPair::Generate();
    const BoxKeyPair recipient = BoxKeyPair::Generate();
    for (EpochDirection direction : {kOut, kBack}) {
      Result<SecretBytes> sent = SenderEpochKey(epoch, recipient.public_key, 42, direction);
      Result<SecretBytes> received = RecipientEpochKey(recipient, epoch.public_key, 42, direction);
      ASSERT_TRUE(sent.ok()) << sent.status().ToString();
      ASSERT_TRUE(received.ok()) << received.status().ToString();
      EXPECT_EQ(sent->size(), kEpochKeyBytes);
      EXPECT_EQ(Hex(*sent), Hex(*received));
    }
  }
}

TEST(EpochKeysTest, KeysDifferPerPairEpochAndDirection) {
  const BoxKeyPair epoch = BoxKeyPair::Generate();
  const BoxKeyPair other_epoch = BoxKeyPair::Generate();
  const BoxKeyPair recipient = BoxKeyPair::Generate();
  const BoxKeyPair other_recipient = BoxKeyPair::Generate();
  const std::vector<std::string> keys = {
      Hex(*SenderEpochKey(epoch, recipient.public_key, 1, kOut)),
      Hex(*SenderEpochKey(epoch, recipient.public_key, 1, kBack)),
      Hex(*SenderEpochKey(epoch, recipient.public_key, 2, kOut)),
      Hex(*SenderEpochKey(epoch, other_recipient.public_key, 1, kOut)),
      Hex(*SenderEpochKey(other_epoch, recipient.public_key, 1, kOut)),
  };
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  EXPECT_EQ(Hex(*RecipientEpochKey(other_recipient, epoch.public_key, 1, kOut)), keys[3]);
  // The KDF is not the raw shared point: the point is the same for both directions and ids.
  EXPECT_NE(keys[0], keys[1]);
}

TEST(EpochKeysTest, RefusesKeysOfTheWrongSizeAndLowOrderPoints) {
  const BoxKeyPair epoch = BoxKeyPair::Generate();
  const BoxKeyPair recipient = BoxKeyPair::Generate();
  EXPECT_EQ(SenderEpochKey(epoch, "short", 1, kOut).status().code(), Code::kKeyInvalid);
  EXPECT_EQ(SenderEpochKey(BoxKeyPair{}, recipient.public_key, 1, kOut).status().code(),
            Code::kKeyInvalid);
  EXPECT_EQ(RecipientEpochKey(recipient, "short", 1, kOut).status().code(), Code::kDecryptFailed);
  EXPECT_EQ(RecipientEpochKey(BoxKeyPair{}, epoch.public_key, 1, kOut).status().code(),
            Code::kKeyInvalid);
  // The identity (all zeros) and the point of order 4 (u = 1) give an all-zero shared point.
  for (const std::string& low :
       {std::string(32, '\0'), std::string("\x01") + std::string(31, '\0')}) {
    EXPECT_EQ(RecipientEpochKey(recipient, low, 1, kOut).status().code(), Code::kDecryptFailed);
    EXPECT_EQ(SenderEpochKey(epoch, low, 1, kOut).status().code(), Code::kKeyInvalid);
  }
}

class EpochWrapTest : public ::testing::Test {
 protected:
  EpochWrapTest()
      : epoch_(BoxKeyPair::Generate()),
        recipient_(BoxKeyPair::Generate()),
        key_(*SenderEpochKey(epoch_, recipient_.public_key, 7, kOut)),
        payload_key_(NewPayloadKey()),
        wrapped_(*WrapPayloadKey(key_, kMessageId, payload_key_)) {}

  static constexpr std::string_view kMessageId = "0195a3c4-6e2f-7d41-9b0a-3f6c2e8d1a57";

  void ExpectRefused(const SecretBytes& key, std::string_view message_id, std::string_view wrapped,
                     const char* what) const {
    Result<SecretBytes> opened = UnwrapPayloadKey(key, message_id, wrapped);
    ASSERT_FALSE(opened.ok()) << what;
    EXPECT_EQ(opened.status().code(), Code::kDecryptFailed) << what;
    EXPECT_FALSE(opened.status().message().empty());
  }

  BoxKeyPair epoch_;
  BoxKeyPair recipient_;
  SecretBytes key_;
  SecretBytes payload_key_;
  std::string wrapped_;
};

TEST_F(EpochWrapTest, TheRecipientUnwrapsThePayloadKey) {
  EXPECT_EQ(wrapped_.size(), kEpochWrappedKeyBytes);
  const SecretBytes key = *RecipientEpochKey(recipient_, epoch_.public_key, 7, kOut);
  Result<SecretBytes> opened = UnwrapPayloadKey(key, kMessageId, wrapped_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Hex(*opened), Hex(payload_key_));
  // Fresh nonces: the same key wrapped twice gives other bytes, both unwrap.
  const std::string again = *WrapPayloadKey(key_, kMessageId, payload_key_);
  EXPECT_NE(again, wrapped_);
  EXPECT_EQ(Hex(*UnwrapPayloadKey(key, kMessageId, again)), Hex(payload_key_));
  EXPECT_NE(Hex(NewPayloadKey()), Hex(payload_key_));
}

TEST_F(EpochWrapTest, AWrapFailsUnderAnotherPairEpochDirectionOrMessageId) {
  const BoxKeyPair stranger = BoxKeyPair::Generate();
  ExpectRefused(*RecipientEpochKey(stranger, epoch_.public_key, 7, kOut), kMessageId, wrapped_,
                "another recipient");
  ExpectRefused(*RecipientEpochKey(recipient_, BoxKeyPair::Generate().public_key, 7, kOut),
                kMessageId, wrapped_, "another sender epoch key");
  ExpectRefused(*RecipientEpochKey(recipient_, epoch_.public_key, 8, kOut), kMessageId, wrapped_,
                "another epoch id");
  ExpectRefused(*RecipientEpochKey(recipient_, epoch_.public_key, 7, kBack), kMessageId, wrapped_,
                "the other direction");
  ExpectRefused(key_, "0195a3c4-6e2f-7d41-9b0a-3f6c2e8d1a58", wrapped_, "another message id");
  ExpectRefused(key_, "", wrapped_, "no message id");
}

TEST_F(EpochWrapTest, EveryAlteredByteOrLengthIsRefused) {
  for (size_t i = 0; i < wrapped_.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80}) {
      std::string changed = wrapped_;
      changed[i] = static_cast<char>(changed[i] ^ flip);
      ExpectRefused(key_, kMessageId, changed, "altered byte");
    }
  }
  ExpectRefused(key_, kMessageId, wrapped_.substr(0, wrapped_.size() - 1), "truncated");
  ExpectRefused(key_, kMessageId, wrapped_ + '\0', "extended");
  ExpectRefused(key_, kMessageId, "", "empty");
  ExpectRefused(SecretBytes(std::string_view("short")), kMessageId, wrapped_, "short key");
  EXPECT_EQ(
      WrapPayloadKey(key_, kMessageId, SecretBytes(std::string_view("short"))).status().code(),
      Code::kKeyInvalid);
}

// ---- SenderEpochKeys ----

TEST(SenderEpochKeysTest, DefaultsAreAnHourOrOneHundredThousandWraps) {
  const EpochPolicy policy;
  EXPECT_EQ(policy.max_age, seconds(3600));
  EXPECT_EQ(policy.max_wraps, 100'000u);
}

TEST(SenderEpochKeysTest, WrapsOpenAtTheRecipientAndAgreeOncePerRecipient) {
  ManualClock clock(0);
  SenderEpochKeys sender(clock);
  EXPECT_FALSE(sender.live());
  const BoxKeyPair alice = BoxKeyPair::Generate();
  const BoxKeyPair bob = BoxKeyPair::Generate();
  for (int i = 0; i < 4; ++i) {
    for (const BoxKeyPair* recipient : {&alice, &bob}) {
      const std::string id = "message-" + std::to_string(i);
      const SecretBytes payload_key = NewPayloadKey();
      Result<SenderEpochKeys::Wrap> wrap = sender.WrapFor(recipient->public_key, id, payload_key);
      ASSERT_TRUE(wrap.ok()) << wrap.status().ToString();
      EXPECT_EQ(wrap->epoch_id, 1u);
      EXPECT_EQ(wrap->epoch_public, sender.epoch_public());
      const SecretBytes key = *RecipientEpochKey(*recipient, wrap->epoch_public, 1, kOut);
      EXPECT_EQ(Hex(*UnwrapPayloadKey(key, id, wrap->wrapped)), Hex(payload_key));
      const BoxKeyPair& other = recipient == &alice ? bob : alice;
      EXPECT_FALSE(UnwrapPayloadKey(*RecipientEpochKey(other, wrap->epoch_public, 1, kOut), id,
                                    wrap->wrapped)
                       .ok());
    }
  }
  EXPECT_EQ(sender.wraps_in_epoch(), 8u);
  EXPECT_EQ(sender.agreed_keys(), 2u);
  EXPECT_EQ(sender.WrapFor("short", "x", NewPayloadKey()).status().code(), Code::kKeyInvalid);
  EXPECT_EQ(sender.wraps_in_epoch(), 8u) << "a refused wrap is not counted";
}

TEST(SenderEpochKeysTest, RotatesAfterTheCountAndTheOldEpochsWrapsStillOpen) {
  ManualClock clock(0);
  SenderEpochKeys sender(clock, EpochPolicy{seconds(3600), 3}, 100);
  const BoxKeyPair recipient = BoxKeyPair::Generate();
  std::vector<SenderEpochKeys::Wrap> wraps;
  std::vector<std::string> payload_keys;
  for (int i = 0; i < 7; ++i) {
    const SecretBytes payload_key = NewPayloadKey();
    payload_keys.push_back(Hex(payload_key));
    wraps.push_back(*sender.WrapFor(recipient.public_key, "m" + std::to_string(i), payload_key));
  }
  const std::vector<uint64_t> epochs = {100, 100, 100, 101, 101, 101, 102};
  for (size_t i = 0; i < wraps.size(); ++i) {
    EXPECT_EQ(wraps[i].epoch_id, epochs[i]) << i;
    const SecretBytes key =
        *RecipientEpochKey(recipient, wraps[i].epoch_public, wraps[i].epoch_id, kOut);
    EXPECT_EQ(Hex(*UnwrapPayloadKey(key, "m" + std::to_string(i), wraps[i].wrapped)),
              payload_keys[i]);
  }
  EXPECT_NE(wraps[0].epoch_public, wraps[3].epoch_public);
  EXPECT_NE(wraps[3].epoch_public, wraps[6].epoch_public);
  EXPECT_EQ(wraps[0].epoch_public, wraps[2].epoch_public);
  EXPECT_EQ(sender.wraps_in_epoch(), 1u);
  // A wrap under an old epoch does not open with the new epoch's key.
  EXPECT_FALSE(UnwrapPayloadKey(*RecipientEpochKey(recipient, wraps[6].epoch_public, 102, kOut),
                                "m0", wraps[0].wrapped)
                   .ok());
}

TEST(SenderEpochKeysTest, RotationByAgeWipesTheSecretAndTheAgreedKeys) {
  ManualClock clock(0);
  SenderEpochKeys sender(clock, EpochPolicy{seconds(60), 1'000});
  const BoxKeyPair recipient = BoxKeyPair::Generate();
  ASSERT_TRUE(sender.WrapFor(recipient.public_key, "a", NewPayloadKey()).ok());
  EXPECT_FALSE(AllZero(sender.SecretStorageForTesting()));
  // The storage holds the secret whose public key the epoch names.
  BoxKeyPair from_storage = *BoxKeyPair::FromSecret(
      std::string_view(reinterpret_cast<const char*>(sender.SecretStorageForTesting().data()),
                       sender.SecretStorageForTesting().size()));
  EXPECT_EQ(from_storage.public_key, sender.epoch_public());
  const std::string first_public = sender.epoch_public();

  clock.Advance(59'999'999);
  EXPECT_FALSE(sender.Due());
  EXPECT_FALSE(sender.RotateIfDue());
  clock.Advance(1);
  EXPECT_TRUE(sender.Due());
  EXPECT_TRUE(sender.RotateIfDue());
  EXPECT_FALSE(sender.live());
  EXPECT_TRUE(AllZero(sender.SecretStorageForTesting()));
  EXPECT_EQ(sender.agreed_keys(), 0u);

  Result<SenderEpochKeys::Wrap> next = sender.WrapFor(recipient.public_key, "b", NewPayloadKey());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->epoch_id, 2u);
  EXPECT_NE(next->epoch_public, first_public);
  EXPECT_FALSE(AllZero(sender.SecretStorageForTesting()));

  // WrapFor rotates by itself when the epoch is due.
  clock.Advance(60'000'000);
  Result<SenderEpochKeys::Wrap> third = sender.WrapFor(recipient.public_key, "c", NewPayloadKey());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->epoch_id, 3u);

  sender.Retire();
  EXPECT_TRUE(AllZero(sender.SecretStorageForTesting()));
  EXPECT_EQ(sender.agreed_keys(), 0u);
  EXPECT_FALSE(sender.Due());
}

TEST(SenderEpochKeysTest, DestructionWipesTheSecret) {
  ManualClock clock(0);
  alignas(SenderEpochKeys) unsigned char storage[sizeof(SenderEpochKeys)];
  auto* sender = new (storage) SenderEpochKeys(clock);
  ASSERT_TRUE(sender->WrapFor(BoxKeyPair::Generate().public_key, "a", NewPayloadKey()).ok());
  const std::span<const unsigned char> secret = sender->SecretStorageForTesting();
  const size_t offset = static_cast<size_t>(secret.data() - storage);
  ASSERT_LE(offset + secret.size(), sizeof(storage)) << "the secret lives inside the object";
  ASSERT_FALSE(AllZero(secret));
  sender->~SenderEpochKeys();
  EXPECT_TRUE(AllZero(std::span<const unsigned char>(storage + offset, secret.size())));
}

// ---- RecipientEpochKeys ----

TEST(RecipientEpochKeysTest, DerivesOncePerEpochAndOpensEveryWrapOfIt) {
  ManualClock clock(0);
  SenderEpochKeys sender(clock, EpochPolicy{seconds(3600), 5});
  const BoxKeyPair recipient = BoxKeyPair::Generate();
  RecipientEpochKeys keys(recipient);
  for (int i = 0; i < 12; ++i) {  // epochs of 5, 5 and 2 wraps
    const std::string id = "m" + std::to_string(i);
    const SecretBytes payload_key = NewPayloadKey();
    const SenderEpochKeys::Wrap wrap = *sender.WrapFor(recipient.public_key, id, payload_key);
    Result<SecretBytes> opened = keys.Unwrap(wrap.epoch_public, wrap.epoch_id, id, wrap.wrapped);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(Hex(*opened), Hex(payload_key));
    // A changed id or epoch id fails, from the cache as from a fresh derivation.
    EXPECT_EQ(keys.Unwrap(wrap.epoch_public, wrap.epoch_id, id + "x", wrap.wrapped).status().code(),
              Code::kDecryptFailed);
  }
  EXPECT_EQ(keys.derivations(), 3u);
  EXPECT_EQ(keys.size(), 3u);
}

TEST(RecipientEpochKeysTest, KeepsOnlyKeysThatOpenedAWrapAndIsBounded) {
  const BoxKeyPair recipient = BoxKeyPair::Generate();
  RecipientEpochKeys keys(recipient, 2);
  const BoxKeyPair epoch = BoxKeyPair::Generate();
  // Garbage from a stranger's epoch: derived, refused, not kept.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(keys.Unwrap(epoch.public_key, 1, "m", std::string(kEpochWrappedKeyBytes, 'x'))
                  .status()
                  .code(),
              Code::kDecryptFailed);
  }
  EXPECT_EQ(keys.derivations(), 3u);
  EXPECT_EQ(keys.size(), 0u);
  EXPECT_EQ(keys.Unwrap(std::string(32, '\0'), 1, "m", std::string(72, 'x')).status().code(),
            Code::kDecryptFailed)
      << "a low-order epoch key";
  auto wrap_for = [&](uint64_t epoch_id) {
    const SecretBytes key = *SenderEpochKey(epoch, recipient.public_key, epoch_id, kOut);
    return *WrapPayloadKey(key, "m", NewPayloadKey());
  };
  const std::string w1 = wrap_for(1);
  const std::string w2 = wrap_for(2);
  const std::string w3 = wrap_for(3);
  ASSERT_TRUE(keys.Unwrap(epoch.public_key, 1, "m", w1).ok());
  ASSERT_TRUE(keys.Unwrap(epoch.public_key, 2, "m", w2).ok());
  ASSERT_TRUE(keys.Unwrap(epoch.public_key, 1, "m", w1).ok());  // 1 is the most recent
  const uint64_t before = keys.derivations();
  ASSERT_TRUE(keys.Unwrap(epoch.public_key, 3, "m", w3).ok());  // evicts 2
  EXPECT_EQ(keys.size(), 2u);
  ASSERT_TRUE(keys.Unwrap(epoch.public_key, 1, "m", w1).ok());
  EXPECT_EQ(keys.derivations(), before + 1) << "1 stayed";
  ASSERT_TRUE(keys.Unwrap(epoch.public_key, 2, "m", w2).ok());
  EXPECT_EQ(keys.derivations(), before + 2) << "2 was evicted and derived again";
}

// ---- The fixed vector of docs/PROTOCOL_V2.md ("Test vectors") ----

constexpr std::string_view kEpochSecretHex =
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
constexpr std::string_view kRecipientSecretHex =
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f";
constexpr std::string_view kPayloadKeyHex =
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf";
constexpr std::string_view kNonceHex = "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7";
constexpr uint64_t kVectorEpochId = 7;
constexpr std::string_view kVectorMessageId = "0195a3c4-6e2f-7d41-9b0a-3f6c2e8d1a57";

constexpr std::string_view kVectorEpochPublicHex =
    "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c";
constexpr std::string_view kVectorRecipientPublicHex =
    "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f";
constexpr std::string_view kVectorEpochKeyHex =
    "6fc8a970e63e440e5c5c73738d9587acc175fba00c16ff128bcacac078ee9824";
constexpr std::string_view kVectorWrappedHex =
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7"
    "827e159966cfa9e8d7fd1b193c8b9205db2e38f5c281f75b251163e88fa70b64"
    "fc1f41715626e7dd6763e58860ffc3b6";

TEST(EpochKeysVectorsTest, TheFixedPairHasTheWrittenEpochKeyAndWrap) {
  const BoxKeyPair epoch = *BoxKeyPair::FromSecret(Unhex(kEpochSecretHex));
  const BoxKeyPair recipient = *BoxKeyPair::FromSecret(Unhex(kRecipientSecretHex));
  EXPECT_EQ(ToHex(epoch.public_key), kVectorEpochPublicHex);
  EXPECT_EQ(ToHex(recipient.public_key), kVectorRecipientPublicHex);
  const SecretBytes key = *SenderEpochKey(epoch, recipient.public_key, kVectorEpochId, kOut);
  EXPECT_EQ(Hex(key), kVectorEpochKeyHex);
  EXPECT_EQ(Hex(*RecipientEpochKey(recipient, epoch.public_key, kVectorEpochId, kOut)),
            kVectorEpochKeyHex);
  const SecretBytes payload_key(Unhex(kPayloadKeyHex));
  Result<std::string> wrapped =
      WrapPayloadKeyWithNonce(key, kVectorMessageId, payload_key, Unhex(kNonceHex));
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(ToHex(*wrapped), kVectorWrappedHex);
  Result<SecretBytes> opened = UnwrapPayloadKey(key, kVectorMessageId, Unhex(kVectorWrappedHex));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Hex(*opened), kPayloadKeyHex);
}

}  // namespace
}  // namespace stafett::core
