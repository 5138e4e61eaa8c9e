// RunCli: the app, its subcommand groups, and the mapping of parse errors to one-line messages.
// Thread-safety: one call at a time.
#include "cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "audit_commands.h"
#include "cli_errors.h"
#include "console/console_commands.h"
#include "county_commands.h"
#include "keys_commands.h"
#include "operations_commands.h"

namespace stafett::tools {
namespace {

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

int RunCli(int argc, const char* const* argv) {
  CLI::App app{"Stafett: secure hand-offs between school, social services and health care"};
  app.name("stafett");
  app.set_version_flag("--version", std::string("stafett ") + STAFETT_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  AddKeysCommands(app, &exit_code);
  AddCountyCommands(app, &exit_code);
  AddOperationsCommands(app, &exit_code);
  AddAuditCommands(app, &exit_code);
  AddConsoleCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::fprintf(stderr, "stafett: %s (see --help)\n", OneLine(error.what()).c_str());
    return kExitUsageError;
  }
  return exit_code;
}

}  // namespace stafett::tools
