// RunCli: the app, its subcommand groups, and the mapping of parse errors to one-line messages.
// Thread-safety: one call at a time.
#include "cli.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "audit_commands.h"
#include "broker_client.h"
#include "cli_errors.h"
#include "console/console_commands.h"
#include "county_commands.h"
#include "keys_commands.h"
#include "operations_commands.h"
#include "stafett/core/clock.h"
#include "stats_commands.h"
#include "verify_inbox.h"

namespace stafett::tools {
namespace {

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Every command that asks the broker takes --timeout (5 s by default): how long one query
// waits for the answer before the command fails with UNAVAILABLE.
void AddBrokerTimeout(CLI::App* command) {
  if (command == nullptr || command->get_option_no_throw("--timeout") != nullptr) return;
  command
      ->add_option_function<double>(
          "--timeout",
          [](double seconds) {
            SetBrokerTimeout(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
          },
          "seconds to wait for the broker's answer (default 5)")
      ->type_name("SECONDS")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            char* end = nullptr;
            double seconds = std::strtod(text.c_str(), &end);
            bool fits = end != text.c_str() && *end == '\0' && seconds > 0 && seconds <= 86400;
            return fits ? "" : "must be a number of seconds above 0 (at most 86400)";
          },
          ""));
}

void AddBrokerTimeouts(CLI::App& app) {
  for (CLI::App* command : app.get_subcommands({})) {
    const std::string& name = command->get_name();
    if (name == "status" || name == "track" || name == "console" || name == "stats") {
      AddBrokerTimeout(command);
    }
    if (name == "audit") {
      for (CLI::App* audit_command : command->get_subcommands({})) AddBrokerTimeout(audit_command);
    }
  }
}

// Times (--from, --to) are checked while parsing, before any command contacts the broker.
void CheckTimes(CLI::App& command) {
  static const CLI::Validator kRfc3339(
      [](std::string& text) -> std::string {
        return core::ParseRfc3339(text) ? ""
                                        : "must be an RFC 3339 time such as 2026-12-01T08:00:00Z";
      },
      "RFC 3339");
  for (const char* name : {"--from", "--to"}) {
    if (CLI::Option* option = command.get_option_no_throw(name)) option->check(kRfc3339);
  }
  for (CLI::App* sub : command.get_subcommands({})) CheckTimes(*sub);
}

// CLI11 reports a word that names no subcommand as "a subcommand is required"; say which word.
// Empty when ARGV's subcommand words all exist.
std::string UnknownSubcommand(CLI::App& app, int argc, const char* const* argv) {
  CLI::App* current = &app;
  std::string path = "stafett";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    std::vector<CLI::App*> subcommands = current->get_subcommands({});
    if (subcommands.empty() || word.empty() || word[0] == '-') return "";
    CLI::App* next = nullptr;
    for (CLI::App* sub : subcommands) {
      if (sub->check_name(word)) next = sub;
    }
    if (next == nullptr) return path + ": unknown subcommand " + word;
    current = next;
    path += " " + word;
  }
  return "";
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
  AddVerifyInboxCommand(app, &exit_code);
  AddConsoleCommands(app, &exit_code);
  AddStatsCommands(app, &exit_code);
  SetBrokerTimeout(kDefaultBrokerTimeout);
  AddBrokerTimeouts(app);
  CheckTimes(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::string unknown = UnknownSubcommand(app, argc, argv);
    if (!unknown.empty()) {
      std::fprintf(stderr, "%s (see --help)\n", unknown.c_str());
      return kExitUsageError;
    }
    std::fprintf(stderr, "stafett: %s (see --help)\n", OneLine(error.what()).c_str());
    return kExitUsageError;
  }
  return exit_code;
}

}  // namespace stafett::tools
