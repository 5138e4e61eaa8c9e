// StoredEnvelope: the one codec of an envelope at rest — the broker's envelopes and the agent
// journal's copies — over core::Envelope (stafett/records/v1/stored_envelope.proto).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stafett/core/envelope.h"
#include "stafett/core/status.h"

namespace stafett::core {

// INTERNAL if ENVELOPE lacks its header, has a signature of another size than 64 bytes or a
// payload shorter than kMinPayloadBytes (nothing to write).
[[nodiscard]] Result<std::string> EncodeStoredEnvelope(const Envelope& envelope);
// CORRUPTION for bytes that are not a whole, valid stored envelope.
[[nodiscard]] Result<Envelope> DecodeStoredEnvelope(std::string_view bytes);

}  // namespace stafett::core
