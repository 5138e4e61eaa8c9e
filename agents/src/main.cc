// stafett-agent: the agent's entry point — flags, config, logging, signals. Signals are blocked
// in every thread and taken by sigwait() on the main thread, which then stops the agent.
// `stafett-agent --config FILE purge --before T` runs an erasure request instead
// (purge_command.h).
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "agent.h"
#include "agent_config.h"
#include "purge_command.h"
#include "stafett/core/log_setup.h"

namespace {

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "stafett-agent: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace stafett;
  CLI::App app{"Stafett agent: one agency endpoint's outbox, inbox and local API"};
  app.set_version_flag("--version", std::string("stafett-agent ") + STAFETT_VERSION);
  std::string config_path, log_format;
  app.add_option("--config", config_path, "agent.toml");
  app.add_option("--log-format", log_format, "human or json (overrides the config)")
      ->check(CLI::IsMember({"human", "json"}));
  std::string purge_before;
  CLI::App* purge = app.add_subcommand(
      "purge",
      "Erasure request: remove what the retention would, finished before --before instead of "
      "[retention] finished_days ago (docs/PRIVACY.md); prints the counts as JSON");
  purge->add_option("--before", purge_before, "RFC 3339 time or date (YYYY-MM-DD, 00:00 UTC)")
      ->required();
  purge->fallthrough();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    std::fprintf(stderr, "stafett-agent: %s\n", error.what());
    return 2;
  }
  if (config_path.empty()) return Fail("--config FILE is required (see --help)", 2);
  core::Result<agent::AgentConfig> config = agent::LoadAgentConfig(config_path);
  if (!config.ok()) return Fail(config.status().message(), 2);
  core::SetUpLogging("stafett-agent", log_format.empty() ? config->log_format : log_format,
                     config->log_level);
  if (purge->parsed()) return agent::RunPurge(*config, purge_before);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by every thread started below
  std::signal(SIGPIPE, SIG_IGN);

  core::Result<std::unique_ptr<agent::Agent>> created =
      agent::Agent::Create(*config, core::SystemClock::Instance());
  if (!created.ok()) return Fail(created.status().ToString());
  core::Status started = (*created)->Start();
  if (!started.ok()) {
    (*created)->Stop();
    return Fail(started.ToString());
  }
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("event=agent_stopping signal={}", received);
  (*created)->Stop();
  created->reset();
  spdlog::info("event=agent_stopped");
  return 0;
}
