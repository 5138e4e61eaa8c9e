// libFuzzer entry for outbox documents (ParseDocument and the schemas); the checks are FuzzDocument
// in targets.cc. Thread-safety: as libFuzzer calls it, one input at a time.
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stafett::fuzz::FuzzDocument(data, size);
  return 0;
}
