// ReceiptCheck: the sending agent's own check of a recipient's signed delivery
// receipt, so that "delivered" never rests on the broker's word (docs/AGENT.md,
// "Receipts"). The signed bytes are rebuilt from the envelope this agent
// journalled, never taken from the broker. Thread-safety: a pure function over
// immutable inputs.
#pragma once

#include <nlohmann/json.hpp>

#include "stafett/core/envelope.h"
#include "stafett/core/status.h"
#include "trust.h"

namespace stafett::agent {

// Ok when RECEIPT (a RECEIPT object with status "delivered") names the message
// of SENT (its message id), a recipient in SENT's `to`, a key id of that
// recipient in the trust directory, and carries that key's Ed25519 signature
// over ReceiptSigningInput(message id, SENT's payload digest, recipient).
// Otherwise kProtocolError (another message, or a recipient it was not sent
// to), kUnknownKey (no such key of the recipient) or kBadSignature (missing,
// malformed or not verifying), the message saying which check failed — with ids
// only, never personal data.
core::Status CheckDeliveryReceipt(const Trust& trust, const core::Header& sent,
                                  const nlohmann::json& receipt);

}  // namespace stafett::agent
