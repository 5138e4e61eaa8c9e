// `stafett stats`: every record of the log, each checked against the signed head as `audit
// export` does (ForEachRecordWithProof), aggregated by AggregateStats; only aggregates printed.
#include "stats_commands.h"

#include <cstdio>
#include <iostream>

#include "audit_verifier.h"
#include "broker_client.h"
#include "stats.h"

namespace stafett::tools {
namespace {

using core::Code;
using core::Status;

struct StatsCommandOptions {
  std::string config, by, from, to, format = "table";
  uint64_t min_cell = 5;
};

int Report(const Status& status) {
  std::fprintf(stderr, "stafett: %s\n", status.ToString().c_str());
  return 1;
}

int RunStats(const StatsCommandOptions& options) {
  core::Result<std::vector<StatsDimension>> by = ParseStatsDimensions(options.by);
  if (!by.ok()) return Report(by.status());
  StatsOptions stats;
  stats.by = *by;
  stats.min_cell = options.min_cell;
  if (!options.from.empty() && !(stats.from = core::ParseRfc3339(options.from))) {
    return Report(Status(Code::kSchemaInvalid, "--from must be an RFC 3339 time"));
  }
  if (!options.to.empty() && !(stats.to = core::ParseRfc3339(options.to))) {
    return Report(Status(Code::kSchemaInvalid, "--to must be an RFC 3339 time"));
  }
  core::Result<ClientConfig> config = LoadClientConfig(options.config, "auditor");
  if (!config.ok()) return Report(config.status());
  core::Result<std::unique_ptr<BrokerClient>> client = BrokerClient::Connect(*config);
  if (!client.ok()) return Report(client.status());
  core::Result<nlohmann::json> answer = (*client)->Query({{"op", "head"}});
  if (!answer.ok()) return Report(answer.status());
  core::Result<TreeHead> head = CheckSignedHead((*answer)["head"], (*client)->directory());
  if (!head.ok()) return Report(head.status());
  std::vector<nlohmann::json> records;
  Status fetched = ForEachRecordWithProof(
      **client, *head, [&](uint64_t, const std::string& leaf, const nlohmann::json&) {
        records.push_back(nlohmann::json::parse(leaf, nullptr, false));
      });
  if (!fetched.ok()) return Report(fetched);
  std::map<std::string, EndpointFacts> facts;
  for (const keys::Principal* principal : (*client)->directory().Endpoints()) {
    facts[principal->id] = {principal->kind, principal->municipality};
  }
  StatsTable table = AggregateStats(records, facts, stats);
  std::cout << RenderStats(table, options.format, options.min_cell);
  return 0;
}

}  // namespace

void AddStatsCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<StatsCommandOptions>();
  CLI::App* stats = app.add_subcommand("stats", "Counts and times from the audit log, suppressed");
  stats->add_option("--config", options->config, "auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  stats->add_option("--by", options->by, "comma list of month, municipality, type, route")
      ->required();
  stats->add_option("--from", options->from, "RFC 3339 start");
  stats->add_option("--to", options->to, "RFC 3339 end");
  stats->add_option("--min-cell", options->min_cell, "smallest count shown (default 5)")
      ->check(CLI::PositiveNumber);
  stats->add_option("--format", options->format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  stats->callback([=] { *exit_code = RunStats(*options); });
}

}  // namespace stafett::tools
