// The fuzz targets' bodies: one function per parser that takes untrusted bytes, each asserting
// that parser's invariants (no crash, no UB, round trips, no input echoed in errors) with
// __builtin_trap. The libFuzzer entries (fuzz_*.cc) and tests/core/fuzz_regression_test.cc call
// the same functions, so every crasher a fuzzer finds replays as a regression test.
// Thread-safety: the functions may run concurrently; SetCurrentInputName is for one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/envelope.h"

namespace stafett::fuzz {

// "Now" for every target (2026-03-01T12:00:00Z): personnummer centuries and future dates.
inline constexpr core::Micros kFuzzNow = 1772366400LL * 1000000;
// The document size limit ParseDocument gets in FuzzDocument (small, so TOO_LARGE is reachable).
inline constexpr size_t kFuzzMaxDocumentBytes = 32 * 1024;
// The file name Config::Parse gets in FuzzConfig; relative paths resolve against its folder.
inline constexpr std::string_view kFuzzConfigFile = "/etc/stafett/fuzz.toml";

// The fixed keys of FuzzHeader: the sender whose signature it checks, and one recipient
// ("flen.social") whose payload key it tries to unwrap. make_corpus seals the seeds with them.
const core::SigningKeyPair& FuzzSenderKey();
const core::BoxKeyPair& FuzzRecipientKey();
inline constexpr std::string_view kFuzzRecipientId = "flen.social";

// FuzzFrames input: frames one after another, each a 2-byte big-endian length and then that
// many bytes (a length past the end takes what is left). At most kMaxFuzzFrames frames.
inline constexpr size_t kMaxFuzzFrames = 16;
std::vector<std::string> SplitFrames(std::string_view input);
std::string JoinFrames(const std::vector<std::string>& frames);

// FuzzHeader input: header bytes, optionally followed by a 0x00 byte, a mode byte and the rest:
//   mode 'x': a 64-byte signature from the input, then the payload;
//   any other mode: the payload; the target signs the header itself with FuzzSenderKey(), so
//   mutated headers still reach the checks after the signature.
// Without the 0x00 byte the whole input is the header, signed by the target, with no payload.
std::string JoinHeaderInput(const core::Envelope& envelope, bool signed_by_target);

// FuzzBatchProof input: frames as for FuzzFrames; frame 0 is the encoded BatchProof, frame 1
// (absent = empty) the item it is checked against, signed in a batch by FuzzSenderKey() under
// kFuzzBatchKeyId. make_corpus writes real batches' proofs with their items.
inline constexpr std::string_view kFuzzBatchKeyId = "f0f1f2f3f4f5f6f7";

// The targets. Each returns normally unless an invariant fails (then it traps).
void FuzzFrames(const uint8_t* data, size_t size);        // protocol::Decode (+ ParseHeader)
void FuzzHeader(const uint8_t* data, size_t size);        // ParseHeader, VerifyEnvelope, Open
void FuzzPersonnummer(const uint8_t* data, size_t size);  // ParsePersonnummer
void FuzzConfig(const uint8_t* data, size_t size);        // Config::Parse and its getters
void FuzzDocument(const uint8_t* data, size_t size);      // ParseDocument (schema validation)
void FuzzBatchProof(const uint8_t* data, size_t size);    // ParseBatchProof, VerifyBatchItem

struct FuzzTarget {
  std::string_view name;  // the folder under tests/fuzz/corpus/ and regressions/
  void (*function)(const uint8_t* data, size_t size);
};

// Every target; tests/fuzz/run.sh lists the same names, with each one's -max_len.
const std::vector<FuzzTarget>& FuzzTargets();

// Named in the message of a failing invariant (the regression test sets the file's path).
void SetCurrentInputName(std::string name);

}  // namespace stafett::fuzz
