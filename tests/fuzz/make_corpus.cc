// Writes the seed corpora of tests/fuzz/corpus/<target>/: real frames (protocol::Encode) and
// headers (SealEnvelope, with the fuzz targets' fixed keys), personnummer forms (fake,
// Luhn-valid numbers only), configs, documents (from schemas/examples), batch proofs (SignBatch
// with the fixed sender key), plus edge cases.
// Usage: fuzz_make_corpus DIR (the folder holding frames/, header/, ...). Envelopes are sealed
// with fresh random payload keys, so header and frame seeds differ from run to run.
// Thread-safety: a single-threaded program.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "stafett/core/batch_signature.h"
#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"
#include "stafett/core/protocol.h"
#include "targets.h"

namespace stafett::fuzz {
namespace {

namespace fs = std::filesystem;
using core::protocol::Command;
using Json = nlohmann::json;

class CorpusWriter {
 public:
  CorpusWriter(fs::path root, std::string target) : folder_(std::move(root) / target) {
    fs::create_directories(folder_);
  }
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(folder_ / name, std::ios::binary) << bytes;
  }

 private:
  fs::path folder_;
};

core::Micros Time(const char* text) { return *core::ParseRfc3339(text); }

std::string KeyIdOfBox(const core::BoxKeyPair& box) {
  return core::KeyIdOf("", box.public_key, "");
}

struct Sealed {
  core::Header header;
  core::Envelope envelope;
};

// A header as an agent seals it; `to` names the recipients ("flen.social" holds the fixed key).
Sealed Seal(const std::string& type, std::vector<std::string> to, const std::string& plaintext) {
  static const core::BoxKeyPair other = *core::BoxKeyPair::FromSecret(std::string(32, '\x03'));
  core::Header header;
  header.message_id = "0195a3c4-6e2f-7d41-9b0a-3f6c2e8d1a57";
  header.type = type;
  header.from = "flen.school";
  header.to = std::move(to);
  header.subject = "cd06206c4b586833522d0cddc49c22c29459529b2a33420751e32cd71ca0665b";
  header.consent_id = "consent-2026-0042";
  header.sent_at = Time("2026-03-01T10:00:00.123Z");
  header.expires_at = Time("2026-03-08T10:00:00.123Z");
  header.sender_key_id = core::KeyIdOf("", "", FuzzSenderKey().public_key);
  if (type == "consent_granted") {
    header.consent = core::ConsentScope{{"flen.school", "flen.social"},
                                        {"support"},
                                        Time("2026-03-01T00:00:00Z"),
                                        Time("2027-03-01T00:00:00Z")};
  }
  if (type == "referral_status") header.ref = "0195a3c4-0000-7d41-9b0a-3f6c2e8d1a57";
  if (type == "concern_report") {
    header.subject = "";
    header.consent_id = "";
  }
  std::vector<core::RecipientKey> keys;
  for (const std::string& recipient : header.to) {
    const core::BoxKeyPair& box = recipient == kFuzzRecipientId ? FuzzRecipientKey() : other;
    keys.push_back({recipient, KeyIdOfBox(box), box.public_key});
  }
  core::Result<core::Envelope> envelope =
      core::SealEnvelope(header, plaintext, FuzzSenderKey(), keys);
  if (!envelope.ok()) {
    std::fprintf(stderr, "cannot seal: %s\n", envelope.status().ToString().c_str());
    std::exit(1);
  }
  return {*core::ParseHeader(envelope->header_bytes), *envelope};
}

void WriteHeaders(const fs::path& root, const Sealed& one, const Sealed& consent) {
  CorpusWriter out(root, "header");
  out.Write("support-request-signed", JoinHeaderInput(one.envelope, false));
  out.Write("support-request-self-signed", JoinHeaderInput(one.envelope, true));
  out.Write("support-request-header-only", one.envelope.header_bytes);
  out.Write("consent-granted-signed", JoinHeaderInput(consent.envelope, false));
  const std::string payload(100, 'p');
  for (const auto& [type, to] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"assessment_referral", {"flen.social", "region.health", "region.bup"}},
           {"referral_status", {"flen.social"}},
           {"concern_report", {"flen.social"}}}) {
    out.Write(type + "-signed", JoinHeaderInput(Seal(type, to, payload).envelope, false));
  }
  // Not canonical: whitespace, member order, escapes, duplicates, other forms of times.
  const std::string bytes = one.envelope.header_bytes;
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = bytes;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  out.Write("space-after-colon", replaced("\"v\":1", "\"v\": 1"));
  out.Write("version-2", replaced("\"v\":1", "\"v\":2"));
  out.Write("version-string", replaced("\"v\":1", "\"v\":\"1\""));
  out.Write("escaped-letter", replaced("\"type\":\"s", "\"type\":\"\\u0073"));
  out.Write("duplicate-member", replaced("\"v\":1", "\"v\":1,\"v\":1"));
  out.Write("empty-consent-id", replaced("consent-2026-0042", ""));
  out.Write("time-with-offset", replaced("10:00:00.123Z", "11:00:00.123+01:00"));
  out.Write("time-in-seconds", replaced("10:00:00.123Z", "10:00:00Z"));
  out.Write("unknown-member", replaced("\"v\":1", "\"v\":1,\"w\":1"));
  out.Write("size-negative", replaced("\"size\":", "\"size\":-"));
  out.Write("truncated", bytes.substr(0, bytes.size() / 2));
  out.Write("array", "[" + bytes + "]");
  out.Write("not-json", "stafett-header-v1\n");
  out.Write("empty-object", "{}");
  out.Write("only-version", "{\"v\":1}");
}

