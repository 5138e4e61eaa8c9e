// How the CLI reports a failed command: one line on stderr, "stafett: CODE: message", and an
// exit code — 2 for usage and configuration errors (bad config, bad key file, bad arguments),
// 1 for runtime failures. Thread-safety: stateless free functions.
#pragma once

#include "stafett/core/status.h"

namespace stafett::tools {

inline constexpr int kExitRuntimeFailure = 1;
inline constexpr int kExitUsageError = 2;

// kExitUsageError for kConfigInvalid and kKeyInvalid, kExitRuntimeFailure otherwise (0 for ok).
int ExitCodeFor(const core::Status& status);

// Prints STATUS as one line on stderr and returns ExitCodeFor(STATUS).
int ReportFailure(const core::Status& status);

}  // namespace stafett::tools
