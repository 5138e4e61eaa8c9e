// Per-pair epoch keys: X25519 agreement and its KDF, payload-key wraps, and the sender's epochs
// with their rotation and wipe. Thread-safety: see the header.
#include "stafett/core/epoch_keys.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// The KDF. Why crypto_generichash (BLAKE2b-256) and not crypto_kx or crypto_kdf:
// - crypto_kx computes BLAKE2b-512(q || client_pk || server_pk) and splits it into a receive and
//   a transmit key. That binds both public keys and the direction, but it has no input for the
//   epoch id or a protocol label, so the same pair of keys would give the same session keys in
//   any protocol that used them, and binding the epoch id would need a second derivation.
// - crypto_kdf derives subkeys from a 32-byte master key with an 8-byte context and a 64-bit
//   subkey id; it needs the master key first, i.e. a hash of q and the public keys anyway.
// One unkeyed BLAKE2b-256 over a label and fixed-length fields is what crypto_kx does inside,
// binds everything we need (label, shared point, both public keys, epoch id, direction) in one
// step, is unambiguous (every field has a fixed length), and any language's BLAKE2b reproduces
// it. The shared point q never leaves this function and is wiped; X25519 rejects (returns -1
// for) a peer key of small order, whose q would be all zeros.
Result<SecretBytes> DeriveEpochKey(const unsigned char* own_secret, std::string_view peer_public,
                                   std::string_view epoch_public, std::string_view recipient_public,
                                   uint64_t epoch_id, EpochDirection direction,
                                   Code peer_key_error) {
  EnsureSodiumInitialised();
  SecretBytes shared(crypto_scalarmult_BYTES);
  if (crypto_scalarmult(shared.data(), own_secret, Bytes(peer_public)) != 0) {
    return Status(peer_key_error, "epoch key: the peer's X25519 key is a low-order point");
  }
  std::string tail = BigEndian64(epoch_id);  // be64(epoch id) || direction byte
  tail.push_back(static_cast<char>(direction));
  SecretBytes key(kEpochKeyBytes);
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, key.size());
  crypto_generichash_update(&state, Bytes(kEpochKdfLabel), kEpochKdfLabel.size());
  crypto_generichash_update(&state, shared.data(), shared.size());
  crypto_generichash_update(&state, Bytes(epoch_public), epoch_public.size());
  crypto_generichash_update(&state, Bytes(recipient_public), recipient_public.size());
  crypto_generichash_update(&state, Bytes(tail), tail.size());
  crypto_generichash_final(&state, key.data(), key.size());
  sodium_memzero(&state, sizeof(state));
  return key;
}

std::string WrapAd(std::string_view message_id) {
  std::string ad(kKeyWrapAdPrefix);
  ad.append(message_id);
  return ad;
}

bool IsDirection(EpochDirection direction) {
  return direction == EpochDirection::kSenderToRecipient ||
         direction == EpochDirection::kRecipientToSender;
}

}  // namespace

Result<SecretBytes> SenderEpochKey(const BoxKeyPair& epoch_keys,
                                   std::string_view recipient_public32, uint64_t epoch_id,
                                   EpochDirection direction) {
  if (epoch_keys.secret_key.size() != kBoxSecretKeyBytes ||
      epoch_keys.public_key.size() != kBoxPublicKeyBytes) {
    return Status(Code::kKeyInvalid, "epoch key: the epoch key pair is not 32 + 32 bytes");
  }
  if (recipient_public32.size() != kBoxPublicKeyBytes) {
    return Status(Code::kKeyInvalid, "epoch key: the recipient's key is not 32 bytes");
  }
  if (!IsDirection(direction)) return Status(Code::kInternal, "epoch key: unknown direction");
  return DeriveEpochKey(epoch_keys.secret_key.data(), recipient_public32, epoch_keys.public_key,
                        recipient_public32, epoch_id, direction, Code::kKeyInvalid);
}

