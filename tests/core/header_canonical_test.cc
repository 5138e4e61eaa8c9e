// SerializeHeader writes the canonical form directly; its definition (docs/ENVELOPE.md) is
// nlohmann::json's dump of the header object: keys sorted, no whitespace, '"' and '\' escaped,
// control characters as \uXXXX or their short escapes, UTF-8 passed through, invalid UTF-8
// replaced. The oracle below is that definition; every header, valid or not, printable or
// not, must serialise to exactly its bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"

namespace stafett::core {
namespace {

using Json = nlohmann::json;

std::string Oracle(const Header& header) {
  Json json = Json::object();
  json["v"] = header.version;
  json["message_id"] = header.message_id;
  json["type"] = header.type;
  json["from"] = header.from;
  json["to"] = header.to;
  json["subject"] = header.subject;
  if (!header.consent_id.empty()) json["consent_id"] = header.consent_id;
  if (header.consent) {
    json["consent"] = {{"parties", header.consent->parties},
                       {"purposes", header.consent->purposes},
                       {"valid_from", FormatRfc3339(header.consent->valid_from)},
                       {"valid_until", FormatRfc3339(header.consent->valid_until)}};
  }
  if (!header.ref.empty()) json["ref"] = header.ref;
  json["sent_at"] = FormatRfc3339(header.sent_at);
  json["expires_at"] = FormatRfc3339(header.expires_at);
  json["payload"] = {{"size", header.payload_size}, {"digest", ToBase64(header.payload_digest)}};
  json["sender_key"] = header.sender_key_id;
  Json keys = Json::array();
  for (const WrappedKey& key : header.keys) {
    keys.push_back(
        {{"to", key.recipient}, {"key_id", key.key_id}, {"wrapped", ToBase64(key.sealed)}});
  }
  json["keys"] = std::move(keys);
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : random_(seed) {}
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random_); }
  // Mostly printable ASCII with the characters that need escaping; sometimes control
  // characters, UTF-8, DEL or bytes that are not UTF-8 at all.
  std::string Text() {
    static const std::vector<std::string> kOdd = {
        "\"", "\\", "/", "\n", "\t", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xff", "\xc3"};
    std::string out;
    size_t length = Below(20);
    for (size_t i = 0; i < length; ++i) {
      if (Below(10) == 0) {
        out += kOdd[Below(kOdd.size())];
      } else {
        out.push_back(static_cast<char>(0x20 + Below(0x5f)));
      }
    }
    return out;
  }
  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(Below(256));
    return out;
  }
  std::vector<std::string> Texts() {
    std::vector<std::string> out(Below(4));
    for (std::string& text : out) text = Text();
    return out;
  }
  Micros Time() {
    return static_cast<Micros>(Below(4'000'000'000)) * 1'000'000 + Below(1000) * 1000;
  }

  Header Next() {
    Header header;
    header.version = Below(5) == 0 ? static_cast<int>(Below(3)) : kEnvelopeVersion;
    header.message_id = Text();
    header.type = Text();
    header.from = Text();
    header.to = Texts();
    header.subject = Below(3) == 0 ? Text() : std::string(64, 'a');
    if (Below(2) == 0) header.consent_id = Text();
    if (Below(3) == 0) header.consent = ConsentScope{Texts(), Texts(), Time(), Time()};
    if (Below(3) == 0) header.ref = Text();
    header.sent_at = Time();
    header.expires_at = Time();
    header.payload_size = Below(2) == 0 ? Below(100) : UINT64_MAX - Below(10);
    header.payload_digest = Bytes(Below(3) == 0 ? Below(40) : 32);
    header.sender_key_id = Text();
    for (size_t i = Below(4); i > 0; --i) header.keys.push_back({Text(), Text(), Bytes(80)});
    return header;
  }

 private:
  std::mt19937 random_;
};

TEST(HeaderCanonicalTest, EveryHeaderSerialisesExactlyAsTheDefinition) {
  Generator generate(20261203);
  int plain = 0;
  for (int i = 0; i < 5000; ++i) {
    Header header = generate.Next();
    std::string expected = Oracle(header);
    ASSERT_EQ(SerializeHeader(header), expected) << "header " << i;
    bool printable = true;
    for (char c : expected) printable = printable && c >= 0x20 && c <= 0x7e;
    plain += printable ? 1 : 0;
  }
  // Both paths ran: the direct writer (all printable) and the fallback.
  EXPECT_GT(plain, 100);
  EXPECT_LT(plain, 4900);
}

TEST(HeaderCanonicalTest, ASealedHeaderIsItsOwnCanonicalForm) {
  Header header;
  header.message_id = "m-1";
  header.type = "consent_granted";
  header.from = "flen.school";
  header.to = {"flen.social", "flen.health"};
  header.subject = std::string(64, 'c');
  header.consent_id = "c-1";
  header.consent = ConsentScope{{"flen.school", "flen.social"}, {"support"}, 0, 1000};
  header.ref = "m-0";
  header.sent_at = 5000;
  header.expires_at = 9000;
  header.payload_size = 123;
  header.payload_digest = std::string(32, '\x07');
  header.sender_key_id = "0123456789abcdef";
  header.keys = {{"flen.social", "0123456789abcdef", std::string(80, 'x')},
                 {"flen.health", "fedcba9876543210", std::string(80, 'y')}};
  EXPECT_EQ(SerializeHeader(header), Oracle(header));
  Result<Header> parsed = ParseHeader(SerializeHeader(header));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, header);
}

}  // namespace
}  // namespace stafett::core
