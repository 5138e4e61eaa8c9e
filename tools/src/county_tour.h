// `stafett county tour DIR`: drops the schema examples, in the order of schemas/examples/
// tour.json, into the outboxes of a running sandbox's agents (written by `stafett county init
// DIR`, preset `three`) and waits for each step's outcome — every recipient's receipt in the
// sender's inbox, or the refusal in outbox/rejected/ — before the next. docs/SCHEMAS.md, "The
// tour". Thread-safety: one call at a time per sandbox.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::tools {

struct TourStep {
  std::string file;    // under EXAMPLES/valid
  std::string from;    // the agent whose outbox it goes into
  std::string expect;  // "delivered" or "refused"
  std::string code;    // the refusal's code when refused
  std::string why;     // optional, printed beside the step
};

// The steps of EXAMPLES/tour.json; kConfigInvalid naming the first bad step.
core::Result<std::vector<TourStep>> LoadTour(const std::filesystem::path& examples);

struct TourOptions {
  std::filesystem::path county_dir;  // has county.json
  std::filesystem::path examples;    // has tour.json and valid/
  int wait_seconds = 60;             // per step
};

// Runs the tour, one line per step on OUT. Ok when every step ended as tour.json expects;
// otherwise the first step that did not (kConfigInvalid for a sandbox or tour that does not
// fit, kUnavailable for a step that timed out, kInternal for another outcome than expected).
core::Status RunTour(const TourOptions& options, std::FILE* out);

}  // namespace stafett::tools
