// StoreFormat: which layout a database holds (stafett/records/v1/store_format.proto), under
// `format` in its meta family. A store writes it into a new database and opens only a database
// of its own kind and version; anything else is refused with one clear error.
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stafett/core/status.h"

namespace stafett::core {

enum class StoreKind { kBroker, kAgentJournal };
std::string_view StoreKindName(StoreKind kind);  // "broker store", "agent journal"

// The versions this build reads and writes. Raise one when a stored record changes
// incompatibly; nothing converts old databases (docs/STORAGE.md, "Format version").
inline constexpr uint32_t kBrokerStoreFormatVersion = 1;
inline constexpr uint32_t kAgentJournalFormatVersion = 1;

struct StoreFormat {
  StoreKind kind = StoreKind::kBroker;
  uint32_t version = 0;
  bool operator==(const StoreFormat&) const = default;
};

// The format this build writes for KIND.
StoreFormat CurrentStoreFormat(StoreKind kind);

[[nodiscard]] Result<std::string> EncodeStoreFormat(const StoreFormat& format);
[[nodiscard]] Result<StoreFormat> DecodeStoreFormat(std::string_view bytes);

// Whether a database at WHERE may be opened as KIND, given what its `format` key holds
// (STORED; nullopt: no such key) and whether it holds anything else (HAS_DATA). Ok for a
// database of this kind and version, and for a new, empty one (the caller writes the format).
// CORRUPTION naming WHERE, what it holds and what this build reads otherwise.
[[nodiscard]] Status CheckStoreFormat(StoreKind kind, const std::optional<std::string>& stored,
                                      bool has_data, std::string_view where);

}  // namespace stafett::core
