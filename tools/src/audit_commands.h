// The auditor's subcommands: `stafett audit trail | verify | export | prove`.
// Thread-safety: CLI wiring, single-threaded.
#pragma once

#include <CLI/CLI.hpp>

namespace stafett::tools {

// Registers `audit` and its subcommands on APP. Each sets *exit_code when it runs.
void AddAuditCommands(CLI::App& app, int* exit_code);

}  // namespace stafett::tools
