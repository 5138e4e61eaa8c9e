// Known-answer tests for pseudonyms (values computed independently with Python's
// hashlib.blake2b(digest_size=32, key=bytes(range(32)))). Thread-safety: n/a (test).
#include "stafett/core/pseudonym.h"

#include <gtest/gtest.h>

namespace stafett::core {
namespace {

constexpr std::string_view kKeyHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

Micros Now() { return *ParseRfc3339("2026-03-01T10:00:00Z"); }

std::string PseudonymOf(std::string_view text) {
  Result<PseudonymKey> key = PseudonymKey::FromHex(kKeyHex);
  Result<Personnummer> number = ParsePersonnummer(text, Now());
  if (!key.ok() || !number.ok()) return "error";
  return Pseudonymise(*key, *number);
}

TEST(PseudonymTest, KnownAnswers) {
  EXPECT_EQ(PseudonymOf("19121212-1212"),
            "cd06206c4b586833522d0cddc49c22c29459529b2a33420751e32cd71ca0665b");
  EXPECT_EQ(PseudonymOf("20121212-1212"),
            "a0a1e8fb5915982c028f133fec34bcffc86932722f73a69a1fcdb993eb0ac929");
  EXPECT_EQ(PseudonymOf("701063-2391"),
            "e774b55487ba6da4338b505ca09060f3d9b73c32157246d66fd528eba71991e1");
}

TEST(PseudonymTest, TenAndTwelveDigitFormsAgree) {
  EXPECT_EQ(PseudonymOf("121212+1212"), PseudonymOf("19121212-1212"));
  EXPECT_EQ(PseudonymOf("1212121212"), PseudonymOf("201212121212"));
  EXPECT_EQ(PseudonymOf("121212-1212"), PseudonymOf("20121212-1212"));
}

TEST(PseudonymTest, DependsOnTheKey) {
  Result<Personnummer> number = ParsePersonnummer("19121212-1212", Now());
  ASSERT_TRUE(number.ok());
  const PseudonymKey first = PseudonymKey::Generate();
  const PseudonymKey second = PseudonymKey::Generate();
  EXPECT_NE(first.ToHex(), second.ToHex());
  EXPECT_NE(Pseudonymise(first, *number), Pseudonymise(second, *number));
  EXPECT_TRUE(IsValidPseudonym(Pseudonymise(first, *number)));
}

TEST(PseudonymKeyTest, ReadsTheKeyFileForm) {
  Result<PseudonymKey> key = PseudonymKey::FromHex(std::string(kKeyHex) + "\n");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->ToHex(), kKeyHex);
  EXPECT_EQ(key->bytes().size(), 32u);
  Result<PseudonymKey> from_bytes = PseudonymKey::FromBytes(key->bytes());
  ASSERT_TRUE(from_bytes.ok());
  EXPECT_EQ(from_bytes->ToHex(), kKeyHex);
}

TEST(PseudonymKeyTest, RejectsMalformedKeysWithoutEchoingThem) {
  for (const std::string& text : {std::string(kKeyHex.substr(2)), std::string(kKeyHex) + "00",
                                  std::string(63, 'a') + "g", std::string()}) {
    Result<PseudonymKey> key = PseudonymKey::FromHex(text);
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.status().code(), Code::kKeyInvalid);
    EXPECT_EQ(key.status().message().find("0102"), std::string::npos);
  }
  EXPECT_FALSE(PseudonymKey::FromBytes("short").ok());
}

TEST(IsValidPseudonymTest, AcceptsOnlyLowercaseHex64) {
  EXPECT_TRUE(IsValidPseudonym(std::string(64, 'a')));
  EXPECT_FALSE(IsValidPseudonym(std::string(64, 'A')));
  EXPECT_FALSE(IsValidPseudonym(std::string(63, 'a')));
  EXPECT_FALSE(IsValidPseudonym(std::string(63, 'a') + "g"));
}

}  // namespace
}  // namespace stafett::core
