// `stafett status` and `stafett track`: the operator's view, from the broker's query service.
#include "operations_commands.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "broker_client.h"
#include "operations_queries.h"
#include "table.h"

namespace stafett::tools {
namespace {

core::Result<nlohmann::json> Ask(const std::string& config_path, nlohmann::json query) {
  core::Result<ClientConfig> config = LoadOperatorOrAuditorConfig(config_path);
  if (!config.ok()) return config.status();
  core::Result<std::unique_ptr<BrokerClient>> client = BrokerClient::Connect(*config);
  if (!client.ok()) return client.status();
  return (*client)->Query(std::move(query));
}

int Report(const core::Status& status) {
  std::fprintf(stderr, "stafett: %s\n", status.ToString().c_str());
  return 1;
}

int RunStatus(const std::string& config_path, const std::string& format, double warn_after) {
  core::Result<nlohmann::json> result = Ask(config_path, {{"op", "status"}});
  if (!result.ok()) return Report(result.status());
  nlohmann::json rows = nlohmann::json::array();
  for (nlohmann::json endpoint : (*result)["endpoints"]) {
    nlohmann::json warnings = nlohmann::json::array();
    for (const EndpointWarning& warning : EndpointWarnings(endpoint, warn_after)) {
      if (warning.kind == EndpointWarning::Kind::kSessionReplaced) {
        warnings.push_back("session taken over " + std::to_string(warning.count) +
                           " times by another connection with its key, last " +
                           Age(std::max(1.0, warning.seconds)) + " ago");
      } else {
        warnings.push_back("offline with messages waiting " + Age(warning.seconds));
      }
    }
    endpoint["warnings"] = warnings;
    // The broker's storage, the same object in every row (the JSON form is a list of rows).
    endpoint["storage"] = result->contains("storage")
                              ? (*result)["storage"]
                              : nlohmann::json{{"full", result->value("storage_full", false)}};
    rows.push_back(std::move(endpoint));
  }
  if (format == "json") {
    std::cout << rows.dump(2) << "\n";
    return 0;
  }
  Table table({"ENDPOINT", "KIND", "CONNECTED", "LAST SEEN", "QUEUED", "OLDEST", "WARNINGS"});
  for (const nlohmann::json& row : rows) {
    std::string warnings;
    for (const auto& warning : row["warnings"]) {
      warnings += (warnings.empty() ? "" : "; ") + warning.get<std::string>();
    }
    table.Add({row.value("id", ""), row.value("kind", ""),
               row.value("connected", false) ? "yes" : "no",
               row["last_seen"].is_string() ? row["last_seen"].get<std::string>() : "never",
               std::to_string(row.value("queue_depth", 0)),
               Age(row.value("oldest_undelivered_seconds", 0.0)), warnings});
  }
  std::cout << table.Render();
  std::cout << "audit log: " << result->value("audit_size", 0) << " records"
            << (result->value("storage_full", false) ? "; STORAGE FULL: refusing new work" : "")
            << "\n";
  return 0;
}

int RunTrack(const std::string& message_id, const std::string& config_path,
             const std::string& format) {
  core::Result<nlohmann::json> result =
      Ask(config_path, {{"op", "track"}, {"message_id", message_id}});
  if (!result.ok()) return Report(result.status());
  nlohmann::json out = *result;
  out.erase("id");
  out.erase("ok");
  if (format == "json") {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "message " << message_id << ": " << out.value("status", "") << "\n";
  if (out.contains("type")) {
    std::cout << out.value("type", "") << " from " << out.value("from", "") << " to "
              << out["to"].dump() << ", expires " << out.value("expires_at", "") << "\n";
  }
  Table table({"TIME", "EVENT", "ENDPOINT", "CODE"});
  for (const nlohmann::json& event : out["events"]) {
    std::string endpoint = event.contains("endpoint") ? (event["endpoint"].is_string()
                                                             ? event["endpoint"].get<std::string>()
                                                             : event["endpoint"].dump())
                                                      : "";
    table.Add(
        {event.value("time", ""), event.value("event", ""), endpoint, event.value("code", "")});
  }
  std::cout << table.Render();
  return 0;
}

}  // namespace

void AddOperationsCommands(CLI::App& app, int* exit_code) {
  auto status_config = std::make_shared<std::string>();
  auto status_format = std::make_shared<std::string>("table");
  CLI::App* status = app.add_subcommand(
      "status", "Every endpoint: connected or not, last seen, queue depth, oldest undelivered");
  status->add_option("--config", *status_config, "operator.toml")
      ->required()
      ->check(CLI::ExistingFile);
  status->add_option("--format", *status_format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  // An endpoint offline with messages waiting longer than this is worth a warning.
  auto status_warn_after = std::make_shared<double>(300);
  status
      ->add_option("--warn-after", *status_warn_after,
                   "warn about an offline endpoint whose oldest message waited longer (seconds)")
      ->check(CLI::NonNegativeNumber);
  status->callback(
      [=] { *exit_code = RunStatus(*status_config, *status_format, *status_warn_after); });

  auto track_id = std::make_shared<std::string>();
  auto track_config = std::make_shared<std::string>();
  auto track_format = std::make_shared<std::string>("table");
  CLI::App* track = app.add_subcommand("track", "A message's life so far (metadata only)");
  track->add_option("MESSAGE_ID", *track_id, "the message id")->required();
  track->add_option("--config", *track_config, "operator.toml")
      ->required()
      ->check(CLI::ExistingFile);
  track->add_option("--format", *track_format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  track->callback([=] { *exit_code = RunTrack(*track_id, *track_config, *track_format); });
}

}  // namespace stafett::tools
