// Tests for hex, base64 and Z85 (RFC 32 vector). Thread-safety: n/a (test).
#include "stafett/core/encoding.h"

#include <gtest/gtest.h>

namespace stafett::core {
namespace {

using namespace std::string_literals;

TEST(HexTest, RoundTripsAndIsLowercase) {
  const std::string bytes = "\x00\x01\xab\xff"s;
  EXPECT_EQ(ToHex(bytes), "0001abff");
  EXPECT_EQ(FromHex("0001abff"), bytes);
  EXPECT_EQ(FromHex("0001ABFF"), bytes);
  EXPECT_EQ(ToHex(""), "");
  EXPECT_EQ(FromHex(""), "");
}

TEST(HexTest, RejectsMalformed) {
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
  EXPECT_FALSE(FromHex("ab ").has_value());
  EXPECT_FALSE(FromHex("ab:cd").has_value());
}

TEST(Base64Test, KnownAnswers) {
  EXPECT_EQ(ToBase64("\x00\x01\x02\xff\xfe"s), "AAEC//4=");
  EXPECT_EQ(ToBase64("f"), "Zg==");
  EXPECT_EQ(ToBase64("fo"), "Zm8=");
  EXPECT_EQ(ToBase64("foo"), "Zm9v");
  EXPECT_EQ(ToBase64(""), "");
  EXPECT_EQ(FromBase64("AAEC//4="), "\x00\x01\x02\xff\xfe"s);
  EXPECT_EQ(FromBase64("Zg=="), "f");
  EXPECT_EQ(FromBase64(""), "");
}

TEST(Base64Test, IsStrict) {
  EXPECT_FALSE(FromBase64("Zg").has_value());        // padding missing
  EXPECT_FALSE(FromBase64("Zh==").has_value());      // non-zero unused bits
  EXPECT_FALSE(FromBase64("Zm9v\n").has_value());    // whitespace
  EXPECT_FALSE(FromBase64("Zm-v").has_value());      // URL-safe alphabet
  EXPECT_FALSE(FromBase64("Zg==Zg==").has_value());  // data after padding
}

TEST(Z85Test, Rfc32Vector) {
  const std::string bytes = "\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B"s;
  EXPECT_EQ(ToZ85(bytes), "HelloWorld");
  EXPECT_EQ(FromZ85("HelloWorld"), bytes);
}

TEST(Z85Test, RoundTripsAKey) {
  std::string key;
  for (int i = 0; i < 32; ++i) key.push_back(static_cast<char>(i * 7 + 3));
  const std::string text = ToZ85(key);
  EXPECT_EQ(text.size(), 40u);
  EXPECT_EQ(FromZ85(text), key);
  EXPECT_EQ(FromZ85(ToZ85(std::string(4, '\xff'))), std::string(4, '\xff'));
}

TEST(Z85Test, RejectsMalformed) {
  EXPECT_EQ(ToZ85("abc"), "");
  EXPECT_TRUE(FromZ85("Hello").has_value());  // 5 chars is a valid length
  EXPECT_FALSE(FromZ85("Hell").has_value());
  EXPECT_FALSE(FromZ85("Hell~").has_value());  // not in the alphabet
  EXPECT_FALSE(FromZ85("#####").has_value());  // 85^5-1 overflows 32 bits
}

}  // namespace
}  // namespace stafett::core
