// Tests for the libsodium wrappers: known answers (RFC 8032, FIPS 180-2, RFC 7693 via Python's
// hashlib) and tamper checks. Thread-safety: n/a (test).
#include "stafett/core/crypto.h"

#include <gtest/gtest.h>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

std::string Hex(std::string_view hex) { return FromHex(hex).value(); }

std::string Flip(std::string bytes, size_t index) {
  bytes[index] = static_cast<char>(bytes[index] ^ 0x01);
  return bytes;
}

TEST(SigningTest, Rfc8032TestVectorOne) {
  Result<SigningKeyPair> key = SigningKeyPair::FromSeed(
      Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ToHex(key->public_key),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string signature = Sign(*key, "");
  EXPECT_EQ(ToHex(signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
            "39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(Verify(key->public_key, "", signature));
}

TEST(SigningTest, RejectsTamperingAndWrongKeys) {
  const SigningKeyPair key = SigningKeyPair::Generate();
  const SigningKeyPair other = SigningKeyPair::Generate();
  const std::string signature = Sign(key, "message");
  ASSERT_EQ(signature.size(), kSignatureBytes);
  EXPECT_TRUE(Verify(key.public_key, "message", signature));
  EXPECT_FALSE(Verify(key.public_key, "messagE", signature));
  EXPECT_FALSE(Verify(key.public_key, "message", Flip(signature, 10)));
  EXPECT_FALSE(Verify(other.public_key, "message", signature));
  EXPECT_FALSE(Verify(key.public_key.substr(1), "message", signature));
  EXPECT_FALSE(Verify(key.public_key, "message", signature.substr(1)));
}

TEST(SigningKeyPairTest, FromSecretChecksConsistency) {
  const SigningKeyPair key = SigningKeyPair::Generate();
  Result<SigningKeyPair> loaded = SigningKeyPair::FromSecret(key.secret_key.view());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key, key.public_key);
  std::string tampered(key.secret_key.view());
  tampered[40] ^= 1;  // the public half
  EXPECT_EQ(SigningKeyPair::FromSecret(tampered).status().code(), Code::kKeyInvalid);
  EXPECT_FALSE(SigningKeyPair::FromSecret("short").ok());
}

TEST(SealTest, RoundTripsToTheRecipientOnly) {
  const BoxKeyPair recipient = BoxKeyPair::Generate();
  const BoxKeyPair stranger = BoxKeyPair::Generate();
  const std::string sealed = Seal(recipient.public_key, "payload key");
  EXPECT_EQ(sealed.size(), 11 + kSealOverheadBytes);
  Result<std::string> opened = Unseal(recipient, sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "payload key");
  EXPECT_EQ(Unseal(stranger, sealed).status().code(), Code::kDecryptFailed);
  EXPECT_FALSE(Unseal(recipient, Flip(sealed, 50)).ok());
  EXPECT_FALSE(Unseal(recipient, sealed.substr(0, 10)).ok());
  EXPECT_EQ(Seal("short", "x"), "");
}

TEST(BoxKeyPairTest, FromSecretDerivesThePublicKey) {
  const BoxKeyPair key = BoxKeyPair::Generate();
  Result<BoxKeyPair> loaded = BoxKeyPair::FromSecret(key.secret_key.view());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key, key.public_key);
  EXPECT_FALSE(BoxKeyPair::FromSecret("short").ok());
}

TEST(TransportKeyPairTest, RoundTripsThroughZ85) {
  const TransportKeyPair key = TransportKeyPair::Generate();
  EXPECT_EQ(key.PublicZ85().size(), 40u);
  EXPECT_EQ(FromZ85(key.PublicZ85()), key.public_key);
  Result<TransportKeyPair> loaded = TransportKeyPair::FromSecretZ85(key.SecretZ85());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key, key.public_key);
  EXPECT_FALSE(TransportKeyPair::FromSecretZ85("HelloWorld").ok());
}

TEST(AeadTest, RoundTripsAndAuthenticates) {
  const std::string key = RandomBytes(kAeadKeyBytes);
  const std::string sealed = AeadEncrypt(key, "the referral", "ad");
  ASSERT_EQ(sealed.size(), kAeadNonceBytes + 12 + kAeadTagBytes);
  Result<std::string> opened = AeadDecrypt(key, sealed, "ad");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "the referral");
  EXPECT_EQ(AeadDecrypt(key, sealed, "other ad").status().code(), Code::kDecryptFailed);
  EXPECT_FALSE(AeadDecrypt(RandomBytes(kAeadKeyBytes), sealed, "ad").ok());
  EXPECT_FALSE(AeadDecrypt(key, Flip(sealed, 3), "ad").ok());                    // nonce
  EXPECT_FALSE(AeadDecrypt(key, Flip(sealed, kAeadNonceBytes + 1), "ad").ok());  // ciphertext
  EXPECT_FALSE(AeadDecrypt(key, sealed.substr(0, sealed.size() - 1), "ad").ok());
  EXPECT_FALSE(AeadDecrypt(key, sealed.substr(0, 10), "ad").ok());
  EXPECT_EQ(AeadEncrypt("short", "x", ""), "");
}

TEST(AeadTest, UsesAFreshNonceEachTime) {
  const std::string key = RandomBytes(kAeadKeyBytes);
  EXPECT_NE(AeadEncrypt(key, "same", ""), AeadEncrypt(key, "same", ""));
  Result<std::string> empty = AeadDecrypt(key, AeadEncrypt(key, "", ""), "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(HashTest, KnownAnswers) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Blake2b256("abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  EXPECT_EQ(ToHex(Blake2b256("")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(Blake2b256("abc", "too short"), "");
}

TEST(KeyIdTest, HashesTheThreePublicKeys) {
  // Python: hashlib.blake2b(bytes(96), digest_size=32).hexdigest()[:16]
  EXPECT_EQ(KeyIdOf("", "", ""), "39279c2e25193250");
  EXPECT_EQ(KeyIdOf(std::string(32, '\0'), "", std::string(32, '\0')), "39279c2e25193250");
  const std::string a = RandomBytes(32);
  EXPECT_EQ(KeyIdOf(a, "", "").size(), kKeyIdHexChars);
  EXPECT_NE(KeyIdOf(a, "", ""), KeyIdOf("", a, ""));
}

TEST(SecretBytesTest, CopiesMovesAndCompares) {
  SecretBytes secret(std::string_view("secret"));
  SecretBytes copy = secret;
  EXPECT_EQ(copy.view(), "secret");
  SecretBytes moved = std::move(copy);
  EXPECT_EQ(moved.view(), "secret");
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): documented state
  moved = SecretBytes(std::string_view("other"));
  EXPECT_EQ(moved.view(), "other");
  EXPECT_EQ(SecretBytes(4).view(), std::string(4, '\0'));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

TEST(RandomBytesTest, HasTheRequestedSize) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(33).size(), 33u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

}  // namespace
}  // namespace stafett::core
