// libsodium wrappers: initialisation, signatures, sealed boxes, AEAD, hashes, random, key ids.
// Thread-safety: all functions are thread-safe once EnsureSodiumInitialised has run (it runs
// implicitly, once, behind a function-local static).
#include "stafett/core/crypto.h"

#include <sodium.h>

#include <cstdlib>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

unsigned char* MutableBytes(std::string& text) {
  return reinterpret_cast<unsigned char*>(text.data());
}

}  // namespace

void EnsureSodiumInitialised() {
  // sodium_init is itself idempotent; the static makes the first call race-free and cheap after.
  static const bool initialised = [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing safe to do
    return true;
  }();
  (void)initialised;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Sign(const SigningKeyPair& key, std::string_view message) {
  EnsureSodiumInitialised();
  if (key.secret_key.size() != crypto_sign_SECRETKEYBYTES) return "";
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(MutableBytes(signature), nullptr, Bytes(message), message.size(),
                       key.secret_key.data());
  return signature;
}

bool Verify(std::string_view public_key32, std::string_view message, std::string_view signature) {
  EnsureSodiumInitialised();
  if (public_key32.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(Bytes(signature), Bytes(message), message.size(),
                                     Bytes(public_key32)) == 0;
}

std::string Seal(std::string_view recipient_public32, std::string_view plaintext) {
  EnsureSodiumInitialised();
  if (recipient_public32.size() != crypto_box_PUBLICKEYBYTES) return "";
  std::string sealed(plaintext.size() + crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal(MutableBytes(sealed), Bytes(plaintext), plaintext.size(),
                      Bytes(recipient_public32)) != 0) {
    return "";
  }
  return sealed;
}

Result<std::string> Unseal(const BoxKeyPair& keys, std::string_view sealed) {
  EnsureSodiumInitialised();
  if (sealed.size() < crypto_box_SEALBYTES || keys.public_key.size() != crypto_box_PUBLICKEYBYTES ||
      keys.secret_key.size() != crypto_box_SECRETKEYBYTES) {
    return Status(Code::kDecryptFailed, "sealed box: wrong size or key");
  }
  std::string plaintext(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(MutableBytes(plaintext), Bytes(sealed), sealed.size(),
                           Bytes(keys.public_key), keys.secret_key.data()) != 0) {
    return Status(Code::kDecryptFailed, "sealed box: does not open with this key");
  }
  return plaintext;
}

std::string AeadEncrypt(std::string_view key32, std::string_view plaintext, std::string_view ad) {
  EnsureSodiumInitialised();
  if (key32.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) return "";
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  randombytes_buf(out.data(), kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(MutableBytes(out) + kNonce, &written, Bytes(plaintext),
                                             plaintext.size(), Bytes(ad), ad.size(), nullptr,
                                             MutableBytes(out), Bytes(key32));
  out.resize(kNonce + written);
  return out;
}

Result<std::string> AeadDecrypt(std::string_view key32, std::string_view nonce_and_ciphertext,
                                std::string_view ad) {
  EnsureSodiumInitialised();
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (key32.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES ||
      nonce_and_ciphertext.size() < kNonce + kTag) {
    return Status(Code::kDecryptFailed, "aead: wrong key or input size");
  }
  const std::string_view ciphertext = nonce_and_ciphertext.substr(kNonce);
  std::string plaintext(ciphertext.size() - kTag, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          MutableBytes(plaintext), &written, nullptr, Bytes(ciphertext), ciphertext.size(),
          Bytes(ad), ad.size(), Bytes(nonce_and_ciphertext), Bytes(key32)) != 0) {
    sodium_memzero(plaintext.data(), plaintext.size());
    return Status(Code::kDecryptFailed, "aead: authentication failed");
  }
  plaintext.resize(written);
  return plaintext;
}

std::string Sha256(std::string_view data) {
  EnsureSodiumInitialised();
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(MutableBytes(digest), Bytes(data), data.size());
  return digest;
}

std::string Blake2b256(std::string_view data, std::string_view key) {
  EnsureSodiumInitialised();
  if (!key.empty() && (key.size() < crypto_generichash_KEYBYTES_MIN ||
                       key.size() > crypto_generichash_KEYBYTES_MAX)) {
    return "";
  }
  std::string digest(32, '\0');
  crypto_generichash(MutableBytes(digest), digest.size(), Bytes(data), data.size(),
                     key.empty() ? nullptr : Bytes(key), key.size());
  return digest;
}

std::string RandomBytes(size_t count) {
  EnsureSodiumInitialised();
  std::string bytes(count, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  return bytes;
}

std::string KeyIdOf(std::string_view transport_pub, std::string_view encryption_pub,
                    std::string_view signing_pub) {
  const std::string zeros(32, '\0');
  std::string input;
  for (std::string_view key : {transport_pub, encryption_pub, signing_pub}) {
    input.append(key.empty() ? std::string_view(zeros) : key);
  }
  return ToHex(Blake2b256(input).substr(0, 8));
}

}  // namespace stafett::core
