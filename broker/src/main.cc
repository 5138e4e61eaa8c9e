// stafett-broker: the broker's entry point — flags, config, logging, signals, and `backup`.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "broker.h"
#include "http_server.h"
#include "stafett/core/log_setup.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "stafett-broker: %s\n", message.c_str());
  return code;
}

int Serve(const std::string& config_path, const std::string& log_format) {
  using namespace stafett;
  core::Result<broker::BrokerConfig> config = broker::LoadBrokerConfig(config_path);
  if (!config.ok()) return Fail(config.status().message(), 2);
  core::SetUpLogging("stafett-broker", log_format.empty() ? config->log_format : log_format,
                     config->log_level);
  core::Result<std::unique_ptr<broker::Broker>> created =
      broker::Broker::Create(*config, core::SystemClock::Instance());
  if (!created.ok()) return Fail(created.status().ToString());
  broker::Broker& instance = **created;
  broker::HttpServer http(instance.metrics());
  if (!config->http_bind.empty()) {
    core::Status started = http.Start(config->http_bind);
    if (!started.ok()) return Fail(started.message());
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  core::Status ran = instance.Run(g_stop);
  http.Stop();
  if (!ran.ok()) return Fail(ran.ToString());
  spdlog::info("event=broker_stopped");
  return 0;
}

int Backup(const std::string& config_path, const std::string& to) {
  using namespace stafett;
  core::Result<broker::BrokerConfig> config = broker::LoadBrokerConfig(config_path);
  if (!config.ok()) return Fail(config.status().message(), 2);
  core::Status copied = broker::BackupDataDir(*config, to);
  if (!copied.ok()) return Fail(copied.ToString());
  std::printf("backup written to %s\n", to.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Stafett broker: authenticated, durable store-and-forward routing"};
  app.set_version_flag("--version", std::string("stafett-broker ") + STAFETT_VERSION);
  std::string config_path, log_format, backup_to;
  app.add_option("--config", config_path, "broker.toml")->check(CLI::ExistingFile);
  app.add_option("--log-format", log_format, "human or json (overrides the config)")
      ->check(CLI::IsMember({"human", "json"}));
  CLI::App* backup = app.add_subcommand(
      "backup", "Write a consistent online copy of the broker's database (RocksDB checkpoint)");
  backup->add_option("--to", backup_to, "a folder that does not exist yet")->required();
  backup->fallthrough();  // `stafett-broker backup --config F --to D` works as well
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);
    std::fprintf(stderr, "stafett-broker: %s\n", error.what());
    return 2;
  }
  if (config_path.empty()) return Fail("--config FILE is required (see --help)", 2);
  if (backup->parsed()) return Backup(config_path, backup_to);
  return Serve(config_path, log_format);
}
