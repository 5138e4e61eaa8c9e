// The sandbox subcommand: `stafett county init DIR [--preset three|sormland] [--base-port P]`.
// Thread-safety: CLI wiring, single-threaded.
#pragma once

#include <CLI/CLI.hpp>

namespace stafett::tools {

// Registers `county` and `county init` on APP. Sets *exit_code when it runs.
void AddCountyCommands(CLI::App& app, int* exit_code);

}  // namespace stafett::tools
