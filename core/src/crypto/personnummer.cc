// Personnummer / samordningsnummer parsing: form, century, calendar date and Luhn check.
// No message here may include the input's digits. Thread-safety: pure functions.
#include "stafett/core/personnummer.h"

#include <chrono>

namespace stafett::core {
namespace {

struct Parts {
  int year = 0;  // four digits, or two when short
  bool short_form = false;
  bool centenarian = false;  // '+' separator
  std::string digits10;      // YYMMDDNNNC
};

Status Invalid(std::string_view why) {
  return Status(Code::kSchemaInvalid, "personnummer: " + std::string(why));
}

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Splits the accepted forms into their parts; nullopt for anything else.
std::optional<Parts> SplitForm(std::string_view text) {
  Parts parts;
  std::string digits;
  if (text.size() == 13 && text[8] == '-') {
    digits = std::string(text.substr(0, 8)) + std::string(text.substr(9));
  } else if (text.size() == 12 || text.size() == 10) {
    digits = std::string(text);
  } else if (text.size() == 11 && (text[6] == '-' || text[6] == '+')) {
    digits = std::string(text.substr(0, 6)) + std::string(text.substr(7));
    parts.centenarian = text[6] == '+';
  } else {
    return std::nullopt;
  }
  if (!AllDigits(digits)) return std::nullopt;
  parts.short_form = digits.size() == 10;
  parts.year = Number(std::string_view(digits).substr(0, parts.short_form ? 2 : 4));
  parts.digits10 = digits.substr(digits.size() - 10);
  return parts;
}

// Luhn over the nine digits YYMMDDNNN with weights 2, 1, 2, ...; compared with the tenth.
bool CheckDigitMatches(std::string_view digits10) {
  int sum = 0;
  for (size_t i = 0; i < 9; ++i) {
    int product = (digits10[i] - '0') * (i % 2 == 0 ? 2 : 1);
    sum += product > 9 ? product - 9 : product;
  }
  return (10 - sum % 10) % 10 == digits10[9] - '0';
}

std::chrono::year_month_day TodayUtc(Micros now) {
  using namespace std::chrono;
  return year_month_day{floor<days>(sys_time<microseconds>(microseconds(now)))};
}

// The full year for a two-digit year: the latest century not putting the birth after today.
int ResolveCentury(const Parts& parts, unsigned month, unsigned day,
                   const std::chrono::year_month_day& today) {
  const int today_year = static_cast<int>(today.year());
  int year = today_year / 100 * 100 + parts.year;
  const unsigned today_month = static_cast<unsigned>(today.month());
  const unsigned today_day = static_cast<unsigned>(today.day());
  if (year > today_year ||
      (year == today_year && (month > today_month || (month == today_month && day > today_day)))) {
    year -= 100;
  }
  return parts.centenarian ? year - 100 : year;
}

}  // namespace

Result<Personnummer> ParsePersonnummer(std::string_view text, Micros now) {
  const std::optional<Parts> parts = SplitForm(text);
  if (!parts) return Invalid("expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or YYMMDD+NNNC");
  const std::string_view digits10 = parts->digits10;
  const unsigned month = static_cast<unsigned>(Number(digits10.substr(2, 2)));
  unsigned day = static_cast<unsigned>(Number(digits10.substr(4, 2)));
  const bool coordination = day > 60;
  if (coordination) day -= 60;
  const std::chrono::year_month_day today = TodayUtc(now);
  const int year = parts->short_form ? ResolveCentury(*parts, month, day, today) : parts->year;
  const std::chrono::year_month_day birth{std::chrono::year(year), std::chrono::month(month),
                                          std::chrono::day(day)};
  if (!birth.ok()) return Invalid("not a valid date of birth");
  if (!CheckDigitMatches(digits10)) return Invalid("check digit does not match");
  if (birth > today) return Invalid("date of birth is in the future");
  Personnummer number;
  number.coordination = coordination;
  number.digits12 = std::to_string(year) + std::string(digits10.substr(2));
  if (number.digits12.size() != 12) return Invalid("year of birth out of range");
  return number;
}

std::string FormatPersonnummer(const Personnummer& number) {
  if (number.digits12.size() != 12) return number.digits12;
  return number.digits12.substr(0, 8) + "-" + number.digits12.substr(8);
}

}  // namespace stafett::core
