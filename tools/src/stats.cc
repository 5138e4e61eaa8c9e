// AggregateStats and its suppression: see stats.h and docs/STATISTICS.md.
#include "stats.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "table.h"

namespace stafett::tools {
namespace {

using core::Code;
using core::Status;

constexpr char kFeedbackN[] = "concern_feedback_n";
constexpr char kStatusN[] = "referral_status_n";

const char* DimensionName(StatsDimension dimension) {
  switch (dimension) {
    case StatsDimension::kMonth:
      return "month";
    case StatsDimension::kMunicipality:
      return "municipality";
    case StatsDimension::kType:
      return "type";
    case StatsDimension::kRoute:
      return "route";
  }
  return "";
}

bool IsReferral(const std::string& type) {
  return type == "concern_report" || type == "support_request" || type == "assessment_referral" ||
         type == "sip_invitation" || type == "information_request";
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

std::vector<std::string> Recipients(const nlohmann::json& record) {
  std::vector<std::string> to;
  const nlohmann::json& list = record.contains("to") ? record["to"] : nlohmann::json();
  if (list.is_string()) to.push_back(list.get<std::string>());
  if (list.is_array()) {
    for (const auto& item : list) {
      if (item.is_string()) to.push_back(item.get<std::string>());
    }
  }
  return to;
}

// A record reduced to the metadata the statistics use.
struct Fact {
  core::Micros time = 0;
  std::string event, type, from, subject, code;
  std::vector<std::string> to;
  std::vector<std::string> key;
};

std::vector<std::string> KeyOf(const Fact& fact, const std::string& time_text,
                               const std::map<std::string, EndpointFacts>& facts,
                               const std::vector<StatsDimension>& by) {
  auto lookup = [&](const std::string& id) {
    auto found = facts.find(id);
    return found == facts.end() ? EndpointFacts{} : found->second;
  };
  std::vector<std::string> key;
  for (StatsDimension dimension : by) {
    switch (dimension) {
      case StatsDimension::kMonth:
        key.push_back(OrDash(time_text.substr(0, 7)));
        break;
      case StatsDimension::kMunicipality:
        key.push_back(OrDash(lookup(fact.from).municipality));
        break;
      case StatsDimension::kType:
        key.push_back(OrDash(fact.type));
        break;
      case StatsDimension::kRoute: {
        std::set<std::string> kinds;
        for (const std::string& to : fact.to) kinds.insert(OrDash(lookup(to).kind));
        std::string route = OrDash(lookup(fact.from).kind) + "->";
        std::string joined;
        for (const std::string& kind : kinds) joined += (joined.empty() ? "" : "+") + kind;
        key.push_back(route + OrDash(joined));
        break;
      }
    }
  }
  return key;
}

struct Accum {
  std::map<std::string, uint64_t> counts;
  std::vector<double> feedback, status;
};

// For each START (accepted, IS_START type), in log order, the first later accepted record of
// ANSWER type on the same subject, sent back by one of its recipients to its sender, that no
// earlier start took: seconds between them. One answer answers one start.
template <typename IsStart>
void Pair(const std::vector<Fact>& facts, IsStart is_start, const std::string& answer_type,
          const StatsOptions& options, std::map<std::vector<std::string>, Accum>* groups,
          std::vector<double> Accum::*series) {
  std::vector<bool> taken(facts.size());
  for (size_t i = 0; i < facts.size(); ++i) {
    const Fact& start = facts[i];
    if (start.event != "accepted" || !is_start(start.type) || start.subject.empty()) continue;
    if ((options.from && start.time < *options.from) || (options.to && start.time > *options.to))
      continue;
    for (size_t j = i + 1; j < facts.size(); ++j) {
      const Fact& answer = facts[j];
      if (taken[j] || answer.event != "accepted" || answer.type != answer_type ||
          answer.subject != start.subject || answer.time < start.time)
        continue;
      bool back = std::find(answer.to.begin(), answer.to.end(), start.from) != answer.to.end() &&
                  std::find(start.to.begin(), start.to.end(), answer.from) != start.to.end();
      if (!back) continue;
      taken[j] = true;
      ((*groups)[start.key].*series).push_back(static_cast<double>(answer.time - start.time) / 1e6);
      break;
    }
  }
}

StatsLatency LatencyOf(std::vector<double> seconds, const StatsCell& n) {
  StatsLatency latency;
  latency.n = seconds.size();
  latency.suppressed = n.suppressed;
  if (seconds.empty() || n.suppressed) return latency;
  std::sort(seconds.begin(), seconds.end());
  latency.median_seconds = Quantile(seconds, 0.5);
  latency.p90_seconds = Quantile(seconds, 0.9);
  return latency;
}

std::string CountText(const StatsCell& cell, uint64_t min_cell) {
  return cell.suppressed ? "<" + std::to_string(min_cell) : std::to_string(cell.value);
}

std::string SecondsText(const std::optional<double>& value) {
  if (!value) return "-";
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << *value;
  return out.str();
}

}  // namespace

core::Result<std::vector<StatsDimension>> ParseStatsDimensions(const std::string& list) {
  std::vector<StatsDimension> by;
  std::stringstream stream(list);
  std::string name;
  while (std::getline(stream, name, ',')) {
    std::optional<StatsDimension> found;
    for (StatsDimension d : {StatsDimension::kMonth, StatsDimension::kMunicipality,
                             StatsDimension::kType, StatsDimension::kRoute}) {
      if (name == DimensionName(d)) found = d;
    }
    if (!found) {
      return Status(Code::kSchemaInvalid,
                    "--by takes month, municipality, type or route, not '" + name + "'");
    }
    if (std::find(by.begin(), by.end(), *found) != by.end()) {
      return Status(Code::kSchemaInvalid, "--by names '" + name + "' twice");
    }
    by.push_back(*found);
  }
  if (by.empty()) return Status(Code::kSchemaInvalid, "--by needs at least one field");
  return by;
}

double Quantile(const std::vector<double>& sorted, double q) {
  double position = q * static_cast<double>(sorted.size() - 1);
  size_t low = static_cast<size_t>(std::floor(position));
  size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - static_cast<double>(low));
}

std::vector<std::vector<bool>> SuppressCells(const StatsGrid& grid,
                                             const std::vector<StatsLine>& lines,
                                             uint64_t min_cell) {
  std::vector<std::vector<bool>> hidden(grid.size());
  for (size_t r = 0; r < grid.size(); ++r) {
    hidden[r].resize(grid[r].size());
    for (size_t c = 0; c < grid[r].size(); ++c) {
      hidden[r][c] = grid[r][c] > 0 && grid[r][c] < min_cell;
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const StatsLine& line : lines) {
      size_t count = 0;
      for (auto [r, c] : line) count += hidden[r][c] ? 1 : 0;
      if (count != 1) continue;
      // The smallest non-zero unsuppressed cell (the total included); a zero only if no other.
      std::optional<std::pair<size_t, size_t>> pick;
      auto rank = [&](size_t r, size_t c) { return grid[r][c] == 0 ? UINT64_MAX : grid[r][c]; };
      for (auto [r, c] : line) {
        if (hidden[r][c]) continue;
        if (!pick || rank(r, c) < rank(pick->first, pick->second)) pick = {r, c};
      }
      if (!pick) continue;
      hidden[pick->first][pick->second] = true;
      changed = true;
    }
  }
  return hidden;
}

StatsTable AggregateStats(const std::vector<nlohmann::json>& records,
                          const std::map<std::string, EndpointFacts>& facts,
                          const StatsOptions& options) {
  std::vector<std::pair<uint64_t, Fact>> ordered;
  for (const nlohmann::json& record : records) {
    if (!record.is_object()) continue;
    std::string time_text = record.value("time", "");
    std::optional<core::Micros> time = core::ParseRfc3339(time_text);
    if (!time) continue;
    Fact fact;
    fact.time = *time;
    fact.event = record.value("event", "");
    fact.type = record.value("type", "");
    fact.from = record.value("from", "");
    fact.subject = record.value("subject", "");
    fact.code = record.value("code", "");
    fact.to = Recipients(record);
    fact.key = KeyOf(fact, time_text, facts, options.by);
    ordered.emplace_back(record.value("seq", uint64_t{0}), std::move(fact));
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Fact> all;
  for (auto& [seq, fact] : ordered) all.push_back(std::move(fact));

  std::map<std::vector<std::string>, Accum> groups;
  std::set<std::string> codes;
  for (const Fact& fact : all) {
    if ((options.from && fact.time < *options.from) || (options.to && fact.time > *options.to))
      continue;
    std::string column;
    if (fact.event == "accepted") column = kHandoffs;
    if (fact.event == "consent_granted") column = kConsentsGranted;
    if (fact.event == "consent_revoked") column = kConsentsRevoked;
    if (fact.event == "refused") {
      column = std::string(kRefused) + ":" + OrDash(fact.code);
      codes.insert(column);
      ++groups[fact.key].counts[kRefused];
    }
    if (!column.empty()) ++groups[fact.key].counts[column];
  }
  Pair(all, IsReferral, "referral_status", options, &groups, &Accum::status);
  Pair(
      all, [](const std::string& type) { return type == "concern_report"; }, "concern_feedback",
      options, &groups, &Accum::feedback);
  for (auto& [key, accum] : groups) {
    accum.counts[kFeedbackN] = accum.feedback.size();
    accum.counts[kStatusN] = accum.status.size();
  }

  StatsTable table;
  for (StatsDimension d : options.by) table.dimensions.push_back(DimensionName(d));
  table.columns = {kHandoffs, kConsentsGranted, kConsentsRevoked, kFeedbackN, kStatusN, kRefused};
  table.columns.insert(table.columns.end(), codes.begin(), codes.end());
  size_t refused_column = 5;

  // The grid: one row per group, then the total row; the lines: each column (its total in the
  // total row) and each row's refusal codes (their total in the refused column).
  Accum total;
  std::vector<const Accum*> accums;
  std::vector<std::vector<std::string>> keys;
  for (auto& [key, accum] : groups) {
    accums.push_back(&accum);
    keys.push_back(key);
    for (const auto& [column, value] : accum.counts) total.counts[column] += value;
    total.feedback.insert(total.feedback.end(), accum.feedback.begin(), accum.feedback.end());
    total.status.insert(total.status.end(), accum.status.begin(), accum.status.end());
  }
  accums.push_back(&total);
  keys.push_back(std::vector<std::string>(options.by.size(), "total"));
  StatsGrid grid;
  for (const Accum* accum : accums) {
    std::vector<uint64_t> row;
    for (const std::string& column : table.columns) {
      auto found = accum->counts.find(column);
      row.push_back(found == accum->counts.end() ? 0 : found->second);
    }
    grid.push_back(std::move(row));
  }
  std::vector<StatsLine> lines;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    StatsLine line;
    for (size_t r = 0; r < grid.size(); ++r) line.emplace_back(r, c);
    lines.push_back(std::move(line));
  }
  for (size_t r = 0; r < grid.size() && !codes.empty(); ++r) {
    StatsLine line;
    for (size_t c = refused_column + 1; c < table.columns.size(); ++c) line.emplace_back(r, c);
    line.emplace_back(r, refused_column);
    lines.push_back(std::move(line));
  }
  std::vector<std::vector<bool>> hidden = SuppressCells(grid, lines, options.min_cell);
  for (size_t r = 0; r < grid.size(); ++r) {
    StatsRow row;
    row.key = keys[r];
    for (size_t c = 0; c < table.columns.size(); ++c) {
      row.counts[table.columns[c]] = {grid[r][c], hidden[r][c]};
    }
    row.concern_feedback = LatencyOf(accums[r]->feedback, row.counts[kFeedbackN]);
    row.referral_status = LatencyOf(accums[r]->status, row.counts[kStatusN]);
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string RenderStats(const StatsTable& table, const std::string& format, uint64_t min_cell) {
  if (format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t r = 0; r < table.rows.size(); ++r) {
      const StatsRow& row = table.rows[r];
      nlohmann::json key = nlohmann::json::object();
      for (size_t d = 0; d < table.dimensions.size(); ++d) key[table.dimensions[d]] = row.key[d];
      nlohmann::json counts = nlohmann::json::object();
      for (const std::string& column : table.columns) {
        const StatsCell& cell = row.counts.at(column);
        counts[column] = {
            {"count", cell.suppressed ? nlohmann::json() : nlohmann::json(cell.value)},
            {"suppressed", cell.suppressed}};
      }
      auto latency = [](const StatsLatency& l) {
        auto value = [](const std::optional<double>& v) {
          return v ? nlohmann::json(*v) : nlohmann::json();
        };
        return nlohmann::json{{"median_seconds", value(l.median_seconds)},
                              {"p90_seconds", value(l.p90_seconds)},
                              {"suppressed", l.suppressed}};
      };
      rows.push_back({{"key", key},
                      {"total", r + 1 == table.rows.size()},
                      {"counts", counts},
                      {"concern_feedback", latency(row.concern_feedback)},
                      {"referral_status", latency(row.referral_status)}});
    }
    return nlohmann::json{{"dimensions", table.dimensions}, {"min_cell", min_cell}, {"rows", rows}}
               .dump(2) +
           "\n";
  }
  std::vector<std::string> header = table.dimensions;
  header.insert(header.end(), table.columns.begin(), table.columns.end());
  for (const char* name : {"concern_feedback_median_s", "concern_feedback_p90_s",
                           "referral_status_median_s", "referral_status_p90_s"}) {
    header.push_back(name);
  }
  std::vector<std::vector<std::string>> lines;
  for (const StatsRow& row : table.rows) {
    std::vector<std::string> line = row.key;
    for (const std::string& column : table.columns) {
      line.push_back(CountText(row.counts.at(column), min_cell));
    }
    line.push_back(SecondsText(row.concern_feedback.median_seconds));
    line.push_back(SecondsText(row.concern_feedback.p90_seconds));
    line.push_back(SecondsText(row.referral_status.median_seconds));
    line.push_back(SecondsText(row.referral_status.p90_seconds));
    lines.push_back(std::move(line));
  }
  if (format == "csv") {
    std::string out;
    for (const auto& line : std::vector<std::vector<std::string>>{header}) {
      for (size_t i = 0; i < line.size(); ++i) out += (i ? "," : "") + line[i];
      out += "\n";
    }
    for (const auto& line : lines) {
      for (size_t i = 0; i < line.size(); ++i) out += (i ? "," : "") + line[i];
      out += "\n";
    }
    return out;
  }
  for (std::string& name : header) {
    std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  }
  Table rendered(header);
  for (auto& line : lines) rendered.Add(std::move(line));
  return rendered.Render();
}

}  // namespace stafett::tools
