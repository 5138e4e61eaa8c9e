// `stafett county init` and `stafett county tour`: wiring and the summary init prints.
// Thread-safety: CLI wiring, single-threaded.
#include "county_commands.h"

#include <cstdio>
#include <memory>

#include "cli_errors.h"
#include "county_init.h"
#include "county_tour.h"

namespace stafett::tools {
namespace {

int RunInit(CountyInitOptions options) {
  options.now = core::SystemClock::Instance().Now();
  core::Result<CountyInitReport> report = InitCounty(options);
  if (!report.ok()) return ReportFailure(report.status());
  const std::string dir = options.dir.string();
  std::printf("county \"%s\" in %s: broker, %zu agents, auditor, operator\n",
              options.preset.c_str(), dir.c_str(), report->agents.size());
  std::printf("  manifest         %s/county.json\n", dir.c_str());
  std::printf("  trust directory  %s/trust/directory.json\n", dir.c_str());
  std::printf("  pseudonym key    %s/county/pseudonym.key (0600)\n", dir.c_str());
  std::printf("  broker           %s, http %s\n", report->broker_zmq.c_str(),
              report->broker_http.c_str());
  for (const CountyAgent& agent : report->agents) {
    std::printf("  %-18s %-7s http %s\n", agent.id.c_str(), agent.kind.c_str(), agent.http.c_str());
  }
  return 0;
}

}  // namespace

void AddCountyCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<CountyInitOptions>();
  CLI::App* county = app.add_subcommand("county", "Whole deployments on one machine");
  county->require_subcommand(1);
  CLI::App* init = county->add_subcommand(
      "init",
      "Write a complete sandbox deployment into DIR (new or empty): keys, trust "
      "directory, pseudonym key, configs, agent folders and DIR/county.json");
  init->add_option("DIR", options->dir, "the folder to create (must be missing or empty)")
      ->required();
  init->add_option("--preset", options->preset,
                   "three (flen.school, flen.social, region.health; default) or sormland")
      ->check(CLI::IsMember({"three", "sormland"}));
  init->add_option("--base-port", options->base_port,
                   "broker ZeroMQ PORT, broker HTTP PORT+1, agent i's HTTP PORT+10+i "
                   "(default 7700)")
      ->check(CLI::Range(1, 65535));
  init->add_option("--valid-days", options->valid_days, "validity of the keys (default 365)")
      ->check(CLI::Range(1, 36500));
  init->callback([=] { *exit_code = RunInit(*options); });

  auto tour_options = std::make_shared<TourOptions>();
  tour_options->examples = "schemas/examples";
  CLI::App* tour = county->add_subcommand(
      "tour",
      "Drop the schema examples, in tour order, into the running sandbox DIR's outboxes (preset "
      "three, broker and agents started) and wait for each to be delivered or refused");
  tour->add_option("DIR", tour_options->county_dir, "the folder county init wrote")->required();
  tour->add_option("--examples", tour_options->examples,
                   "the examples folder with tour.json and valid/ (default schemas/examples, as "
                   "in a checkout; installed: share/stafett/schemas/examples)");
  tour->add_option("--wait", tour_options->wait_seconds,
                   "seconds to wait for each step's outcome (default 60)")
      ->check(CLI::Range(1, 3600));
  tour->callback([=] {
    core::Status status = RunTour(*tour_options, stdout);
    *exit_code = status.ok() ? 0 : ReportFailure(status);
  });
}

}  // namespace stafett::tools
