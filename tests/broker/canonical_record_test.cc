// CanonicalRecord writes the audit leaf directly; its definition (docs/AUDIT.md) is
// nlohmann::json's dump of the record object. The oracle below is that definition: every
// record, with or without links, code, actor or query, printable or not, gives its bytes.
#include <gtest/gtest.h>

#include <random>

#include "audit_log.h"
#include "stafett/core/clock.h"

namespace stafett::broker {
namespace {

std::string Oracle(uint64_t seq, core::Micros time, const AuditRecord& record,
                   const AuditLinks* links) {
  nlohmann::json json = {{"seq", seq},
                         {"time", core::FormatRfc3339(time)},
                         {"event", record.event},
                         {"message_id", record.message_id},
                         {"type", record.type},
                         {"from", record.from},
                         {"to", record.to},
                         {"subject", record.subject},
                         {"consent_id", record.consent_id}};
  if (!record.code.empty()) json["code"] = record.code;
  if (!record.actor.empty()) json["actor"] = record.actor;
  if (!record.query.is_null()) json["query"] = record.query;
  if (links != nullptr) {
    auto seq_or_null = [](const std::optional<uint64_t>& prev) {
      return prev ? nlohmann::json(*prev) : nlohmann::json(nullptr);
    };
    if (links->subject) json["prev_subject_seq"] = seq_or_null(*links->subject);
    if (!links->endpoints.empty()) {
      nlohmann::json endpoints = nlohmann::json::object();
      for (const auto& [endpoint, prev] : links->endpoints) endpoints[endpoint] = seq_or_null(prev);
      json["prev_endpoint_seq"] = endpoints;
    }
  }
  return json.dump();
}

TEST(CanonicalRecordTest, EveryRecordSerialisesExactlyAsTheDefinition) {
  std::mt19937 random(1203);
  auto below = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  // UTF-8 and control characters are rare but present: both of CanonicalRecord's paths run.
  auto text = [&] {
    static const std::vector<std::string> kOdd = {"\"", "\\", "\n", "\x01", "\xc3\xa9", "\x7f"};
    std::string out;
    for (size_t i = below(16); i > 0; --i) {
      if (below(40) == 0) {
        out += kOdd[below(kOdd.size())];
      } else {
        out.push_back(static_cast<char>(0x20 + below(0x5f)));
      }
    }
    return out;
  };
  int plain = 0;
  for (int i = 0; i < 3000; ++i) {
    AuditRecord record;
    record.event = text();
    record.message_id = text();
    record.type = text();
    record.from = text();
    for (size_t n = below(4); n > 0; --n) record.to.push_back(text());
    record.subject = text();
    record.consent_id = below(2) ? text() : "";
    record.code = below(3) == 0 ? text() : "";
    record.actor = below(4) == 0 ? text() : "";
    if (below(10) == 0) record.query = {{"subject", text()}, {"limit", below(100)}};
    AuditLinks links;
    if (below(2)) links.subject = below(2) ? std::optional<uint64_t>(below(1000)) : std::nullopt;
    for (size_t n = below(4); n > 0; --n) {
      links.endpoints[text()] = below(2) ? std::optional<uint64_t>(below(1000)) : std::nullopt;
    }
    uint64_t seq = below(2) ? below(1000) : UINT64_MAX - below(10);
    core::Micros time = static_cast<core::Micros>(below(4'000'000'000)) * 1'000'000;
    const AuditLinks* with = below(5) == 0 ? nullptr : &links;
    std::string expected = Oracle(seq, time, record, with);
    ASSERT_EQ(CanonicalRecord(seq, time, record, with), expected) << "record " << i;
    bool printable = record.query.is_null();
    for (char c : expected) printable = printable && c >= 0x20 && c <= 0x7e;
    plain += printable ? 1 : 0;
  }
  EXPECT_GT(plain, 1000);
  EXPECT_LT(plain, 2900);
}

}  // namespace
}  // namespace stafett::broker
