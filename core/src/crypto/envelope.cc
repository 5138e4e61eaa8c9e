// Sealing, verifying and opening envelopes: one random payload key per message, AEAD over the
// payload, the key sealed to each recipient, Ed25519 over the canonical header bytes.
// Thread-safety: pure functions.
#include "stafett/core/envelope.h"

#include <sodium.h>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

// Floors to a whole millisecond, the precision of the header's RFC 3339 times.
Micros TruncateToMillis(Micros time) {
  const Micros remainder = ((time % 1000) + 1000) % 1000;
  return time - remainder;
}

void TruncateTimes(Header* header) {
  header->sent_at = TruncateToMillis(header->sent_at);
  header->expires_at = TruncateToMillis(header->expires_at);
  if (header->consent) {
    header->consent->valid_from = TruncateToMillis(header->consent->valid_from);
    header->consent->valid_until = TruncateToMillis(header->consent->valid_until);
  }
}

// Seals `payload_key` to each recipient in header->to, in that order.
Status WrapPayloadKey(const SecretBytes& payload_key, const std::vector<RecipientKey>& recipients,
                      Header* header) {
  for (const RecipientKey& candidate : recipients) {
    bool listed = false;
    for (const std::string& to : header->to) listed = listed || to == candidate.recipient;
    if (!listed) return Status(Code::kSchemaInvalid, "envelope: a key for a non-recipient");
  }
  header->keys.clear();
  for (const std::string& to : header->to) {
    const RecipientKey* found = nullptr;
    for (const RecipientKey& candidate : recipients) {
      if (candidate.recipient != to) continue;
      if (found) return Status(Code::kSchemaInvalid, "envelope: two keys for one recipient");
      found = &candidate;
    }
    if (!found) return Status(Code::kUnknownRecipient, "envelope: no encryption key for " + to);
    if (found->box_public.size() != kBoxPublicKeyBytes) {
      return Status(Code::kKeyInvalid, "envelope: encryption key of " + to + " is not 32 bytes");
    }
    header->keys.push_back({to, found->key_id, Seal(found->box_public, payload_key.view())});
  }
  return Status::Ok();
}

}  // namespace

std::string HeaderSigningInput(std::string_view header_bytes) {
  std::string input(kHeaderSigningPrefix);
  input.append(header_bytes);
  return input;
}

std::string PayloadAssociatedData(std::string_view message_id, std::string_view from) {
  std::string ad(kPayloadAdPrefix);
  ad.append(message_id).append("\n").append(from);
  return ad;
}

std::string ReceiptSigningInput(std::string_view message_id, std::string_view payload_digest_raw,
                                std::string_view recipient) {
  std::string input(kReceiptSigningPrefix);
  input.append(message_id).append("\n").append(ToHex(payload_digest_raw)).append("\n");
  input.append(recipient);
  return input;
}

Result<Envelope> SealEnvelope(Header header, std::string_view plaintext,
                              const SigningKeyPair& sender,
                              const std::vector<RecipientKey>& recipients) {
  if (sender.secret_key.size() != kSigningSecretKeyBytes) {
    return Status(Code::kKeyInvalid, "envelope: signing key is not 64 bytes");
  }
  TruncateTimes(&header);
  std::string random_key = RandomBytes(kAeadKeyBytes);
  const SecretBytes payload_key(random_key);
  sodium_memzero(random_key.data(), random_key.size());
  STAFETT_RETURN_IF_ERROR(WrapPayloadKey(payload_key, recipients, &header));
  Envelope envelope;
  envelope.payload = AeadEncrypt(payload_key.view(), plaintext,
                                 PayloadAssociatedData(header.message_id, header.from));
  header.payload_size = envelope.payload.size();
  header.payload_digest = Sha256(envelope.payload);
  STAFETT_RETURN_IF_ERROR(ValidateHeader(header));
  envelope.header_bytes = SerializeHeader(header);
  if (envelope.header_bytes.size() > kMaxHeaderBytes) {
    return Status(Code::kTooLarge, "envelope: header larger than 64 KiB");
  }
  envelope.signature = Sign(sender, HeaderSigningInput(envelope.header_bytes));
  return envelope;
}

Status VerifyEnvelope(const Envelope& envelope, const Header& header,
                      std::string_view sender_signing_public32) {
  if (!Verify(sender_signing_public32, HeaderSigningInput(envelope.header_bytes),
              envelope.signature)) {
    return Status(Code::kBadSignature, "envelope: header signature does not verify");
  }
  if (SerializeHeader(header) != envelope.header_bytes) {
    return Status(Code::kBadSignature, "envelope: header does not match the signed bytes");
  }
  if (envelope.payload.size() != header.payload_size) {
    return Status(Code::kBadSignature, "envelope: payload size does not match the signed header");
  }
  if (!ConstantTimeEquals(Sha256(envelope.payload), header.payload_digest)) {
    return Status(Code::kBadSignature, "envelope: payload digest does not match the signed header");
  }
  return Status::Ok();
}

const WrappedKey* FindWrappedKey(const Header& header, std::string_view recipient_id) {
  for (const WrappedKey& key : header.keys) {
    if (key.recipient == recipient_id) return &key;
  }
  return nullptr;
}

Result<std::string> OpenEnvelope(const Envelope& envelope, const Header& header,
                                 const std::string& recipient_id,
                                 const BoxKeyPair& recipient_keys) {
  const WrappedKey* wrapped = FindWrappedKey(header, recipient_id);
  if (!wrapped) return Status(Code::kDecryptFailed, "envelope: not a recipient of this message");
  Result<std::string> unsealed = Unseal(recipient_keys, wrapped->sealed);
  if (!unsealed.ok()) {
    return Status(Code::kDecryptFailed, "envelope: payload key does not unseal with this key");
  }
  const SecretBytes payload_key(*unsealed);
  sodium_memzero(unsealed->data(), unsealed->size());
  if (payload_key.size() != kAeadKeyBytes) {
    return Status(Code::kDecryptFailed, "envelope: payload key has the wrong size");
  }
  Result<std::string> plaintext = AeadDecrypt(
      payload_key.view(), envelope.payload, PayloadAssociatedData(header.message_id, header.from));
  if (!plaintext.ok()) {
    return Status(Code::kDecryptFailed, "envelope: payload does not decrypt or authenticate");
  }
  return plaintext;
}

}  // namespace stafett::core
