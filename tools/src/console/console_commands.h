// `stafett console` and `stafett audit extract`: the CLI wiring of the web console and of the
// register extract. Thread-safety: CLI wiring, single-threaded.
#pragma once

#include <CLI/CLI.hpp>

namespace stafett::tools {

// Registers `console` on APP and `extract` under its `audit` (so after AddAuditCommands).
void AddConsoleCommands(CLI::App& app, int* exit_code);

}  // namespace stafett::tools
