// Thin typed wrappers over libsodium: key pairs, signatures, sealed boxes, AEAD, hashes, random.
// Keys and buffers are raw bytes in std::string; secrets live in SecretBytes (zeroed on release).
// Thread-safety: free functions are thread-safe (libsodium is initialised once, thread-safely);
// key objects are values, safe to share for reading.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::core {

inline constexpr size_t kSigningPublicKeyBytes = 32;
inline constexpr size_t kSigningSecretKeyBytes = 64;  // libsodium layout: seed(32) || public(32)
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kBoxPublicKeyBytes = 32;
inline constexpr size_t kBoxSecretKeyBytes = 32;
inline constexpr size_t kSealOverheadBytes = 48;  // crypto_box_SEALBYTES
inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 24;
inline constexpr size_t kAeadTagBytes = 16;
inline constexpr size_t kDigestBytes = 32;
inline constexpr size_t kKeyIdHexChars = 16;

// Calls sodium_init() once per process (thread-safe); every function here does it implicitly.
void EnsureSodiumInitialised();

// Secret key material: a byte buffer wiped with sodium_memzero when destroyed or overwritten.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);  // zero-filled
  explicit SecretBytes(std::string_view bytes);
  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  unsigned char* data() { return bytes_.data(); }
  const unsigned char* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // A view of the raw bytes; valid while this object lives and is not modified.
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

 private:
  void Wipe();
  std::vector<unsigned char> bytes_;
};

// Constant-time comparison (sodium_memcmp); false when sizes differ.
[[nodiscard]] bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Ed25519 (crypto_sign): signs headers, receipts and audit tree heads.
struct SigningKeyPair {
  std::string public_key;  // 32 bytes
  SecretBytes secret_key;  // 64 bytes (seed || public)

  [[nodiscard]] static SigningKeyPair Generate();
  // From the 64-byte libsodium secret key; checks that its public half matches its seed.
  [[nodiscard]] static Result<SigningKeyPair> FromSecret(std::string_view secret64);
  // From a 32-byte seed (deterministic; for tests and key derivation).
  [[nodiscard]] static Result<SigningKeyPair> FromSeed(std::string_view seed32);
};

// X25519 (crypto_box): unwraps the payload keys sealed to an endpoint.
struct BoxKeyPair {
  std::string public_key;  // 32 bytes
  SecretBytes secret_key;  // 32 bytes

  [[nodiscard]] static BoxKeyPair Generate();
  // Derives the public key from the 32-byte secret (crypto_scalarmult_base).
  [[nodiscard]] static Result<BoxKeyPair> FromSecret(std::string_view secret32);
};

// Curve25519 for ZeroMQ CURVE (same key type as crypto_box); Z85 only at the edges.
struct TransportKeyPair {
  std::string public_key;  // 32 bytes raw
  SecretBytes secret_key;  // 32 bytes raw

  [[nodiscard]] static TransportKeyPair Generate();
  [[nodiscard]] static Result<TransportKeyPair> FromSecret(std::string_view secret32);
  // From the 40-character Z85 secret, as stored in key files.
  [[nodiscard]] static Result<TransportKeyPair> FromSecretZ85(std::string_view secret_z85);
  [[nodiscard]] std::string PublicZ85() const;
  [[nodiscard]] std::string SecretZ85() const;
};

// Detached Ed25519 signature, 64 bytes.
[[nodiscard]] std::string Sign(const SigningKeyPair& key, std::string_view message);
// False for a bad signature or wrongly sized key/signature.
[[nodiscard]] bool Verify(std::string_view public_key32, std::string_view message,
                          std::string_view signature);

// crypto_box_seal to a recipient's X25519 public key: output is plaintext size + 48 bytes.
// Returns "" if the public key is not 32 bytes.
[[nodiscard]] std::string Seal(std::string_view recipient_public32, std::string_view plaintext);
// kDecryptFailed if the box was not sealed to this key pair or was altered.
[[nodiscard]] Result<std::string> Unseal(const BoxKeyPair& keys, std::string_view sealed);

// XChaCha20-Poly1305 (IETF) with a random 24-byte nonce: returns nonce || ciphertext+tag.
// `ad` is authenticated, not encrypted. Returns "" if the key is not 32 bytes.
[[nodiscard]] std::string AeadEncrypt(std::string_view key32, std::string_view plaintext,
                                      std::string_view ad);
// kDecryptFailed on a wrong key, wrong ad, altered or truncated input.
[[nodiscard]] Result<std::string> AeadDecrypt(std::string_view key32,
                                              std::string_view nonce_and_ciphertext,
                                              std::string_view ad);

// SHA-256, 32 raw bytes.
[[nodiscard]] std::string Sha256(std::string_view data);
// BLAKE2b with 32-byte output, optionally keyed (key 16..64 bytes; returns "" for another size).
[[nodiscard]] std::string Blake2b256(std::string_view data, std::string_view key = {});
// Cryptographically secure random bytes (randombytes_buf).
[[nodiscard]] std::string RandomBytes(size_t count);

// A key set's id: lowercase hex of the first 8 bytes of BLAKE2b-256(transport || encryption ||
// signing) public keys; an empty key counts as 32 zero bytes. 16 characters.
[[nodiscard]] std::string KeyIdOf(std::string_view transport_pub, std::string_view encryption_pub,
                                  std::string_view signing_pub);

}  // namespace stafett::core