// Appends the check digit to nine digits YYMMDDNNN.
std::string WithCheckDigit(const std::string& nine) {
  int sum = 0;
  for (size_t i = 0; i < nine.size(); ++i) {
    const int product = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += product / 10 + product % 10;
  }
  return nine + std::to_string((10 - sum % 10) % 10);
}

// CENTURY (two digits or "") + DATE (YYMMDD) + SEPARATOR + SERIAL (three digits) + check digit.
std::string FakeNumber(const std::string& century, const std::string& date,
                       const std::string& separator, const std::string& serial) {
  const std::string ten = WithCheckDigit(date + serial);
  return century + ten.substr(0, 6) + separator + ten.substr(6);
}

void WritePersonnummer(const fs::path& root) {
  CorpusWriter out(root, "personnummer");
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"long-dash", "19121212-1212"},
      {"long-digits", "191212121212"},
      {"short-dash", "121212-1212"},
      {"short-plus", "121212+1212"},
      {"short-digits", "1212121212"},
      {"coordination-long", FakeNumber("19", "121272", "-", "121")},
      {"coordination-short", FakeNumber("", "170968", "-", "452")},
      {"leap-day-2000", FakeNumber("20", "000229", "-", "123")},
      {"leap-day-1900", FakeNumber("19", "000229", "-", "123")},
      {"leap-day-short-plus", FakeNumber("", "000229", "+", "123")},
      {"leap-day-2004-short", FakeNumber("", "040229", "-", "123")},
      {"today", FakeNumber("20", "260301", "-", "123")},
      {"tomorrow", FakeNumber("20", "260302", "-", "123")},
      {"tomorrow-short", FakeNumber("", "260302", "-", "123")},
      {"future", FakeNumber("20", "300101", "-", "123")},
      {"year-0999", FakeNumber("09", "991212", "", "123")},
      {"month-13", FakeNumber("19", "121312", "-", "121")},
      {"day-00", FakeNumber("19", "121200", "-", "121")},
      {"day-92", FakeNumber("19", "121292", "-", "121")},
      {"bad-check-digit", "19121212-1213"},
      {"plus-in-long-form", "19121212+1212"},
      {"space-separator", "19121212 1212"},
      {"letters", "19121212-12AB"},
      {"two-dashes", "191212-12-12"},
      {"empty", ""},
      {"dash", "-"},
  };
  for (const auto& [name, text] : seeds) out.Write(name, text);
}

