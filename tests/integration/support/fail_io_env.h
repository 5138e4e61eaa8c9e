// FailIoEnvironment: while it lives, child processes started by this test process preload the
// I/O fault shim (tests/fault_io/fail_io.c), which fails the calls that CONTROL names on paths
// under PREFIX. On destruction the environment is as it was. The shim comes before the
// sanitizer runtime in the preload order, which ASan would refuse: verify_asan_link_order=0 is
// added to ASAN_OPTIONS meanwhile.
// Thread-safety: one test thread, no other thread reading the environment meanwhile.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace stafett::testing {

class FailIoEnvironment {
 public:
  FailIoEnvironment(const std::string& control, const std::string& prefix);
  ~FailIoEnvironment();
  FailIoEnvironment(const FailIoEnvironment&) = delete;
  FailIoEnvironment& operator=(const FailIoEnvironment&) = delete;

 private:
  struct Saved {
    std::string name;
    std::optional<std::string> value;
  };
  void Set(const std::string& name, const std::string& value);
  std::vector<Saved> saved_;
};

}  // namespace stafett::testing
