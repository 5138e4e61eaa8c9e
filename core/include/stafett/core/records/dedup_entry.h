// DedupEntry: what a PUBLISH under a used message id is checked against — only a
// byte-identical resend from the same sender is a retry (stafett/records/v1/index_entries.proto).
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stafett/core/status.h"

namespace stafett::core {

struct DedupEntry {
  std::string sender;
  std::string header_digest;  // raw SHA-256 of the accepted header bytes, 32 bytes
  uint64_t seq = 0;           // the acceptance's audit position (the answer to a retry)
  bool operator==(const DedupEntry&) const = default;
};

[[nodiscard]] Result<std::string> EncodeDedupEntry(const DedupEntry& entry);
[[nodiscard]] Result<DedupEntry> DecodeDedupEntry(std::string_view bytes);

}  // namespace stafett::core
