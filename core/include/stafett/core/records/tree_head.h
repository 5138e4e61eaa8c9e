// TreeHead: a signed tree head of the audit log as stored, under be64 tree size
// (stafett/records/v1/tree_head.proto). Its JSON form for the wire and for auditors is the
// broker's SignedTreeHead; this is the binary one at rest.
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/merkle.h"
#include "stafett/core/status.h"

namespace stafett::core {

struct TreeHead {
  uint64_t tree_size = 0;
  Hash root{};
  std::optional<Hash> map_root;  // the trail map's root; absent in a v1 head
  Micros timestamp = 0;          // millisecond precision
  std::string key_id;            // the broker's signing key set id
  std::string signature;         // raw Ed25519 over TreeHeadSigningInput, 64 bytes
  bool operator==(const TreeHead&) const = default;
};

[[nodiscard]] Result<std::string> EncodeTreeHead(const TreeHead& head);
[[nodiscard]] Result<TreeHead> DecodeTreeHead(std::string_view bytes);

}  // namespace stafett::core
