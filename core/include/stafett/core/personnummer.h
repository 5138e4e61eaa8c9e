// The Swedish personal identity number (personnummer) and coordination number
// (samordningsnummer): parsing with date and Luhn checks, normalised to 12 digits.
// Error messages never contain the input. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::core {

struct Personnummer {
  std::string digits12;       // normalised "YYYYMMDDNNNC" (coordination numbers keep day + 60)
  bool coordination = false;  // a samordningsnummer (day of month + 60)

  bool operator==(const Personnummer&) const = default;
};

// Accepts "YYYYMMDD-NNNC", "YYYYMMDDNNNC", "YYMMDD-NNNC", "YYMMDD+NNNC" and "YYMMDDNNNC" (as '-').
// Ten-digit forms take the most recent century in which the date of birth is not after `now`
// (UTC date); '+' (aged 100 or more) takes the century before that. Checks the calendar date
// (day 61-91 = coordination number), the Luhn check digit over YYMMDDNNN, and that the date
// of birth is not in the future. kSchemaInvalid otherwise, with a message free of the digits.
[[nodiscard]] Result<Personnummer> ParsePersonnummer(std::string_view text, Micros now);

// "YYYYMMDD-NNNC", for documents handed to the services' systems.
[[nodiscard]] std::string FormatPersonnummer(const Personnummer& number);

}  // namespace stafett::core
