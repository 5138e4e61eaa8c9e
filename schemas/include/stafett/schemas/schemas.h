// The JSON Schemas of schemas/*.schema.json, embedded in the binary at build time.
// Thread-safety: constant data; every function is safe to call from any thread.
#pragma once

#include <span>
#include <string_view>

namespace stafett::schemas {

// The text of the schema NAME: the file name without ".schema.json" ("support_request"); the
// full file name ("support_request.schema.json") is accepted too. Empty if there is none.
std::string_view Find(std::string_view name);

// The names of all embedded schemas, sorted.
std::span<const std::string_view> Names();

}  // namespace stafett::schemas
