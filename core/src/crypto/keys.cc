// SecretBytes and the typed key pairs (Ed25519 signing, X25519 box, Curve25519 transport).
// Thread-safety: values; distinct objects may be used from distinct threads.
#include <sodium.h>

#include <algorithm>

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string PublicOf(const unsigned char* public_key, size_t size) {
  return std::string(reinterpret_cast<const char*>(public_key), size);
}

// X25519 key pair from a 32-byte secret: shared by BoxKeyPair and TransportKeyPair.
template <typename KeyPair>
Result<KeyPair> Curve25519FromSecret(std::string_view secret32) {
  EnsureSodiumInitialised();
  if (secret32.size() != crypto_box_SECRETKEYBYTES) {
    return Status(Code::kKeyInvalid, "curve25519 secret key: must be 32 bytes");
  }
  KeyPair pair;
  pair.public_key.assign(crypto_box_PUBLICKEYBYTES, '\0');
  pair.secret_key = SecretBytes(secret32);
  if (crypto_scalarmult_base(reinterpret_cast<unsigned char*>(pair.public_key.data()),
                             pair.secret_key.data()) != 0) {
    return Status(Code::kKeyInvalid, "curve25519 secret key: unusable");
  }
  return pair;
}

template <typename KeyPair>
KeyPair Curve25519Generate() {
  EnsureSodiumInitialised();
  KeyPair pair;
  unsigned char public_key[crypto_box_PUBLICKEYBYTES];
  pair.secret_key = SecretBytes(crypto_box_SECRETKEYBYTES);
  crypto_box_keypair(public_key, pair.secret_key.data());
  pair.public_key = PublicOf(public_key, sizeof(public_key));
  return pair;
}

}  // namespace

SecretBytes::SecretBytes(size_t size) : bytes_(size, 0) {}

SecretBytes::SecretBytes(std::string_view bytes) : bytes_(bytes.begin(), bytes.end()) {}

SecretBytes::SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    Wipe();
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

void SecretBytes::Wipe() {
  if (!bytes_.empty()) sodium_memzero(bytes_.data(), bytes_.size());
}

SigningKeyPair SigningKeyPair::Generate() {
  EnsureSodiumInitialised();
  SigningKeyPair pair;
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  pair.secret_key = SecretBytes(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(public_key, pair.secret_key.data());
  pair.public_key = PublicOf(public_key, sizeof(public_key));
  return pair;
}

Result<SigningKeyPair> SigningKeyPair::FromSeed(std::string_view seed32) {
  EnsureSodiumInitialised();
  if (seed32.size() != crypto_sign_SEEDBYTES) {
    return Status(Code::kKeyInvalid, "ed25519 seed: must be 32 bytes");
  }
  SigningKeyPair pair;
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  pair.secret_key = SecretBytes(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(public_key, pair.secret_key.data(), Bytes(seed32));
  pair.public_key = PublicOf(public_key, sizeof(public_key));
  return pair;
}

Result<SigningKeyPair> SigningKeyPair::FromSecret(std::string_view secret64) {
  if (secret64.size() != crypto_sign_SECRETKEYBYTES) {
    return Status(Code::kKeyInvalid, "ed25519 secret key: must be 64 bytes");
  }
  Result<SigningKeyPair> pair = FromSeed(secret64.substr(0, crypto_sign_SEEDBYTES));
  if (!pair.ok()) return pair.status();
  if (!ConstantTimeEquals(pair->secret_key.view(), secret64)) {
    return Status(Code::kKeyInvalid, "ed25519 secret key: public half does not match the seed");
  }
  return pair;
}

BoxKeyPair BoxKeyPair::Generate() { return Curve25519Generate<BoxKeyPair>(); }

Result<BoxKeyPair> BoxKeyPair::FromSecret(std::string_view secret32) {
  return Curve25519FromSecret<BoxKeyPair>(secret32);
}

TransportKeyPair TransportKeyPair::Generate() { return Curve25519Generate<TransportKeyPair>(); }

Result<TransportKeyPair> TransportKeyPair::FromSecret(std::string_view secret32) {
  return Curve25519FromSecret<TransportKeyPair>(secret32);
}

Result<TransportKeyPair> TransportKeyPair::FromSecretZ85(std::string_view secret_z85) {
  std::optional<std::string> secret = FromZ85(secret_z85);
  if (!secret || secret->size() != crypto_box_SECRETKEYBYTES) {
    if (secret) sodium_memzero(secret->data(), secret->size());
    return Status(Code::kKeyInvalid, "transport secret key: must be 40 Z85 characters");
  }
  Result<TransportKeyPair> pair = FromSecret(*secret);
  sodium_memzero(secret->data(), secret->size());
  return pair;
}

std::string TransportKeyPair::PublicZ85() const { return ToZ85(public_key); }

std::string TransportKeyPair::SecretZ85() const { return ToZ85(secret_key.view()); }

}  // namespace stafett::core
