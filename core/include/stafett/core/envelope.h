// The end-to-end envelope: a clear, signed header (canonical JSON), a detached Ed25519
// signature, and the payload encrypted once with a random key that is sealed per recipient.
// The byte format is specified in docs/ENVELOPE.md. Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/status.h"

namespace stafett::core {

inline constexpr int kEnvelopeVersion = 1;
inline constexpr size_t kMaxHeaderBytes = 64 * 1024;
inline constexpr size_t kMaxRecipients = 64;
inline constexpr size_t kMaxConsentParties = 64;
inline constexpr size_t kMaxConsentPurposes = 16;
inline constexpr size_t kWrappedKeyBytes = kAeadKeyBytes + kSealOverheadBytes;  // 80
// The payload part is nonce(24) || ciphertext || tag(16): never shorter than this.
inline constexpr size_t kMinPayloadBytes = kAeadNonceBytes + kAeadTagBytes;

// Domain separators, prefixed to what is signed or authenticated.
inline constexpr std::string_view kHeaderSigningPrefix = "stafett-header-v1\n";
inline constexpr std::string_view kPayloadAdPrefix = "stafett-payload-v1\n";
inline constexpr std::string_view kReceiptSigningPrefix = "stafett-receipt-v1\n";

// What a consent covers; carried in the header of consent_granted only.
struct ConsentScope {
  std::vector<std::string> parties;   // endpoint ids, 1..64, no duplicates
  std::vector<std::string> purposes;  // tokens [a-z][a-z0-9_]{0,63}, 1..16, no duplicates
  Micros valid_from = 0;              // millisecond precision on the wire
  Micros valid_until = 0;             // >= valid_from

  bool operator==(const ConsentScope&) const = default;
};

// The payload key sealed (crypto_box_seal) to one recipient's encryption key.
struct WrappedKey {
  std::string recipient;  // endpoint id, one of Header::to
  std::string key_id;     // the recipient's key set id (16 hex) whose encryption key was used
  std::string sealed;     // raw crypto_box_seal of the 32-byte payload key: 80 bytes

  bool operator==(const WrappedKey&) const = default;
};

struct Header {
  int version = kEnvelopeVersion;
  std::string message_id;       // [A-Za-z0-9][A-Za-z0-9._-]{0,63}
  std::string type;             // [a-z][a-z0-9_]{0,63}, e.g. "support_request"
  std::string from;             // endpoint id
  std::vector<std::string> to;  // endpoint ids, 1..64, no duplicates, in the sender's order
  std::string subject;          // the child's pseudonym (64 lowercase hex); "" only if no child
  std::string consent_id;       // "" = none; else message-id syntax
  std::optional<ConsentScope> consent;  // present only on consent_granted
  std::string ref;                      // referenced message id; "" = none
  Micros sent_at = 0;  // millisecond precision on the wire (SealEnvelope truncates)
  Micros expires_at = 0;
  uint64_t payload_size = 0;     // bytes of the payload part (nonce || ciphertext)
  std::string payload_digest;    // raw 32 bytes: SHA-256 of the payload part
  std::string sender_key_id;     // the sender's key set id (16 lowercase hex): which signing key
  std::vector<WrappedKey> keys;  // exactly one per recipient, in the order of `to`

  bool operator==(const Header&) const = default;
};

// The three wire parts.
struct Envelope {
  std::string header_bytes;  // canonical JSON, signed
  std::string signature;     // 64 bytes, Ed25519 over kHeaderSigningPrefix + header_bytes
  std::string payload;       // nonce(24) || XChaCha20-Poly1305 ciphertext+tag

  bool operator==(const Envelope&) const = default;
};

// A recipient's encryption key, from the trust directory.
struct RecipientKey {
  std::string recipient;   // endpoint id
  std::string key_id;      // its key set id (16 hex)
  std::string box_public;  // its X25519 public key, 32 raw bytes
};

// Encrypts `plaintext` under a fresh payload key, fills payload_size/payload_digest and keys
// (one per header.to entry, in that order, from `recipients`, which may be in any order but
// must hold exactly one entry per recipient and no others), truncates the times to whole
// milliseconds, validates the header as ParseHeader would, serialises it and signs it.
// header.sender_key_id must be set by the caller. ParseHeader(result.header_bytes) yields
// the header as sealed. Errors: kSchemaInvalid (invalid header field), kUnknownRecipient (a
// recipient without a key), kTooLarge (header over kMaxHeaderBytes).
[[nodiscard]] Result<Envelope> SealEnvelope(Header header, std::string_view plaintext,
                                            const SigningKeyPair& sender,
                                            const std::vector<RecipientKey>& recipients);

// Strict parse: at most kMaxHeaderBytes (else kTooLarge), JSON (else kProtocolError), exactly
// the canonical bytes SerializeHeader would produce (else kProtocolError), every field present,
// typed and within its limits (else kSchemaInvalid). Does not check the signature.
[[nodiscard]] Result<Header> ParseHeader(std::string_view header_bytes);

// The canonical bytes of `header` (no validation; see docs/ENVELOPE.md).
[[nodiscard]] std::string SerializeHeader(const Header& header);

// Checks the header fields as ParseHeader does, without bytes. kSchemaInvalid on the first fault.
[[nodiscard]] Status ValidateHeader(const Header& header);

// Sender side of the check, done by broker and recipients: the signature over the exact
// received header bytes with the sender's signing key, that `header` is what those bytes say,
// and that the payload has the signed size and SHA-256. kBadSignature, message says which.
[[nodiscard]] Status VerifyEnvelope(const Envelope& envelope, const Header& header,
                                    std::string_view sender_signing_public32);

// Recipient side: the WrappedKey for `recipient_id`, or nullptr. Lets a recipient with several
// key sets pick the one named by key_id.
[[nodiscard]] const WrappedKey* FindWrappedKey(const Header& header, std::string_view recipient_id);

// Unwraps the payload key for `recipient_id` and decrypts the payload. kDecryptFailed if
// `recipient_id` is not a recipient, the key does not unseal, or the payload fails to
// authenticate. Call VerifyEnvelope first: this does not check the header signature.
[[nodiscard]] Result<std::string> OpenEnvelope(const Envelope& envelope, const Header& header,
                                               const std::string& recipient_id,
                                               const BoxKeyPair& recipient_keys);

// "stafett-header-v1\n" + header bytes: what the sender signs.
[[nodiscard]] std::string HeaderSigningInput(std::string_view header_bytes);
// "stafett-payload-v1\n" + message_id + "\n" + from: the AEAD associated data.
[[nodiscard]] std::string PayloadAssociatedData(std::string_view message_id, std::string_view from);
// "stafett-receipt-v1\n" + message_id + "\n" + hex(digest) + "\n" + recipient: what a recipient
// signs (Ed25519, its signing key) to acknowledge a delivery.
[[nodiscard]] std::string ReceiptSigningInput(std::string_view message_id,
                                              std::string_view payload_digest_raw,
                                              std::string_view recipient);

}  // namespace stafett::core
