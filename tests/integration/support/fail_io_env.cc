// FailIoEnvironment (fail_io_env.h).
#include "integration/support/fail_io_env.h"

#include <cstdlib>

namespace stafett::testing {

FailIoEnvironment::FailIoEnvironment(const std::string& control, const std::string& prefix) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  std::string options = asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "";
  Set("LD_PRELOAD", STAFETT_FAIL_IO_LIB);
  Set("STAFETT_FAIL_IO_CONTROL", control);
  Set("STAFETT_FAIL_IO_PREFIX", prefix);
  Set("ASAN_OPTIONS", options + "verify_asan_link_order=0");
}

FailIoEnvironment::~FailIoEnvironment() {
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    if (it->value) {
      ::setenv(it->name.c_str(), it->value->c_str(), 1);
    } else {
      ::unsetenv(it->name.c_str());
    }
  }
}

void FailIoEnvironment::Set(const std::string& name, const std::string& value) {
  const char* before = std::getenv(name.c_str());
  saved_.push_back({name, before ? std::optional<std::string>(before) : std::nullopt});
  ::setenv(name.c_str(), value.c_str(), 1);
}

}  // namespace stafett::testing