void WriteFrames(const fs::path& root, const Sealed& one) {
  CorpusWriter out(root, "frames");
  auto frame = [&](const std::string& name, Command command, std::vector<std::string> arguments) {
    out.Write(name, JoinFrames(core::protocol::Encode(command, std::move(arguments))));
  };
  const core::Envelope& envelope = one.envelope;
  const std::string id = one.header.message_id;
  frame("hello", Command::kHello, {R"({"agent":"stafett-agent/0.1.0","credit":32})"});
  frame("welcome", Command::kWelcome,
        {R"({"broker_version":"0.1.0","credit_window":32,"heartbeat_seconds":5,)"
         R"("max_message_bytes":16777216,"principal":"flen.school","protocol":1})"});
  frame("publish", Command::kPublish,
        {envelope.header_bytes, envelope.signature, envelope.payload});
  frame("accepted", Command::kAccepted,
        {Json{{"message_id", id}, {"seq", 17}, {"duplicate", false}}.dump()});
  frame("refused", Command::kRefused,
        {Json{{"message_id", id}, {"code", "CONSENT_REQUIRED"}, {"message", "no consent"}}.dump()});
  frame("deliver", Command::kDeliver,
        {R"({"accepted_at":"2026-03-01T10:00:01.000Z","attempt":1,"delivery":5,"seq":17})",
         envelope.header_bytes, envelope.signature, envelope.payload});
  frame("delivered", Command::kDelivered,
        {Json{{"message_id", id},
              {"delivery", 5},
              {"receipt_key", "338bbb8eddd15692"},
              {"receipt_signature", core::ToBase64(std::string(64, 's'))}}
             .dump()});
  frame("rejected", Command::kRejected,
        {Json{{"message_id", id}, {"delivery", 5}, {"code", "DECRYPT_FAILED"}, {"message", "x"}}
             .dump()});
  frame("receipt", Command::kReceipt,
        {Json{{"delivery", 9},
              {"message_id", id},
              {"recipient", "flen.social"},
              {"status", "delivered"},
              {"time", "2026-03-01T10:00:02.000Z"},
              {"seq", 18}}
             .dump()});
  frame("ack", Command::kAck, {R"({"delivery":9})"});
  frame("heartbeat", Command::kHeartbeat, {"{}"});
  for (
      const std::string& query :
      {R"({"id":1,"op":"status"})", R"({"id":2,"op":"track","message_id":"m-1"})",
       R"({"id":3,"op":"trail","subject":"cd06206c4b586833522d0cddc49c22c29459529b2a33420751e32cd71ca0665b"})",
       R"({"id":4,"op":"head","tree_size":10})",
       R"({"id":5,"op":"records","from_seq":0,"count":100})",
       R"({"id":6,"op":"inclusion","seqs":[1,2,3],"tree_size":10})",
       R"({"id":7,"op":"consistency","from_size":3,"to_size":10})",
       R"({"id":"x","op":"consents","subject":""})"}) {
    frame("query-" + Json::parse(query)["op"].get<std::string>(), Command::kQuery, {query});
  }
  frame("result", Command::kResult, {R"({"id":1,"ok":true,"endpoints":[],"audit_size":0})"});
  frame("result-refused", Command::kResult,
        {R"({"id":1,"ok":false,"code":"FORBIDDEN","message":"operators see metadata only"})"});
  frame("error", Command::kError, {R"({"code":"PROTOCOL_ERROR","message":"unknown command"})"});
  // Refusals.
  out.Write("empty", "");
  out.Write("version-only", JoinFrames({"STF1"}));
  out.Write("version-2", JoinFrames({"STF2", "HELLO", "{}"}));
  out.Write("unknown-command", JoinFrames({"STF1", "GOODBYE", "{}"}));
  out.Write("lowercase-command", JoinFrames({"STF1", "hello", "{}"}));
  out.Write("hello-two-arguments", JoinFrames({"STF1", "HELLO", "{}", "{}"}));
  out.Write("hello-array", JoinFrames({"STF1", "HELLO", "[]"}));
  out.Write("hello-null", JoinFrames({"STF1", "HELLO", "null"}));
  out.Write("hello-bad-utf8", JoinFrames({"STF1", "HELLO", "{\"agent\":\"\xff\xfe\"}"}));
  out.Write("hello-deep", JoinFrames({"STF1", "HELLO", "{\"a\":" + std::string(500, '[') + "}"}));
  out.Write("publish-two-arguments",
            JoinFrames({"STF1", "PUBLISH", envelope.header_bytes, envelope.signature}));
  out.Write("length-past-end", std::string("\x00\x04STF1\x00\x05HELLO\x7f\xff{}", 17));
}

