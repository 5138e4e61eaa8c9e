// Identifiers: new message ids (UUIDv7) and the syntax checks for message and endpoint ids.
// Thread-safety: pure functions; NewMessageId is as thread-safe as its random source (the
// system one, libsodium's CSPRNG, is).
#pragma once

#include <string>
#include <string_view>

#include "stafett/core/clock.h"
#include "stafett/core/random.h"

namespace stafett::core {

// A UUIDv7 in lowercase 8-4-4-4-12 form: 48-bit Unix milliseconds of `now`, version 7, variant
// 0b10, the remaining 74 bits from RANDOM. Sorts by time (to the millisecond) as a string. Ids
// must be unguessable in production: only tests pass anything but the system source.
[[nodiscard]] std::string NewMessageId(Micros now, RandomSource& random);
// The same, with SystemRandom.
[[nodiscard]] std::string NewMessageId(Micros now);

// [A-Za-z0-9][A-Za-z0-9._-]{0,63}: message ids, consent ids, references.
[[nodiscard]] bool IsValidMessageId(std::string_view id);

// [a-z0-9-]+\.[a-z0-9-]+ ("org.unit"), each label 1-63 characters, at most 128 in total.
[[nodiscard]] bool IsValidEndpointId(std::string_view id);

// Any principal id (broker, auditor, operator, endpoints): [a-z0-9.-]{1,128}, starting with a
// letter or digit.
[[nodiscard]] bool IsValidPrincipalId(std::string_view id);

}  // namespace stafett::core
