// libFuzzer entry for batch proofs (ParseBatchProof, VerifyBatchItem); the checks are
// FuzzBatchProof in targets.cc. Thread-safety: as libFuzzer calls it, one input at a time.
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stafett::fuzz::FuzzBatchProof(data, size);
  return 0;
}