Result<SecretBytes> RecipientEpochKey(const BoxKeyPair& recipient_keys,
                                      std::string_view epoch_public32, uint64_t epoch_id,
                                      EpochDirection direction) {
  if (recipient_keys.secret_key.size() != kBoxSecretKeyBytes ||
      recipient_keys.public_key.size() != kBoxPublicKeyBytes) {
    return Status(Code::kKeyInvalid, "epoch key: the recipient key pair is not 32 + 32 bytes");
  }
  if (epoch_public32.size() != kBoxPublicKeyBytes) {
    return Status(Code::kDecryptFailed, "epoch key: the epoch public key is not 32 bytes");
  }
  if (!IsDirection(direction)) return Status(Code::kInternal, "epoch key: unknown direction");
  return DeriveEpochKey(recipient_keys.secret_key.data(), epoch_public32, epoch_public32,
                        recipient_keys.public_key, epoch_id, direction, Code::kDecryptFailed);
}

SecretBytes NewPayloadKey() {
  EnsureSodiumInitialised();
  SecretBytes key(kPayloadKeyBytes);
  randombytes_buf(key.data(), key.size());
  return key;
}

Result<std::string> WrapPayloadKeyWithNonce(const SecretBytes& epoch_key,
                                            std::string_view message_id,
                                            const SecretBytes& payload_key,
                                            std::string_view nonce24) {
  EnsureSodiumInitialised();
  if (epoch_key.size() != kEpochKeyBytes || payload_key.size() != kPayloadKeyBytes) {
    return Status(Code::kKeyInvalid, "key wrap: the epoch or payload key is not 32 bytes");
  }
  if (nonce24.size() != kAeadNonceBytes) {
    return Status(Code::kInternal, "key wrap: the nonce is not 24 bytes");
  }
  const std::string ad = WrapAd(message_id);
  std::string out(kEpochWrappedKeyBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  std::copy(nonce24.begin(), nonce24.end(), out.begin());
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(bytes + kAeadNonceBytes, &written, payload_key.data(),
                                             payload_key.size(), Bytes(ad), ad.size(), nullptr,
                                             bytes, epoch_key.data());
  if (written != kPayloadKeyBytes + kAeadTagBytes) {
    return Status(Code::kInternal, "key wrap: unexpected ciphertext length");
  }
  return out;
}

Result<std::string> WrapPayloadKey(const SecretBytes& epoch_key, std::string_view message_id,
                                   const SecretBytes& payload_key) {
  EnsureSodiumInitialised();
  unsigned char nonce[kAeadNonceBytes];
  randombytes_buf(nonce, sizeof(nonce));
  return WrapPayloadKeyWithNonce(
      epoch_key, message_id, payload_key,
      std::string_view(reinterpret_cast<const char*>(nonce), sizeof(nonce)));
}

Result<SecretBytes> UnwrapPayloadKey(const SecretBytes& epoch_key, std::string_view message_id,
                                     std::string_view wrapped) {
  EnsureSodiumInitialised();
  if (epoch_key.size() != kEpochKeyBytes) {
    return Status(Code::kDecryptFailed, "key unwrap: the epoch key is not 32 bytes");
  }
  if (wrapped.size() != kEpochWrappedKeyBytes) {
    return Status(Code::kDecryptFailed, "key unwrap: the wrapped key is not " +
                                            std::to_string(kEpochWrappedKeyBytes) + " bytes");
  }
  const std::string ad = WrapAd(message_id);
  SecretBytes key(kPayloadKeyBytes);
  unsigned long long written = 0;
  const std::string_view ciphertext = wrapped.substr(kAeadNonceBytes);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(key.data(), &written, nullptr, Bytes(ciphertext),
                                                 ciphertext.size(), Bytes(ad), ad.size(),
                                                 Bytes(wrapped), epoch_key.data()) != 0 ||
      written != kPayloadKeyBytes) {
    return Status(Code::kDecryptFailed,
                  "key unwrap: does not authenticate (another pair, epoch or message id, or "
                  "altered)");
  }
  return key;
}

SenderEpochKeys::SenderEpochKeys(const Clock& clock, EpochPolicy policy, uint64_t first_epoch_id)
    : clock_(clock), policy_(policy), next_epoch_id_(first_epoch_id) {}

SenderEpochKeys::~SenderEpochKeys() { Retire(); }

