// The table of embedded schemas, written by cmake/embed_schemas.cmake into the build tree.
// Thread-safety: constant data.
#pragma once

#include <cstddef>
#include <string_view>

namespace stafett::schemas::internal {

struct EmbeddedSchema {
  std::string_view name;  // file name without ".schema.json", e.g. "support_request"
  std::string_view text;  // the file's bytes
};

extern const EmbeddedSchema kEmbedded[];  // sorted by name
extern const size_t kEmbeddedCount;

}  // namespace stafett::schemas::internal
