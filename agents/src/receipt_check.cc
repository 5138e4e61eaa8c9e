// ReceiptCheck: a delivered receipt against the sent header and the trust
// directory.
#include "receipt_check.h"

#include <algorithm>

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {

std::string StringField(const nlohmann::json& object, const char* name) {
  auto found = object.find(name);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

}  // namespace

Status CheckDeliveryReceipt(const Trust& trust, const core::Header& sent,
                            const nlohmann::json& receipt) {
  if (!receipt.is_object()) return Status(Code::kProtocolError, "the receipt is not an object");
  if (StringField(receipt, "message_id") != sent.message_id) {
    return Status(Code::kProtocolError, "the receipt names another message");
  }
  std::string recipient = StringField(receipt, "recipient");
  if (std::find(sent.to.begin(), sent.to.end(), recipient) == sent.to.end()) {
    return Status(Code::kProtocolError,
                  "the receipt names a recipient the message was not sent to");
  }
  std::string key_id = StringField(receipt, "receipt_key");
  std::string signature_base64 = StringField(receipt, "receipt_signature");
  if (key_id.empty() || signature_base64.empty()) {
    return Status(Code::kBadSignature, "the receipt carries no recipient signature");
  }
  const DirectoryKey* key = trust.KeyById(recipient, key_id);
  if (key == nullptr) {
    return Status(Code::kUnknownKey, "the receipt's key id is not a key of " + recipient);
  }
  std::optional<std::string> signature = core::FromBase64(signature_base64);
  if (!signature) return Status(Code::kBadSignature, "the receipt signature is not base64");
  if (!core::Verify(key->signing,
                    core::ReceiptSigningInput(sent.message_id, sent.payload_digest, recipient),
                    *signature)) {
    return Status(Code::kBadSignature,
                  "the receipt signature of " + recipient + " does not verify for this message");
  }
  return Status::Ok();
}

}  // namespace stafett::agent
