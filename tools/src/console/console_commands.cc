// The console and extract subcommands.
#include "console/console_commands.h"

#include <cstdio>
#include <iostream>

#include "audit_queries.h"
#include "console/extract.h"
#include "console/html.h"
#include "console/server.h"

namespace stafett::tools {
namespace {

struct ExtractOptions {
  std::string config, subject_pnr, format = "html", language = "sv";
};

int Report(const core::Status& status) {
  std::fprintf(stderr, "stafett: %s\n", status.ToString().c_str());
  return 1;
}

int RunExtract(const ExtractOptions& options) {
  core::Result<ClientConfig> config = LoadClientConfig(options.config, "auditor");
  if (!config.ok()) return Report(config.status());
  core::Result<std::unique_ptr<BrokerClient>> client = BrokerClient::Connect(*config);
  if (!client.ok()) return Report(client.status());
  core::Result<nlohmann::json> extract =
      console::BuildExtract(**client, *config, options.subject_pnr);
  if (!extract.ok()) return Report(extract.status());
  if (options.format == "json") {
    std::cout << extract->dump(2) << "\n";
    return 0;
  }
  std::string html = console::RenderExtractDocument(*extract, options.language);
  if (options.format == "html") {
    std::cout << html;
    return 0;
  }
  core::Result<std::string> pdf = console::RenderPdf(html);
  if (!pdf.ok()) return Report(pdf.status());
  std::cout.write(pdf->data(), static_cast<std::streamsize>(pdf->size()));
  std::cout.flush();
  return 0;
}

bool ParseListen(const std::string& listen, console::ConsoleOptions* options) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    size_t used = 0;
    int port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535) return false;
    options->host = host;
    options->port = port;
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

void AddConsoleCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<console::ConsoleOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:0");
  CLI::App* command = app.add_subcommand(
      "console", "A local web console: the operator's or the auditor's views, from the broker");
  command->add_option("--config", options->config_path, "operator.toml or auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--listen", *listen, "HOST:PORT (loopback by default; port 0: any free)");
  command
      ->add_option("--warn-after", options->warn_after,
                   "warn about an offline endpoint whose oldest message waited longer (seconds)")
      ->check(CLI::NonNegativeNumber);
  command->callback([=] {
    if (!ParseListen(*listen, options.get())) {
      throw CLI::ValidationError("--listen", "must be HOST:PORT");
    }
    *exit_code = console::RunConsole(*options);
  });

  CLI::App* audit = app.get_subcommand("audit");
  auto extract_options = std::make_shared<ExtractOptions>();
  CLI::App* extract =
      audit->add_subcommand("extract", "A child's register extract (registerutdrag) on stdout");
  extract->add_option("--config", extract_options->config, "auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  extract
      ->add_option("--subject-pnr", extract_options->subject_pnr,
                   "the child's personnummer (pseudonymised locally)")
      ->required();
  extract->add_option("--format", extract_options->format, "html, pdf or json")
      ->check(CLI::IsMember({"html", "pdf", "json"}));
  extract->add_option("--lang", extract_options->language, "sv (default) or en")
      ->check(CLI::IsMember({"sv", "en"}));
  extract->callback([=] { *exit_code = RunExtract(*extract_options); });
}

}  // namespace stafett::tools
