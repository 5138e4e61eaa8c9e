// The operator's subcommands: `stafett status` and `stafett track MESSAGE_ID`.
// Thread-safety: CLI wiring, single-threaded.
#pragma once

#include <CLI/CLI.hpp>

namespace stafett::tools {

// Registers `status` and `track` on APP. Each sets *exit_code when it runs.
void AddOperationsCommands(CLI::App& app, int* exit_code);

}  // namespace stafett::tools
