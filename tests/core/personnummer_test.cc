// Known-answer tests for personnummer parsing: forms, centuries, dates, Luhn, coordination
// numbers, and that error messages never echo the digits. Thread-safety: n/a (test).
#include "stafett/core/personnummer.h"

#include <gtest/gtest.h>

namespace stafett::core {
namespace {

// "Today" for these tests: 2026-03-01, 10:00 UTC.
Micros Now() { return *ParseRfc3339("2026-03-01T10:00:00Z"); }

// An independent Luhn: appends the check digit to nine digits YYMMDDNNN.
std::string WithCheckDigit(const std::string& nine) {
  int sum = 0;
  for (size_t i = 0; i < nine.size(); ++i) {
    int product = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += product / 10 + product % 10;
  }
  return nine + std::to_string((10 - sum % 10) % 10);
}

std::string Digits(const std::string& text) {
  Result<Personnummer> number = ParsePersonnummer(text, Now());
  return number.ok() ? number->digits12 : "error: " + number.status().message();
}

void ExpectRejected(const std::string& text, std::string_view reason) {
  Result<Personnummer> number = ParsePersonnummer(text, Now());
  ASSERT_FALSE(number.ok()) << text;
  EXPECT_EQ(number.status().code(), Code::kSchemaInvalid);
  EXPECT_NE(number.status().message().find(reason), std::string::npos) << number.status().message();
  for (char c : number.status().message()) {
    EXPECT_FALSE(c >= '0' && c <= '9') << "digits leaked: " << number.status().message();
  }
}

TEST(PersonnummerTest, AcceptsTheFourFormsOfTheSameNumber) {
  EXPECT_EQ(Digits("19121212-1212"), "191212121212");
  EXPECT_EQ(Digits("191212121212"), "191212121212");
  EXPECT_EQ(Digits("121212+1212"), "191212121212");
  EXPECT_EQ(Digits("20121212-1212"), "201212121212");  // same Luhn (YY only)
  EXPECT_EQ(Digits("121212-1212"), "201212121212");
  EXPECT_EQ(Digits("1212121212"), "201212121212");
}

TEST(PersonnummerTest, RejectsAWrongCheckDigit) {
  ExpectRejected("19121212-1213", "check digit does not match");
  ExpectRejected("121212-1210", "check digit does not match");
  ExpectRejected("201212121211", "check digit does not match");
}

TEST(PersonnummerTest, ParsesCoordinationNumbers) {
  Result<Personnummer> number = ParsePersonnummer("701063-2391", Now());
  ASSERT_TRUE(number.ok()) << number.status().ToString();
  EXPECT_EQ(number->digits12, "197010632391");  // day 63 = the 3rd, kept as 63
  EXPECT_TRUE(number->coordination);
  EXPECT_EQ(Digits("19701063-2391"), "197010632391");
  EXPECT_FALSE(ParsePersonnummer("19121212-1212", Now())->coordination);
  ExpectRejected(WithCheckDigit("701092123"), "not a valid date");  // day 92 = 32nd
  ExpectRejected(WithCheckDigit("700260123"), "not a valid date");  // day 60 = 0th
  ExpectRejected(WithCheckDigit("700231123"), "not a valid date");  // Feb 31
  ExpectRejected(WithCheckDigit("700291123"), "not a valid date");  // coordination Feb 31
}

TEST(PersonnummerTest, ResolvesTheCenturyOfTenDigitForms) {
  // Born today: this century. Born tomorrow (in the year): the century before.
  EXPECT_EQ(Digits(WithCheckDigit("260301123")), "20" + WithCheckDigit("260301123"));
  EXPECT_EQ(Digits(WithCheckDigit("260302123")), "19" + WithCheckDigit("260302123"));
  EXPECT_EQ(Digits(WithCheckDigit("991231123")), "19" + WithCheckDigit("991231123"));
  EXPECT_EQ(Digits(WithCheckDigit("000101123")), "20" + WithCheckDigit("000101123"));
  // '+' means a hundred or more years old: one century further back.
  const std::string plus = WithCheckDigit("260301123");
  EXPECT_EQ(Digits(plus.substr(0, 6) + "+" + plus.substr(6)), "19" + plus);
  const std::string plus_tomorrow = WithCheckDigit("260302123");
  EXPECT_EQ(Digits(plus_tomorrow.substr(0, 6) + "+" + plus_tomorrow.substr(6)),
            "18" + plus_tomorrow);
}

TEST(PersonnummerTest, AppliesLeapYearRules) {
  EXPECT_EQ(Digits("000229-1235"), "200002291235");   // 2000 is a leap year
  ExpectRejected("000229+1235", "not a valid date");  // 1900 is not
  EXPECT_EQ(Digits("20000229-1235"), "200002291235");
  ExpectRejected("19000229-1235", "not a valid date");
  const std::string leap_2024 = WithCheckDigit("240229123");
  EXPECT_EQ(Digits("20" + leap_2024), "20" + leap_2024);
  ExpectRejected("20" + WithCheckDigit("230229123"), "not a valid date");
  // 2100 is not a leap year either; checked through the calendar, not "divisible by four".
  ExpectRejected("21" + WithCheckDigit("000229123"), "not a valid date");
}

TEST(PersonnummerTest, RejectsFutureDatesOfBirth) {
  ExpectRejected("20" + WithCheckDigit("260302123"), "in the future");
  ExpectRejected("20" + WithCheckDigit("270101123"), "in the future");
  EXPECT_EQ(Digits("20" + WithCheckDigit("260301123")), "20" + WithCheckDigit("260301123"));
}

TEST(PersonnummerTest, RejectsGarbage) {
  for (const std::string text :
       {"", "abc", "19121212_1212", "1912121-21212", "19121212+1212", " 191212121212",
        "191212121212 ", "19121212-121", "19121212--1212", "1912121212123", "12121-21212",
        "121212 1212", "ÅÄÖÅÄÖ-ÅÄÖÅ", "19121212-12a2", "12-12-12-1212"}) {
    ExpectRejected(text, "expected");
  }
  ExpectRejected("19121312-1212", "not a valid date");  // month 13
  ExpectRejected("19120012-1212", "not a valid date");  // month 0
  ExpectRejected("19121200-1212", "not a valid date");  // day 0
}

TEST(PersonnummerTest, FormatsTheTwelveDigitForm) {
  Result<Personnummer> number = ParsePersonnummer("121212+1212", Now());
  ASSERT_TRUE(number.ok());
  EXPECT_EQ(FormatPersonnummer(*number), "19121212-1212");
}

}  // namespace
}  // namespace stafett::core
