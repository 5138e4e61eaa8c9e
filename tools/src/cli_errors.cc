// One-line error reporting and exit codes for the CLI's commands.
// Thread-safety: stateless; writes to stderr.
#include "cli_errors.h"

#include <cstdio>
#include <string>

namespace stafett::tools {

int ExitCodeFor(const core::Status& status) {
  switch (status.code()) {
    case core::Code::kOk:
      return 0;
    case core::Code::kConfigInvalid:
    case core::Code::kKeyInvalid:
      return kExitUsageError;
    default:
      return kExitRuntimeFailure;
  }
}

int ReportFailure(const core::Status& status) {
  std::string line = status.ToString();
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "stafett: %s\n", line.c_str());
  return ExitCodeFor(status);
}

}  // namespace stafett::tools
