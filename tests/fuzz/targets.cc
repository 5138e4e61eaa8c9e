// The fuzz targets' bodies and the invariants each asserts (see targets.h). Built into every
// libFuzzer binary and #included by tests/core/fuzz_regression_test.cc, so a failing check traps
// in both. Thread-safety: see targets.h.
#include "targets.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "stafett/core/batch_signature.h"
#include "stafett/core/config.h"
#include "stafett/core/document.h"
#include "stafett/core/personnummer.h"
#include "stafett/core/protocol.h"
#include "stafett/core/status.h"

// Traps, after naming the condition and the input, when CONDITION is false.
#define STAFETT_FUZZ_CHECK(condition)                                         \
  do {                                                                        \
    if (!(condition)) ::stafett::fuzz::InvariantFailed(#condition, __LINE__); \
  } while (0)

namespace stafett::fuzz {
namespace {

using core::Code;
using core::Result;

// kFuzzNow's UTC date as YYYYMMDD.
constexpr int kFuzzToday = 20260301;

std::string& CurrentInputName() {
  static std::string name;
  return name;
}

std::string_view AsText(const uint8_t* data, size_t size) {
  return size == 0 ? std::string_view()
                   : std::string_view(reinterpret_cast<const char*>(data), size);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view text) { return std::all_of(text.begin(), text.end(), IsDigit); }

int Number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Whether MESSAGE contains RUN consecutive digits of INPUT: an error quoting the input's
// numbers (a personnummer, most of all).
bool EchoesDigits(std::string_view message, std::string_view input, size_t run) {
  size_t start = 0;
  while (start < input.size()) {
    if (!IsDigit(input[start])) {
      ++start;
      continue;
    }
    size_t end = start;
    while (end < input.size() && IsDigit(input[end])) ++end;
    for (size_t i = start; i + run <= end; ++i) {
      if (message.find(input.substr(i, run)) != std::string_view::npos) return true;
    }
    start = end;
  }
  return false;
}

// Short printable ASCII: what an error message that does not quote binary frames looks like.
bool IsShortPlainMessage(std::string_view message, size_t limit) {
  return message.size() <= limit &&
         std::all_of(message.begin(), message.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

[[noreturn]] void InvariantFailed(const char* condition, int line) {
  const std::string& input = CurrentInputName();
  std::fprintf(stderr, "fuzz invariant failed: %s (tests/fuzz/targets.cc:%d)%s%s\n", condition,
               line, input.empty() ? "" : ", input ", input.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

}  // namespace

void SetCurrentInputName(std::string name) { CurrentInputName() = std::move(name); }

const core::SigningKeyPair& FuzzSenderKey() {
  static const core::SigningKeyPair key = *core::SigningKeyPair::FromSeed(std::string(32, '\x01'));
  return key;
}

const core::BoxKeyPair& FuzzRecipientKey() {
  static const core::BoxKeyPair key = *core::BoxKeyPair::FromSecret(std::string(32, '\x02'));
  return key;
}

namespace {

const core::SigningKeyPair& OtherSenderKey() {
  static const core::SigningKeyPair key = *core::SigningKeyPair::FromSeed(std::string(32, '\x09'));
  return key;
}

// ParseHeader's contract: a parsed header is valid, consistent and serialises to exactly the
// bytes it came from; a refusal has one of the documented codes and does not quote the bytes.
std::optional<core::Header> ParseAndCheckHeader(std::string_view bytes) {
  Result<core::Header> header = core::ParseHeader(bytes);
  if (!header.ok()) {
    const Code code = header.status().code();
    STAFETT_FUZZ_CHECK(code == Code::kTooLarge || code == Code::kProtocolError ||
                       code == Code::kSchemaInvalid);
    STAFETT_FUZZ_CHECK((code == Code::kTooLarge) == (bytes.size() > core::kMaxHeaderBytes));
    STAFETT_FUZZ_CHECK(IsShortPlainMessage(header.status().message(), 120));
    return std::nullopt;
  }
  STAFETT_FUZZ_CHECK(core::SerializeHeader(*header) == bytes);
  STAFETT_FUZZ_CHECK(core::ValidateHeader(*header).ok());
  STAFETT_FUZZ_CHECK(header->consent.has_value() == (header->type == "consent_granted"));
  STAFETT_FUZZ_CHECK(header->keys.size() == header->to.size());
  for (size_t i = 0; i < header->to.size(); ++i) {
    STAFETT_FUZZ_CHECK(core::FindWrappedKey(*header, header->to[i]) == &header->keys[i]);
  }
  return std::move(header).value();
}

}  // namespace

std::vector<std::string> SplitFrames(std::string_view input) {
  std::vector<std::string> frames;
  while (input.size() >= 2 && frames.size() < kMaxFuzzFrames) {
    size_t length =
        static_cast<size_t>(static_cast<uint8_t>(input[0])) << 8 | static_cast<uint8_t>(input[1]);
    input.remove_prefix(2);
    length = std::min(length, input.size());
    frames.emplace_back(input.substr(0, length));
    input.remove_prefix(length);
  }
  return frames;
}

std::string JoinFrames(const std::vector<std::string>& frames) {
  std::string joined;
  for (const std::string& frame : frames) {
    const size_t length = std::min<size_t>(frame.size(), 0xffff);
    joined.push_back(static_cast<char>(length >> 8));
    joined.push_back(static_cast<char>(length & 0xff));
    joined.append(frame, 0, length);
  }
  return joined;
}

void FuzzFrames(const uint8_t* data, size_t size) {
  namespace protocol = core::protocol;
  const std::vector<std::string> frames = SplitFrames(AsText(data, size));
  Result<protocol::Message> message = protocol::Decode(frames);
  if (!message.ok()) {
    STAFETT_FUZZ_CHECK(message.status().code() == Code::kProtocolError);
    STAFETT_FUZZ_CHECK(IsShortPlainMessage(message.status().message(), 80));
    return;
  }
  const protocol::CommandSpec& spec =
      protocol::CommandTable()[static_cast<size_t>(message->command)];
  STAFETT_FUZZ_CHECK(spec.command == message->command);
  STAFETT_FUZZ_CHECK(frames[0] == protocol::kVersion && frames[1] == spec.name);
  STAFETT_FUZZ_CHECK(message->arguments.size() == spec.argument_count);
  STAFETT_FUZZ_CHECK(!spec.first_is_json || message->object.is_object());
  STAFETT_FUZZ_CHECK(protocol::Encode(message->command, message->arguments) == frames);
  // Answers and logs re-serialise JSON arguments; parsed JSON is valid UTF-8, so this never throws.
  if (spec.first_is_json) STAFETT_FUZZ_CHECK(!message->object.dump().empty());
  // What broker and agents do next with an envelope's frames.
  if (message->command == protocol::Command::kPublish) {
    (void)ParseAndCheckHeader(message->arguments[0]);
  } else if (message->command == protocol::Command::kDeliver) {
    (void)ParseAndCheckHeader(message->arguments[1]);
  }
}

namespace {

struct HeaderInput {
  std::string_view header;
  std::optional<std::string_view> signature;  // none: the target signs
  std::string_view payload;
};

HeaderInput SplitHeaderInput(std::string_view input) {
  HeaderInput parts;
  const size_t end = input.find('\0');
  parts.header = input.substr(0, end);
  if (end == std::string_view::npos) return parts;
  std::string_view rest = input.substr(end + 1);
  if (!rest.empty() && rest[0] == 'x') {
    rest.remove_prefix(1);
    parts.signature = rest.substr(0, std::min(rest.size(), core::kSignatureBytes));
    rest.remove_prefix(parts.signature->size());
  } else if (!rest.empty()) {
    rest.remove_prefix(1);
  }
  parts.payload = rest;
  return parts;
}

}  // namespace

std::string JoinHeaderInput(const core::Envelope& envelope, bool signed_by_target) {
  std::string joined = envelope.header_bytes;
  joined.push_back('\0');
  if (signed_by_target) {
    joined += "s";
  } else {
    joined += "x" + envelope.signature;
  }
  return joined + envelope.payload;
}

void FuzzHeader(const uint8_t* data, size_t size) {
  const HeaderInput input = SplitHeaderInput(AsText(data, size));
  const std::optional<core::Header> header = ParseAndCheckHeader(input.header);
  if (!header) return;
  Result<core::Header> again = core::ParseHeader(core::SerializeHeader(*header));
  STAFETT_FUZZ_CHECK(again.ok() && *again == *header);

  const std::string signing_input = core::HeaderSigningInput(input.header);
  core::Envelope envelope;
  envelope.header_bytes = std::string(input.header);
  envelope.signature =
      input.signature ? std::string(*input.signature) : core::Sign(FuzzSenderKey(), signing_input);
  envelope.payload = std::string(input.payload);
  // VerifyEnvelope against the primitives: signature, then size and digest of the payload.
  const bool signature_good =
      core::Verify(FuzzSenderKey().public_key, signing_input, envelope.signature);
  const bool payload_good = envelope.payload.size() == header->payload_size &&
                            core::Sha256(envelope.payload) == header->payload_digest;
  const core::Status verified = core::VerifyEnvelope(envelope, *header, FuzzSenderKey().public_key);
  STAFETT_FUZZ_CHECK(verified.ok() == (signature_good && payload_good));
  STAFETT_FUZZ_CHECK(verified.ok() || verified.code() == Code::kBadSignature);
  if (!verified.ok()) return;
  STAFETT_FUZZ_CHECK(!core::VerifyEnvelope(envelope, *header, OtherSenderKey().public_key).ok());
  core::Header altered = *header;
  altered.payload_size += 1;
  STAFETT_FUZZ_CHECK(!core::VerifyEnvelope(envelope, altered, FuzzSenderKey().public_key).ok());

  // The recipient's side: the plaintext, or DECRYPT_FAILED.
  Result<std::string> plaintext =
      core::OpenEnvelope(envelope, *header, std::string(kFuzzRecipientId), FuzzRecipientKey());
  STAFETT_FUZZ_CHECK(plaintext.ok() || plaintext.status().code() == Code::kDecryptFailed);
  STAFETT_FUZZ_CHECK(!plaintext.ok() || core::FindWrappedKey(*header, kFuzzRecipientId) != nullptr);
  STAFETT_FUZZ_CHECK(!plaintext.ok() ||
                     plaintext->size() + core::kMinPayloadBytes == envelope.payload.size());
}

namespace {

// Luhn over all ten digits YYMMDDNNNC, from the right (an implementation independent of core's).
bool LuhnMatches(std::string_view digits10) {
  int sum = 0;
  for (size_t i = 0; i < digits10.size(); ++i) {
    int digit = digits10[digits10.size() - 1 - i] - '0';
    if (i % 2 == 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 == 0;
}

Result<core::Personnummer> Reparse(const std::string& text) {
  return core::ParsePersonnummer(text, kFuzzNow);
}

}  // namespace

void FuzzPersonnummer(const uint8_t* data, size_t size) {
  const std::string_view text = AsText(data, size);
  const Result<core::Personnummer> number = core::ParsePersonnummer(text, kFuzzNow);
  if (!number.ok()) {
    STAFETT_FUZZ_CHECK(number.status().code() == Code::kSchemaInvalid);
    STAFETT_FUZZ_CHECK(!EchoesDigits(number.status().message(), text, 4));
    return;
  }
  const std::string& digits = number->digits12;
  STAFETT_FUZZ_CHECK(digits.size() == 12 && AllDigits(digits));
  STAFETT_FUZZ_CHECK(LuhnMatches(digits.substr(2)));
  const int year = Number(digits.substr(0, 4));
  const int month = Number(digits.substr(4, 2));
  const int day_field = Number(digits.substr(6, 2));
  const int day = day_field > 60 ? day_field - 60 : day_field;
  STAFETT_FUZZ_CHECK(number->coordination == (day_field > 60));
  STAFETT_FUZZ_CHECK(year * 10000 + month * 100 + day <= kFuzzToday);  // not born in the future
  // Month, day, serial and check digit are the input's; a long form's year too.
  STAFETT_FUZZ_CHECK(text.substr(text.size() - 4) == digits.substr(8));
  const bool long_form = text.size() >= 12;
  if (long_form) {
    STAFETT_FUZZ_CHECK(text.substr(0, 8) == digits.substr(0, 8));
  } else {
    STAFETT_FUZZ_CHECK(text.substr(0, 6) == digits.substr(2, 6));
  }

  // The long forms parse back to the same number.
  for (const std::string& form : {core::FormatPersonnummer(*number), digits}) {
    const Result<core::Personnummer> again = Reparse(form);
    STAFETT_FUZZ_CHECK(again.ok() && *again == *number);
  }
  // The short forms: '-' names the latest century not putting the birth after today, '+' the
  // one before (a leap day may not exist then).
  const std::string date = digits.substr(2, 6);
  const std::string serial = digits.substr(8);
  const Result<core::Personnummer> recent = Reparse(date + "-" + serial);
  STAFETT_FUZZ_CHECK(recent.ok() && recent->digits12.substr(2) == digits.substr(2));
  const int recent_year = Number(recent->digits12.substr(0, 4));
  const int recent_date = recent_year * 10000 + month * 100 + day;
  STAFETT_FUZZ_CHECK(recent_date <= kFuzzToday && recent_date > kFuzzToday - 1000000);
  const Result<core::Personnummer> older = Reparse(date + "+" + serial);
  STAFETT_FUZZ_CHECK(older.ok() || (month == 2 && day == 29));
  STAFETT_FUZZ_CHECK(!older.ok() || (Number(older->digits12.substr(0, 4)) == recent_year - 100 &&
                                     older->digits12.substr(2) == digits.substr(2)));
  if (text.size() == 11 && text[6] == '+') {
    STAFETT_FUZZ_CHECK(older.ok() && *older == *number);
  } else if (!long_form) {
    STAFETT_FUZZ_CHECK(*recent == *number);
  }
}

namespace {

// The keys broker and agent read, and the keys the text itself names ("[section]" + "name =").
std::vector<std::string> ConfigKeys(std::string_view text) {
  std::vector<std::string> keys = {
      "agent.id",
      "agent.broker_zmq",
      "agent.http_bind",
      "agent.keys_dir",
      "agent.max_document_bytes",
      "broker.zmq_bind",
      "broker.data_dir",
      "broker.fsync",
      "broker.max_message_bytes",
      "delivery.credit_window",
      "log.level",
      "log.format",
  };
  auto trim = [](std::string_view part) {
    const size_t begin = part.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos) return std::string_view();
    return part.substr(begin, part.find_last_not_of(" \t\r") - begin + 1);
  };
  constexpr size_t kMaxNamed = 32;
  std::string section;
  for (size_t named = 0; !text.empty() && named < kMaxNamed;) {
    const size_t end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.starts_with('[')) {
      const size_t begin = line.find_first_not_of('[');
      const size_t close = line.find(']');
      section = begin == std::string_view::npos
                    ? ""
                    : std::string(trim(line.substr(begin, close - begin)));
      keys.push_back(section);
      ++named;
    } else if (const size_t equals = line.find('='); equals != std::string_view::npos) {
      const std::string name(trim(line.substr(0, equals)));
      keys.push_back(section.empty() ? name : section + "." + name);
      ++named;
    }
  }
  return keys;
}

// The getters' contract for one key: the fallback when it is absent; when present, the value or
// an error naming file and key, and at most one type accepting it.
void CheckConfigKey(const core::Config& config, const std::string& key) {
  const std::string prefix = std::string(kFuzzConfigFile) + ": " + key + ": ";
  auto named = [&](const core::Status& status) {
    return status.code() == Code::kConfigInvalid && status.message().starts_with(prefix);
  };
  const Result<std::string> text = config.GetString(key, "fallback");
  const Result<int64_t> number = config.GetInt(key, 7, 0, 1000);
  const Result<int64_t> any_number = config.GetInt(key, std::nullopt);
  const Result<bool> flag = config.GetBool(key, true);
  const Result<std::vector<std::string>> list =
      config.GetStringList(key, std::vector<std::string>{"a"});
  const Result<std::filesystem::path> path = config.GetPath(key, "fallback");
  if (!config.Has(key)) {
    STAFETT_FUZZ_CHECK(text.ok() && *text == "fallback");
    STAFETT_FUZZ_CHECK(number.ok() && *number == 7 && !any_number.ok());
    STAFETT_FUZZ_CHECK(named(any_number.status()));
    STAFETT_FUZZ_CHECK(flag.ok() && *flag && list.ok() && list->size() == 1);
    STAFETT_FUZZ_CHECK(path.ok() &&
                       *path == std::filesystem::path(kFuzzConfigFile).parent_path() / "fallback");
    return;
  }
  for (const core::Status* status : {&text.status(), &number.status(), &any_number.status(),
                                     &flag.status(), &list.status(), &path.status()}) {
    STAFETT_FUZZ_CHECK(status->ok() || named(*status));
  }
  STAFETT_FUZZ_CHECK(!number.ok() || (*number >= 0 && *number <= 1000));
  STAFETT_FUZZ_CHECK(!path.ok() || (path->is_absolute() && *path == path->lexically_normal()));
  STAFETT_FUZZ_CHECK(path.ok() == (text.ok() && !text->empty()));
  STAFETT_FUZZ_CHECK(text.ok() + any_number.ok() + flag.ok() + list.ok() <= 1);
}

}  // namespace

void FuzzConfig(const uint8_t* data, size_t size) {
  const std::string text(AsText(data, size));
  const Result<core::Config> config = core::Config::Parse(text, std::string(kFuzzConfigFile));
  if (!config.ok()) {
    STAFETT_FUZZ_CHECK(config.status().code() == Code::kConfigInvalid);
    STAFETT_FUZZ_CHECK(config.status().message().starts_with(std::string(kFuzzConfigFile) + ": "));
    return;
  }
  for (const std::string& key : ConfigKeys(text)) CheckConfigKey(*config, key);
}

void FuzzDocument(const uint8_t* data, size_t size) {
  const std::string_view text = AsText(data, size);
  std::vector<std::string> pointers;
  Result<core::Document> document =
      core::ParseDocument(text, kFuzzMaxDocumentBytes, kFuzzNow, &pointers);
  if (!document.ok()) {
    const core::Status& status = document.status();
    const Code code = status.code();
    STAFETT_FUZZ_CHECK(code == Code::kTooLarge || code == Code::kSchemaInvalid ||
                       code == Code::kConsentRequired);
    STAFETT_FUZZ_CHECK((code == Code::kTooLarge) == (size > kFuzzMaxDocumentBytes));
    STAFETT_FUZZ_CHECK(!pointers.empty());
    for (const std::string& pointer : pointers) {
      STAFETT_FUZZ_CHECK(pointer.empty() || pointer[0] == '/');
      STAFETT_FUZZ_CHECK(!EchoesDigits(pointer, text, 6));
    }
    // Never the document's values: no personnummer (nor any other long number) in the message.
    STAFETT_FUZZ_CHECK(code == Code::kTooLarge || !EchoesDigits(status.message(), text, 6));
    // The agent writes this to the error file and the HTTP answer; it must serialise.
    STAFETT_FUZZ_CHECK(!core::DocumentErrorJson({status, pointers}).dump().empty());
    return;
  }
  STAFETT_FUZZ_CHECK(pointers.empty());
  const Result<core::Personnummer> number = Reparse(document->personnummer12);
  STAFETT_FUZZ_CHECK(number.ok() && number->digits12 == document->personnummer12 &&
                     number->coordination == document->coordination_number);
  STAFETT_FUZZ_CHECK(!document->type.empty() && !document->to.empty());
  STAFETT_FUZZ_CHECK(document->ttl_seconds >= 60 && document->ttl_seconds <= 31536000);
  STAFETT_FUZZ_CHECK(document->body.is_object() && !document->body.dump().empty());
  STAFETT_FUZZ_CHECK(!core::TypeNeedsConsent(document->type) || !document->consent_id.empty());
  STAFETT_FUZZ_CHECK(document->consent.has_value() == (document->type == "consent_granted"));
  if (document->consent) {
    const core::ConsentGrantFacts& facts = *document->consent;
    STAFETT_FUZZ_CHECK(facts.valid_from < facts.valid_until);
    STAFETT_FUZZ_CHECK(facts.consent_id == document->consent_id);
    const core::ConsentScope scope = core::ToConsentScope(facts);
    STAFETT_FUZZ_CHECK(scope.valid_from % 1000 == 0 && scope.valid_until % 1000 == 0);
    STAFETT_FUZZ_CHECK(scope.valid_from <= scope.valid_until);
  }
}

// ParseBatchProof's contract: a parsed proof has a size in 1..max, an index below it, a path of
// the RFC length and encodes back to exactly its bytes; a refusal is PROTOCOL_ERROR with a short
// plain message. VerifyBatchItem agrees with the primitives (path by RootFromInclusionProof,
// Ed25519 by Verify), with and without the cache, and a cached root does not let another
// signature or another sender key through.
void FuzzBatchProof(const uint8_t* data, size_t size) {
  const std::vector<std::string> frames = SplitFrames(AsText(data, size));
  const std::string proof_bytes = frames.empty() ? std::string() : frames[0];
  const std::string item = frames.size() > 1 ? frames[1] : std::string();
  Result<core::BatchProof> proof = core::ParseBatchProof(proof_bytes);
  if (!proof.ok()) {
    STAFETT_FUZZ_CHECK(proof.status().code() == Code::kProtocolError);
    STAFETT_FUZZ_CHECK(IsShortPlainMessage(proof.status().message(), 120));
    return;
  }
  STAFETT_FUZZ_CHECK(proof->batch_size >= 1 && proof->batch_size <= core::kMaxBatchItems);
  STAFETT_FUZZ_CHECK(proof->leaf_index < proof->batch_size);
  STAFETT_FUZZ_CHECK(proof->path.size() ==
                     core::BatchPathLength(proof->leaf_index, proof->batch_size));
  STAFETT_FUZZ_CHECK(proof->signature.size() == core::kSignatureBytes);
  STAFETT_FUZZ_CHECK(core::EncodeBatchProof(*proof) == proof_bytes);

  const std::string& sender = FuzzSenderKey().public_key;
  Result<core::Hash> root = core::RootFromInclusionProof(proof->leaf_index, proof->batch_size,
                                                         core::LeafHash(item), proof->path);
  const bool path_good = root.ok() && *root == proof->root;
  const bool signature_good =
      core::Verify(sender, core::BatchSigningInput(kFuzzBatchKeyId, proof->batch_size, proof->root),
                   proof->signature);
  const core::Status verdict = core::VerifyBatchItem(item, *proof, kFuzzBatchKeyId, sender);
  STAFETT_FUZZ_CHECK(verdict.ok() == (path_good && signature_good));
  STAFETT_FUZZ_CHECK(verdict.ok() || verdict.code() == Code::kBadSignature);
  STAFETT_FUZZ_CHECK(IsShortPlainMessage(verdict.message(), 160));
  core::VerifiedRootCache cache(2);
  for (int round = 0; round < 2; ++round) {
    const core::Status cached =
        core::VerifyBatchItem(item, *proof, kFuzzBatchKeyId, sender, &cache);
    STAFETT_FUZZ_CHECK(cached.ok() == verdict.ok());
  }
  if (!verdict.ok()) return;
  STAFETT_FUZZ_CHECK(cache.signature_verifications() == 1 && cache.hits() == 1);
  core::BatchProof forged = *proof;
  forged.signature[0] = static_cast<char>(forged.signature[0] ^ 0x01);
  STAFETT_FUZZ_CHECK(!core::VerifyBatchItem(item, forged, kFuzzBatchKeyId, sender, &cache).ok());
  STAFETT_FUZZ_CHECK(
      !core::VerifyBatchItem(item, *proof, kFuzzBatchKeyId, OtherSenderKey().public_key, &cache)
           .ok());
  STAFETT_FUZZ_CHECK(
      !core::VerifyBatchItem(item + "x", *proof, kFuzzBatchKeyId, sender, &cache).ok());
}

const std::vector<FuzzTarget>& FuzzTargets() {
  static const std::vector<FuzzTarget> kTargets = {
      {"frames", FuzzFrames}, {"header", FuzzHeader},     {"personnummer", FuzzPersonnummer},
      {"config", FuzzConfig}, {"document", FuzzDocument}, {"batch_proof", FuzzBatchProof},
  };
  return kTargets;
}

}  // namespace stafett::fuzz