void WriteConfigs(const fs::path& root) {
  CorpusWriter out(root, "config");
  out.Write("broker.toml", R"(# The broker's configuration.
[broker]
zmq_bind = "tcp://0.0.0.0:5570"
http_bind = "127.0.0.1:9570"
data_dir = "/var/lib/stafett/broker"
keys_dir = "keys"
trust_directory = "/etc/stafett/trust.json"
max_message_bytes = 16_777_216
min_free_bytes = 1073741824
fsync = true
max_batch = 256

[delivery]
credit_window = 32
redeliver_after_seconds = 30
default_ttl_seconds = 604800
heartbeat_seconds = 5

[audit]
tree_head_seconds = 60

[log]
format = "json"
level = "info"
)");
  out.Write("agent.toml", R"([agent]
id = "flen.school"
broker_zmq = "tcp://broker.flen.example:5570"
http_bind = "127.0.0.1:9580"
http_token = "secret-token"
keys_dir = "../keys"
trust_directory = "./trust/../trust.json"
pseudonym_key = "/etc/stafett/pseudonym.key"
outbox = "outbox"
inbox = "inbox"
data_dir = "data"
max_document_bytes = 8388608
credit = 32
reconnect_min_millis = 100
reconnect_max_millis = 30000

log = { format = "text", level = "debug" }
)");
  out.Write("wrong-types", R"(broker.max_message_bytes = "big"
broker.fsync = "yes"
delivery.credit_window = 3.5
log.level = ["info"]
agent.id = 42
agent.keys_dir = ""
)");
  out.Write("odd-values", R"(a = 0x7fffffffffffffff
b = -9223372036854775808
c = inf
d = nan
e = 1979-05-27T07:32:00-08:00
f = """
multi
line"""
g = 'literal \n'
h = "\u00e5\U0001F600\u0000"
i = [1, "two", [3], {x = 4}]
"quoted.key" = 1
[[tables]]
name = "first"
[[tables]]
name = "second"
[a.b.c]
d = true
)");
  out.Write("duplicate-key", "[log]\nlevel = \"info\"\nlevel = \"debug\"\n");
  out.Write("unterminated-string", "[log]\nlevel = \"info\n");
  out.Write("bad-table", "[log\nlevel = 1\n");
  out.Write("empty", "");
  out.Write("bad-utf8", "key = \"\xc3\x28\"\n");
}

