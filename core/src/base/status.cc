// Status: names and descriptions from the error catalogue in status.h.
#include "stafett/core/status.h"

#include <array>

namespace stafett::core {
namespace {

struct CodeRow {
  Code code;
  std::string_view name;
  std::string_view description;
};

constexpr std::array kCodeRows = {
#define STAFETT_X(symbol, wire, text) CodeRow{Code::symbol, wire, text},
    STAFETT_ERROR_CODES(STAFETT_X)
#undef STAFETT_X
};

}  // namespace

std::string_view CodeName(Code code) { return kCodeRows[static_cast<size_t>(code)].name; }

std::string_view CodeDescription(Code code) {
  return kCodeRows[static_cast<size_t>(code)].description;
}

std::optional<Code> CodeFromName(std::string_view name) {
  for (const CodeRow& row : kCodeRows) {
    if (row.name == name) return row.code;
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  if (message_.empty()) return std::string(CodeName(code_));
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace stafett::core
