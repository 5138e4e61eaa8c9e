// What `stafett status`/`track` and the console's operator views share: the config of whoever
// asks (an operator's, or an auditor's), the endpoint warnings, and the age format.
// Thread-safety: free functions, no state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "broker_client.h"

namespace stafett::tools {

// The [operator] section of PATH, or else its [auditor] section (auditors may see status and
// tracking too); *SECTION says which.
core::Result<ClientConfig> LoadOperatorOrAuditorConfig(const std::string& path,
                                                       std::string* section = nullptr);

struct EndpointWarning {
  enum class Kind { kOfflineWithBacklog, kSessionReplaced } kind;
  double seconds = 0;  // how long the oldest message has waited; since the last takeover
  uint64_t count = 0;  // kSessionReplaced: takeovers since the broker started
};

// A takeover of an endpoint's session by another connection with its key (docs/PROTOCOL.md,
// "Session") is warned about for this long.
inline constexpr double kSessionReplacedWarningSeconds = 3600;

// The warnings for one endpoint row of the status query: offline with messages waiting longer
// than WARN_AFTER seconds; its session taken over by another connection within the last
// kSessionReplacedWarningSeconds.
std::vector<EndpointWarning> EndpointWarnings(const nlohmann::json& endpoint, double warn_after);

// "45s", "12m", "3.5h"; "-" for nothing.
std::string Age(double seconds);

}  // namespace stafett::tools
