// Protocol v2 per-pair epoch keys (issue 17; built, not yet on the wire): instead of a sealed box
// per message per recipient, a sender holds an ephemeral X25519 epoch key pair; with each
// recipient's X25519 encryption key it agrees one epoch key (X25519 + BLAKE2b-256 over both public
// keys, the epoch id and the direction), and wraps every message's fresh payload key under it with
// XChaCha20-Poly1305, the message id as associated data. SenderEpochKeys rotates the epoch by age
// and count and wipes its secret. Byte formats: docs/PROTOCOL_V2.md; the exposure trade-off:
// docs/SECURITY.md. RecipientEpochKeys keeps a recipient's derived keys. Thread-safety: free
// functions are pure; SenderEpochKeys needs external synchronisation (one sending thread);
// RecipientEpochKeys is safe for concurrent use.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/status.h"

namespace stafett::core {

// epoch key = BLAKE2b-256(kEpochKdfLabel || X25519(secret, peer public) || epoch public ||
// recipient public || be64(epoch id) || direction byte). Unkeyed, 32 bytes out.
inline constexpr std::string_view kEpochKdfLabel = "stafett-epoch-key-v1\n";
// A wrap's associated data: kKeyWrapAdPrefix || message id.
inline constexpr std::string_view kKeyWrapAdPrefix = "stafett-key-wrap-v1\n";
inline constexpr size_t kEpochKeyBytes = 32;
inline constexpr size_t kPayloadKeyBytes = kAeadKeyBytes;  // 32
// nonce(24) || XChaCha20-Poly1305 ciphertext of the payload key (32) || tag(16).
inline constexpr size_t kEpochWrappedKeyBytes = kAeadNonceBytes + kPayloadKeyBytes + kAeadTagBytes;

// Which way an epoch key protects: one agreement gives two independent keys, so nothing the
// recipient might ever encrypt back under it can be confused with the sender's wraps. The wraps of
// payload keys use kSenderToRecipient.
enum class EpochDirection : uint8_t { kSenderToRecipient = 0x01, kRecipientToSender = 0x02 };

// The sender's side: from its epoch key pair and the recipient's encryption public key.
// kKeyInvalid for keys of the wrong size or a recipient key that is a low-order point.
[[nodiscard]] Result<SecretBytes> SenderEpochKey(const BoxKeyPair& epoch_keys,
                                                 std::string_view recipient_public32,
                                                 uint64_t epoch_id, EpochDirection direction);
// The recipient's side: from its encryption key pair and the epoch public key the sender named.
// The same 32 bytes as SenderEpochKey for the same pair, epoch id and direction. kDecryptFailed
// for an epoch public key of the wrong size or a low-order point (it comes from the wire),
// kKeyInvalid for a recipient key pair of the wrong size.
[[nodiscard]] Result<SecretBytes> RecipientEpochKey(const BoxKeyPair& recipient_keys,
                                                    std::string_view epoch_public32,
                                                    uint64_t epoch_id, EpochDirection direction);

// A fresh random payload key (32 bytes).
[[nodiscard]] SecretBytes NewPayloadKey();

// nonce(24, random) || XChaCha20-Poly1305-IETF(payload key, ad = kKeyWrapAdPrefix || message id,
// epoch key): kEpochWrappedKeyBytes bytes. kKeyInvalid if a key is not 32 bytes.
[[nodiscard]] Result<std::string> WrapPayloadKey(const SecretBytes& epoch_key,
                                                 std::string_view message_id,
                                                 const SecretBytes& payload_key);
// The same with the nonce given: for test vectors only (a nonce must never repeat under a key).
[[nodiscard]] Result<std::string> WrapPayloadKeyWithNonce(const SecretBytes& epoch_key,
                                                          std::string_view message_id,
                                                          const SecretBytes& payload_key,
                                                          std::string_view nonce24);
// The payload key, or kDecryptFailed: wrong size, another pair's, epoch's or direction's key, a
// different message id, or altered bytes.
[[nodiscard]] Result<SecretBytes> UnwrapPayloadKey(const SecretBytes& epoch_key,
                                                   std::string_view message_id,
                                                   std::string_view wrapped);

// When a sender starts a new epoch. Defaults: an hour or 100,000 wraps, whichever comes first.
// An hour bounds in time what one stolen epoch secret exposes; 100,000 wraps bounds it in
// messages (a busy sender reaches it in minutes, a county's agent rarely in an hour). Neither is
// needed for the nonces: with 192-bit random nonces a collision under one key takes ~2^80 wraps
// for a 2^-32 chance.
struct EpochPolicy {
  std::chrono::seconds max_age{3600};
  uint64_t max_wraps = 100'000;
};

// A sender's epochs: the live ephemeral X25519 key pair, its epoch id, its age and wrap count, and
// the epoch keys it agreed with recipients so far (each derived once per epoch). Rotation wipes
// the secret and every agreed key (sodium_memzero) before the next epoch begins; so does the
// destructor. The secret lives inside this object (not on the heap), so nothing of it survives
// a rotation elsewhere in memory.
class SenderEpochKeys {
 public:
  // Epoch ids count up by one per epoch from `first_epoch_id` (an agent starts from the last id
  // it used + 1, so a recipient never sees an id again with another key).
  explicit SenderEpochKeys(const Clock& clock, EpochPolicy policy = {},
                           uint64_t first_epoch_id = 1);
  ~SenderEpochKeys();
  SenderEpochKeys(const SenderEpochKeys&) = delete;
  SenderEpochKeys& operator=(const SenderEpochKeys&) = delete;

