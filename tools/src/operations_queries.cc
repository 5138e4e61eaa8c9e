// Shared operator-side logic for the CLI and the console.
#include "operations_queries.h"

#include <cstdio>

namespace stafett::tools {

core::Result<ClientConfig> LoadOperatorOrAuditorConfig(const std::string& path,
                                                       std::string* section) {
  core::Result<ClientConfig> config = LoadClientConfig(path, "operator");
  if (config.ok()) {
    if (section != nullptr) *section = "operator";
    return config;
  }
  core::Result<ClientConfig> auditor = LoadClientConfig(path, "auditor");
  if (!auditor.ok()) return config.status();
  if (section != nullptr) *section = "auditor";
  return auditor;
}

std::vector<EndpointWarning> EndpointWarnings(const nlohmann::json& endpoint, double warn_after) {
  std::vector<EndpointWarning> warnings;
  double oldest = endpoint.value("oldest_undelivered_seconds", 0.0);
  if (!endpoint.value("connected", false) && endpoint.value("queue_depth", 0) > 0 &&
      oldest > warn_after) {
    warnings.push_back({EndpointWarning::Kind::kOfflineWithBacklog, oldest});
  }
  uint64_t replaced = endpoint.value("sessions_replaced", uint64_t{0});
  double since = endpoint.value("last_replaced_seconds", -1.0);
  if (replaced > 0 && since >= 0 && since < kSessionReplacedWarningSeconds) {
    warnings.push_back({EndpointWarning::Kind::kSessionReplaced, since, replaced});
  }
  return warnings;
}

std::string Age(double seconds) {
  if (seconds <= 0) return "-";
  char buffer[32];
  if (seconds < 120) {
    std::snprintf(buffer, sizeof(buffer), "%.0fs", seconds);
  } else if (seconds < 7200) {
    std::snprintf(buffer, sizeof(buffer), "%.0fm", seconds / 60);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1fh", seconds / 3600);
  }
  return buffer;
}

}  // namespace stafett::tools
