// Statistics without exposure: aggregates of the audit log's metadata (hand-offs, refusals by
// code, consents, the time from a report or referral to its answer) by month, municipality,
// type and route, with small cells suppressed and secondary suppression so that no suppressed
// cell follows from a published total (docs/STATISTICS.md). Pure functions: no I/O.
// Thread-safety: free functions, no state.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::tools {

enum class StatsDimension { kMonth, kMunicipality, kType, kRoute };

// "month,municipality,type,route" (any non-empty subset, no repeats) → the dimensions in order.
core::Result<std::vector<StatsDimension>> ParseStatsDimensions(const std::string& list);

// What an endpoint id resolves to in the trust directory; unknown ids count as "-".
struct EndpointFacts {
  std::string kind, municipality;
};

struct StatsOptions {
  std::vector<StatsDimension> by;
  std::optional<core::Micros> from, to;  // on the record's time (for a pair: the start's)
  uint64_t min_cell = 5;
};

// One published cell; SUPPRESSED hides VALUE (which is kept only for the tests).
struct StatsCell {
  uint64_t value = 0;
  bool suppressed = false;
};

// A duration statistic over N pairs; hidden when N < min_cell.
struct StatsLatency {
  uint64_t n = 0;
  std::optional<double> median_seconds, p90_seconds;
  bool suppressed = false;
};

struct StatsRow {
  std::vector<std::string> key;             // one value per dimension; the total row: "total"
  std::map<std::string, StatsCell> counts;  // column name → cell (every column present)
  StatsLatency concern_feedback, referral_status;
};

struct StatsTable {
  std::vector<std::string> dimensions;  // names, as given to --by
  std::vector<std::string> columns;     // count columns, in order
  std::vector<StatsRow> rows;           // the groups, ascending; then the total row
};

// The fixed count columns; refusal columns follow as "refused:CODE".
inline constexpr char kHandoffs[] = "handoffs";
inline constexpr char kRefused[] = "refused";
inline constexpr char kConsentsGranted[] = "consents_granted";
inline constexpr char kConsentsRevoked[] = "consents_revoked";

// Aggregates RECORDS (audit records, any order; audit_query and other events ignored) under
// OPTIONS and suppresses. FACTS maps endpoint ids to kind and municipality.
StatsTable AggregateStats(const std::vector<nlohmann::json>& records,
                          const std::map<std::string, EndpointFacts>& facts,
                          const StatsOptions& options);

// The suppression on a grid of counts: each line is a set of cells whose sum is the line's last
// cell (its published total). Primary: 0 < value < MIN_CELL. Secondary, until stable: a line
// with exactly one suppressed cell also suppresses its smallest unsuppressed cell.
using StatsGrid = std::vector<std::vector<uint64_t>>;
using StatsLine = std::vector<std::pair<size_t, size_t>>;  // (row, column); the last is the total
std::vector<std::vector<bool>> SuppressCells(const StatsGrid& grid,
                                             const std::vector<StatsLine>& lines,
                                             uint64_t min_cell);

// The value at quantile Q (0..1) of SORTED, linear interpolation; SORTED not empty.
double Quantile(const std::vector<double>& sorted, double q);

// Renders TABLE: "table", "csv" or "json". Suppressed counts read "<MIN_CELL" (json: null with
// "suppressed": true).
std::string RenderStats(const StatsTable& table, const std::string& format, uint64_t min_cell);

}  // namespace stafett::tools