  struct Wrap {
    uint64_t epoch_id = 0;
    std::string epoch_public;  // 32 bytes: goes into the signed header with the epoch id
    std::string wrapped;       // kEpochWrappedKeyBytes
  };

  // Rotates first if the live epoch is due (or starts one if none is live), then wraps
  // `payload_key` for the recipient and counts one wrap. kKeyInvalid for a bad recipient key.
  [[nodiscard]] Result<Wrap> WrapFor(std::string_view recipient_public32,
                                     std::string_view message_id, const SecretBytes& payload_key);

  // Whether the live epoch has reached its age or count (false when none is live).
  [[nodiscard]] bool Due() const;
  // Retires the live epoch if it is due; true if it did. The next WrapFor starts a new one.
  bool RotateIfDue();
  // Wipes the live epoch now (its secret and agreed keys); the next WrapFor starts a new one.
  void Retire();

  bool live() const { return live_; }
  // The live epoch's id and public key (meaningful while live()).
  uint64_t epoch_id() const { return epoch_id_; }
  const std::string& epoch_public() const { return public_; }
  uint64_t wraps_in_epoch() const { return wraps_; }
  size_t agreed_keys() const { return agreed_.size(); }
  // The storage of the epoch secret inside this object: for the tests that check the wipe.
  std::span<const unsigned char> SecretStorageForTesting() const { return secret_; }

  // Agreed keys kept per epoch; beyond it they are wiped and agreed again (one X25519 each).
  static constexpr size_t kMaxAgreedKeys = 1024;

 private:
  struct Agreed {
    std::string recipient_public;
    SecretBytes key;
  };
  void Start();
  Result<const SecretBytes*> AgreedKey(std::string_view recipient_public32);

  const Clock& clock_;
  const EpochPolicy policy_;
  uint64_t next_epoch_id_;
  bool live_ = false;
  uint64_t epoch_id_ = 0;
  std::array<unsigned char, 32> secret_{};
  std::string public_;
  MonotonicTime started_{};
  uint64_t wraps_ = 0;
  std::vector<Agreed> agreed_;
};

// A recipient's side of the epochs: the epoch keys it derived, one X25519 per (epoch public key,
// epoch id, direction), kept for the epoch's later messages. A key is kept only once a wrap opened
// with it, so wraps that fail cost a derivation each and never fill the cache. Bounded; the least
// recently used key is wiped (SecretBytes) and dropped beyond the capacity. Safe for concurrent
// use (a mutex; X25519 runs outside it).
class RecipientEpochKeys {
 public:
  static constexpr size_t kDefaultCapacity = 1024;
  explicit RecipientEpochKeys(BoxKeyPair recipient_keys, size_t capacity = kDefaultCapacity);

  // The payload key of `message_id` wrapped under the epoch (epoch_public32, epoch_id) in the
  // sender-to-recipient direction. kDecryptFailed as UnwrapPayloadKey and RecipientEpochKey.
  [[nodiscard]] Result<SecretBytes> Unwrap(std::string_view epoch_public32, uint64_t epoch_id,
                                           std::string_view message_id, std::string_view wrapped);

  // How many epoch keys were derived (X25519 + KDF), and how many are kept.
  uint64_t derivations() const;
  size_t size() const;

 private:
  struct Kept {
    SecretBytes key;
    uint64_t last_used = 0;
  };
  const BoxKeyPair keys_;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, Kept> kept_;  // by epoch public || be64(epoch id)
  uint64_t clock_ = 0;                // use counter for least-recently-used eviction
  uint64_t derivations_ = 0;
};

}  // namespace stafett::core
