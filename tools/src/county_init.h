// `stafett county init DIR`: a complete deployment on one machine (docs/CONTRACT.md; the layout is
// docs/DESIGN.md, "The sandbox layout"): keys for the broker, every endpoint, one auditor and
// one operator; the trust directory; the county pseudonym key; a config per process; the agents'
// folders; and DIR/county.json. Thread-safety: one call at a time per DIR.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::tools {

struct CountyInitOptions {
  std::filesystem::path dir;
  std::string preset = "three";  // "three" or "sormland" (county_presets.h)
  int base_port = 7700;          // broker ZeroMQ P, broker HTTP P+1, agent i's HTTP P+10+i
  int valid_days = 365;          // validity of every generated key set
  core::Micros now = 0;
};

struct CountyAgent {
  std::string id, kind, http;
};

// What was written, for the command's summary.
struct CountyInitReport {
  std::string broker_zmq, broker_http;
  std::vector<CountyAgent> agents;
};

// kConfigInvalid when DIR exists and is not an empty folder, for an unknown preset, or when the
// ports do not fit below 65536; kIoError when a file cannot be written.
core::Result<CountyInitReport> InitCounty(const CountyInitOptions& options);

// Ok when DIR does not exist or is an empty folder; kConfigInvalid naming DIR otherwise.
core::Status CheckFreshFolder(const std::filesystem::path& dir);

}  // namespace stafett::tools
