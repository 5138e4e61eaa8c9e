// The console's static files, compiled into the binary (tools/console_assets/ and the alert
// runbooks, by cmake/embed_assets.cmake): nothing is fetched from outside.
// Thread-safety: immutable data.
#pragma once

#include <optional>
#include <string_view>

namespace stafett::tools::console {

// The file named NAME ("console.css", "console.js", "layout.html", "runbooks.md").
std::optional<std::string_view> FindAsset(std::string_view name);

}  // namespace stafett::tools::console
