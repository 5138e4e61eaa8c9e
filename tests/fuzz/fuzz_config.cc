// libFuzzer entry for TOML configuration (Config::Parse and its getters); the checks are FuzzConfig
// in targets.cc. Thread-safety: as libFuzzer calls it, one input at a time.
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stafett::fuzz::FuzzConfig(data, size);
  return 0;
}
