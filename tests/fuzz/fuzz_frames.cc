// libFuzzer entry for the wire frames (protocol::Decode); the checks are FuzzFrames in targets.cc.
// Thread-safety: as libFuzzer calls it, one input at a time.
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stafett::fuzz::FuzzFrames(data, size);
  return 0;
}
