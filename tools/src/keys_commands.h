// The key subcommands: `stafett keys generate | rotate | show`.
// Thread-safety: CLI wiring, single-threaded.
#pragma once

#include <CLI/CLI.hpp>

namespace stafett::tools {

// Registers `keys` and its subcommands on APP. Each sets *exit_code when it runs.
void AddKeysCommands(CLI::App& app, int* exit_code);

}  // namespace stafett::tools
