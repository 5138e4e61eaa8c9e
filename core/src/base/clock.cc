// Clock: the system clock and RFC 3339 formatting/parsing (UTC, civil-from-days arithmetic).
#include "stafett/core/clock.h"

#include <chrono>
#include <cstdio>

namespace stafett::core {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  *day = day_of_year - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(year_of_era) + era * 400 + (*month <= 2);
}

bool ReadDigits(std::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

unsigned DaysInMonth(int year, int month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

Micros SystemClock::Now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MonotonicTime SystemClock::MonotonicNow() const { return std::chrono::steady_clock::now(); }

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

std::string FormatRfc3339(Micros time) {
  int64_t seconds = time >= 0 ? time / 1000000 : (time - 999999) / 1000000;
  int64_t micros = time - seconds * 1000000;
  int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  int64_t second_of_day = seconds - days * 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0 || year > 9999) {
    char buffer[96];
    std::snprintf(
        buffer, sizeof(buffer), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
        static_cast<long long>(year), month, day, static_cast<long long>(second_of_day / 3600),
        static_cast<long long>(second_of_day / 60 % 60), static_cast<long long>(second_of_day % 60),
        static_cast<long long>(micros / 1000));
    return buffer;
  }
  // Every wire time: YYYY-MM-DDTHH:MM:SS.mmmZ written digit by digit (the broker formats
  // several per message; snprintf cost more than the rest of the formatting together).
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t at, size_t width, int64_t value) {
    for (size_t i = width; i-- > 0;) {
      out[at + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, 4, year);
  put(5, 2, month);
  put(8, 2, day);
  put(11, 2, second_of_day / 3600);
  put(14, 2, second_of_day / 60 % 60);
  put(17, 2, second_of_day % 60);
  put(20, 3, micros / 1000);
  return out;
}

std::optional<Micros> ParseRfc3339(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !ReadDigits(text, 0, 4, &year) || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't') || !ReadDigits(text, 11, 2, &hour) || text[13] != ':' ||
      !ReadDigits(text, 14, 2, &minute) || text[16] != ':' || !ReadDigits(text, 17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month) ||
      hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int offset_hour, offset_minute;
    if (!ReadDigits(text, pos + 1, 2, &offset_hour) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !ReadDigits(text, pos + 4, 2, &offset_minute)) {
      return std::nullopt;
    }
    offset_seconds = (offset_hour * 3600 + offset_minute * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  int64_t seconds =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + std::min(second, 59) - offset_seconds;
  return seconds * 1000000 + micros;
}

}  // namespace stafett::core