void WriteDocuments(const fs::path& root) {
  CorpusWriter out(root, "document");
  const fs::path examples = fs::path(STAFETT_SOURCE_DIR) / "schemas" / "examples";
  const std::vector<std::string> chosen = {
      "valid/support_request-minimal.json",
      "valid/support_request-bridge-school-refusal.json",
      "valid/assessment_referral-preschool-speech.json",
      "valid/concern_report-bvc-urgent.json",
      "valid/concern_feedback-investigation-opened.json",
      "valid/consent_granted-joint-custody.json",
      "valid/consent_granted-youth-alone.json",
      "valid/consent_revoked-guardian.json",
      "valid/information_request-bup-asks-school.json",
      "valid/information_response-minimal.json",
      "valid/referral_status-declined-with-reason.json",
      "valid/sip_invitation-coordination-number.json",
      "valid/inbox_document-concern-report.json",
      "invalid/concern_report-bad-luhn.json",
      "invalid/consent_granted-until-before-from.json",
      "invalid/consent_granted-mismatched-consent-id.json",
      "invalid/consent_revoked-major-version-2.json",
      "invalid/document-personnummer-as-number.json",
      "invalid/information_request-born-in-the-future.json",
      "invalid/sip_invitation-bad-time.json",
  };
  for (const std::string& name : chosen) {
    std::ifstream in(examples / name, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (text.empty()) {
      std::fprintf(stderr, "missing example %s\n", name.c_str());
      std::exit(1);
    }
    // Compact, to keep the corpus small; the fuzzer adds the whitespace back.
    out.Write(fs::path(name).filename().string(), Json::parse(text).dump());
  }
  const std::string minimal =
      R"({"type":"support_request","to":["flen.social"],"subject":{"personnummer":"19121212-1212"},)"
      R"("consent_id":"c-1","body":{"reason":"r","requested":"q"}})";
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = minimal;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  out.Write("edge-newer-minor", replaced("{\"type\"", "{\"schema_version\":\"1.5\",\"type\""));
  out.Write("edge-ttl-float", replaced("\"body\"", "\"ttl_seconds\":6e2,\"body\""));
  out.Write("edge-ttl-huge", replaced("\"body\"", "\"ttl_seconds\":18446744073709551615,\"body\""));
  out.Write("edge-consent-null", replaced("\"c-1\"", "null"));
  out.Write("edge-short-personnummer", replaced("19121212-1212", "121212+1212"));
  out.Write("edge-extra-top-level", replaced("\"body\"", "\"extra\":{\"121212-1212\":1},\"body\""));
  out.Write("edge-deep", std::string(40, '[') + std::string(40, ']'));
  out.Write("edge-not-json", "{\"type\":");
  out.Write("edge-array", "[]");
}

// Proofs of real batches signed by FuzzSenderKey() under kFuzzBatchKeyId, each with its item
// (Ed25519 is deterministic: these seeds are the same on every run), and malformed ones.
void WriteBatchProofs(const fs::path& root) {
  CorpusWriter out(root, "batch_proof");
  for (size_t size : {size_t{1}, size_t{5}, size_t{13}}) {
    std::vector<std::string> items;
    for (size_t i = 0; i < size; ++i) items.push_back("header " + std::to_string(i));
    std::vector<std::string_view> views(items.begin(), items.end());
    const std::vector<core::BatchProof> proofs =
        *core::SignBatch(views, kFuzzBatchKeyId, FuzzSenderKey());
    for (size_t i : {size_t{0}, size - 1}) {
      const std::string bytes = core::EncodeBatchProof(proofs[i]);
      const std::string name = "batch-" + std::to_string(size) + "-leaf-" + std::to_string(i);
      out.Write(name, JoinFrames({bytes, items[i]}));
      if (size == 5 && i == 0) {
        out.Write("wrong-item", JoinFrames({bytes, items[1]}));
        out.Write("truncated", JoinFrames({bytes.substr(0, bytes.size() - 1), items[i]}));
        out.Write("trailing-byte", JoinFrames({bytes + '\0', items[i]}));
        std::string version = bytes;
        version[0] = 2;
        out.Write("version-2", JoinFrames({version, items[i]}));
        std::string count = bytes;
        count[17] = 2;
        out.Write("wrong-path-count", JoinFrames({count, items[i]}));
      }
    }
  }
  out.Write("empty", "");
}

}  // namespace
}  // namespace stafett::fuzz

int main(int argc, char** argv) {
  using namespace stafett::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const Sealed one =
      Seal("support_request", {"flen.social"}, "a referral: " + std::string(64, 'r'));
  const Sealed consent = Seal("consent_granted", {"flen.social", "region.health"}, "consent");
  WriteHeaders(root, one, consent);
  WriteFrames(root, one);
  WritePersonnummer(root);
  WriteConfigs(root);
  WriteDocuments(root);
  WriteBatchProofs(root);
  return 0;
}
