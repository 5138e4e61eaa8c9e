// `stafett stats`: aggregates of the audit log's metadata with small cells suppressed.
// Thread-safety: CLI wiring, single-threaded.
#pragma once

#include <CLI/CLI.hpp>

namespace stafett::tools {

// Registers `stats` on APP; sets *exit_code when it runs.
void AddStatsCommands(CLI::App& app, int* exit_code);

}  // namespace stafett::tools
