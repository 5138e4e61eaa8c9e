// The `stafett` command line: every subcommand group registered on one CLI11 app, usage errors
// as one line and exit code 2. main.cc calls RunCli; tests call it in-process.
// Thread-safety: one call at a time (CLI11 apps and the commands are single-threaded).
#pragma once

namespace stafett::tools {

// Parses ARGV and runs the chosen subcommand. Returns the process exit code: 0 on success
// (and for --help and --version), 2 for usage and configuration errors, 1 for runtime failures.
int RunCli(int argc, const char* const* argv);

}  // namespace stafett::tools