void SenderEpochKeys::Start() {
  EnsureSodiumInitialised();
  randombytes_buf(secret_.data(), secret_.size());
  public_.assign(crypto_scalarmult_BYTES, '\0');
  crypto_scalarmult_base(reinterpret_cast<unsigned char*>(public_.data()), secret_.data());
  epoch_id_ = next_epoch_id_++;
  started_ = clock_.MonotonicNow();
  wraps_ = 0;
  live_ = true;
}

void SenderEpochKeys::Retire() {
  sodium_memzero(secret_.data(), secret_.size());
  agreed_.clear();  // each SecretBytes wipes itself
  live_ = false;
}

bool SenderEpochKeys::Due() const {
  if (!live_) return false;
  return wraps_ >= policy_.max_wraps || clock_.MonotonicNow() - started_ >= policy_.max_age;
}

bool SenderEpochKeys::RotateIfDue() {
  if (!Due()) return false;
  Retire();
  return true;
}

Result<const SecretBytes*> SenderEpochKeys::AgreedKey(std::string_view recipient_public32) {
  for (const Agreed& agreed : agreed_) {
    if (agreed.recipient_public == recipient_public32) return &agreed.key;
  }
  if (recipient_public32.size() != kBoxPublicKeyBytes) {
    return Status(Code::kKeyInvalid, "epoch key: the recipient's key is not 32 bytes");
  }
  Result<SecretBytes> key =
      DeriveEpochKey(secret_.data(), recipient_public32, public_, recipient_public32, epoch_id_,
                     EpochDirection::kSenderToRecipient, Code::kKeyInvalid);
  if (!key.ok()) return key.status();
  if (agreed_.size() >= kMaxAgreedKeys) agreed_.clear();
  agreed_.push_back(Agreed{std::string(recipient_public32), std::move(key).value()});
  return &agreed_.back().key;
}

Result<SenderEpochKeys::Wrap> SenderEpochKeys::WrapFor(std::string_view recipient_public32,
                                                       std::string_view message_id,
                                                       const SecretBytes& payload_key) {
  RotateIfDue();
  if (!live_) Start();
  Result<const SecretBytes*> key = AgreedKey(recipient_public32);
  if (!key.ok()) return key.status();
  Result<std::string> wrapped = WrapPayloadKey(**key, message_id, payload_key);
  if (!wrapped.ok()) return wrapped.status();
  ++wraps_;
  return Wrap{epoch_id_, public_, std::move(wrapped).value()};
}

RecipientEpochKeys::RecipientEpochKeys(BoxKeyPair recipient_keys, size_t capacity)
    : keys_(std::move(recipient_keys)), capacity_(std::max<size_t>(capacity, 1)) {}

Result<SecretBytes> RecipientEpochKeys::Unwrap(std::string_view epoch_public32, uint64_t epoch_id,
                                               std::string_view message_id,
                                               std::string_view wrapped) {
  std::string id(epoch_public32);
  AppendBigEndian64(epoch_id, &id);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = kept_.find(id);
    if (found != kept_.end()) {
      found->second.last_used = ++clock_;
      return UnwrapPayloadKey(found->second.key, message_id, wrapped);
    }
    ++derivations_;
  }
  Result<SecretBytes> key =
      RecipientEpochKey(keys_, epoch_public32, epoch_id, EpochDirection::kSenderToRecipient);
  if (!key.ok()) return key.status();
  Result<SecretBytes> payload_key = UnwrapPayloadKey(*key, message_id, wrapped);
  if (!payload_key.ok()) return payload_key.status();
  std::lock_guard<std::mutex> lock(mutex_);
  // A linear scan, once per new epoch and sender: rare next to the wraps it saves.
  if (kept_.size() >= capacity_ && kept_.find(id) == kept_.end()) {
    auto oldest = std::min_element(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    kept_.erase(oldest);
  }
  Kept& kept = kept_[id];
  kept.key = std::move(key).value();
  kept.last_used = ++clock_;
  return payload_key;
}

uint64_t RecipientEpochKeys::derivations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return derivations_;
}

size_t RecipientEpochKeys::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return kept_.size();
}

}  // namespace stafett::core
