// The trail indexes: entries that are keys only (the value is empty), in the broker's trail
// family. Each kind has one key codec here; docs/STORAGE.md lists the layout.
//   s 0x00 pseudonym 0x00 be64 seq      a child's trail
//   e 0x00 endpoint 0x00 be64 seq       an endpoint's trail (as sender, recipient or auditor)
//   m 0x00 message id 0x00 be64 seq     a message's life
//   c 0x00 consent id 0x00 message id   messages waiting under a consent
//   k 0x00 pseudonym 0x00 consent id    a child's consents
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stafett/core/status.h"

namespace stafett::core {

enum class TrailKind : char {
  kSubject = 's',
  kEndpoint = 'e',
  kMessage = 'm',
  kConsentWaiting = 'c',
  kSubjectConsent = 'k',
};

// A position in one of the audit trails (kinds s, e, m).
struct TrailEntry {
  TrailKind kind = TrailKind::kSubject;
  std::string id;  // pseudonym, endpoint or message id; never holds 0x00
  uint64_t seq = 0;
  bool operator==(const TrailEntry&) const = default;
};

// A pair of ids (kinds c and k): consent → waiting message, subject → consent.
struct TrailLink {
  TrailKind kind = TrailKind::kConsentWaiting;
  std::string id;     // consent id (c) or pseudonym (k)
  std::string other;  // message id (c) or consent id (k)
  bool operator==(const TrailLink&) const = default;
};

// Every key with this prefix belongs to KIND and ID.
std::string TrailIndexPrefix(TrailKind kind, std::string_view id);

// INTERNAL for a kind that does not fit the struct, or an id holding 0x00 or empty.
[[nodiscard]] Result<std::string> EncodeTrailEntryKey(const TrailEntry& entry);
[[nodiscard]] Result<TrailEntry> DecodeTrailEntryKey(std::string_view key);
[[nodiscard]] Result<std::string> EncodeTrailLinkKey(const TrailLink& link);
[[nodiscard]] Result<TrailLink> DecodeTrailLinkKey(std::string_view key);

}  // namespace stafett::core
