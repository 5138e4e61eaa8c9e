// libFuzzer entry for envelope headers (ParseHeader, VerifyEnvelope, OpenEnvelope); the checks are
// FuzzHeader in targets.cc. Thread-safety: as libFuzzer calls it, one input at a time.
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stafett::fuzz::FuzzHeader(data, size);
  return 0;
}
