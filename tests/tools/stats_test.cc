// AggregateStats and SuppressCells on generated audit records with known counts: hand-offs,
// refusals by code, consents, the report → feedback and referral → first status times, primary
// and secondary suppression (no suppressed cell follows from a published total), and outputs
// free of pseudonyms.
#include "stats.h"

#include <gtest/gtest.h>

namespace stafett::tools {
namespace {

const std::map<std::string, EndpointFacts> kFacts = {
    {"flen.school", {"school", "flen"}},
    {"flen.social", {"social", "flen"}},
    {"katrineholm.school", {"school", "katrineholm"}},
    {"region.health", {"health", "region"}}};

class Log {
 public:
  // Adds a record at second SECOND of December 2026 (SECOND < 86400 * 28).
  void Add(const std::string& event, const std::string& type, const std::string& from,
           const std::string& to, const std::string& subject, int64_t second,
           const std::string& code = "", const std::string& month = "2026-12") {
    char time[40];
    std::snprintf(time, sizeof time, "%s-%02lldT%02lld:%02lld:%02lld.000Z", month.c_str(),
                  static_cast<long long>(1 + second / 86400),
                  static_cast<long long>(second / 3600 % 24),
                  static_cast<long long>(second / 60 % 60), static_cast<long long>(second % 60));
    nlohmann::json record = {{"seq", records.size()}, {"time", time},    {"event", event},
                             {"type", type},          {"from", from},    {"to", {to}},
                             {"subject", subject},    {"consent_id", ""}};
    if (!code.empty()) record["code"] = code;
    records.push_back(record);
  }
  std::vector<nlohmann::json> records;
};

StatsOptions By(std::vector<StatsDimension> by, uint64_t min_cell = 5) {
  StatsOptions options;
  options.by = std::move(by);
  options.min_cell = min_cell;
  return options;
}

const StatsRow& RowOf(const StatsTable& table, const std::vector<std::string>& key) {
  for (const StatsRow& row : table.rows) {
    if (row.key == key) return row;
  }
  ADD_FAILURE() << "no row " << key[0];
  return table.rows.back();
}

TEST(StatsTest, CountsHandoffsRefusalsAndConsentsByMunicipality) {
  Log log;
  for (int i = 0; i < 12; ++i) {
    log.Add("accepted", "concern_report", "flen.school", "flen.social", "p" + std::to_string(i), i);
  }
  for (int i = 0; i < 7; ++i) {
    log.Add("accepted", "support_request", "katrineholm.school", "region.health", "q", 100 + i);
  }
  for (int i = 0; i < 6; ++i) log.Add("refused", "", "flen.school", "", "", 200 + i, "NO_CONSENT");
  for (int i = 0; i < 5; ++i)
    log.Add("consent_granted", "consent_granted", "flen.social", "x", "p", 300 + i);
  log.Add("audit_query", "", "", "", "", 400);
  StatsTable table = AggregateStats(log.records, kFacts, By({StatsDimension::kMunicipality}));
  ASSERT_EQ(table.rows.size(), 3u);  // flen, katrineholm, total
  const StatsRow& flen = RowOf(table, {"flen"});
  EXPECT_EQ(flen.counts.at(kHandoffs).value, 12u);
  EXPECT_FALSE(flen.counts.at(kHandoffs).suppressed);
  EXPECT_EQ(flen.counts.at("refused:NO_CONSENT").value, 6u);
  EXPECT_EQ(flen.counts.at(kRefused).value, 6u);
  EXPECT_EQ(flen.counts.at(kConsentsGranted).value, 5u);
  EXPECT_EQ(RowOf(table, {"katrineholm"}).counts.at(kHandoffs).value, 7u);
  const StatsRow& total = table.rows.back();
  EXPECT_EQ(total.key, std::vector<std::string>{"total"});
  EXPECT_EQ(total.counts.at(kHandoffs).value, 19u);
  EXPECT_EQ(total.counts.at(kConsentsRevoked).value, 0u);
  EXPECT_FALSE(total.counts.at(kConsentsRevoked).suppressed);  // zero is shown
}

TEST(StatsTest, RoutesAndMonthsAndTheTimeWindow) {
  Log log;
  for (int i = 0; i < 5; ++i) {
    log.Add("accepted", "concern_report", "flen.school", "flen.social", "p", i, "", "2026-11");
    log.Add("accepted", "concern_report", "flen.school", "region.health", "p", i, "", "2026-12");
  }
  StatsTable table =
      AggregateStats(log.records, kFacts, By({StatsDimension::kMonth, StatsDimension::kRoute}));
  EXPECT_EQ(RowOf(table, {"2026-11", "school->social"}).counts.at(kHandoffs).value, 5u);
  EXPECT_EQ(RowOf(table, {"2026-12", "school->health"}).counts.at(kHandoffs).value, 5u);
  StatsOptions december = By({StatsDimension::kType});
  december.from = core::ParseRfc3339("2026-12-01T00:00:00Z");
  table = AggregateStats(log.records, kFacts, december);
  EXPECT_EQ(RowOf(table, {"concern_report"}).counts.at(kHandoffs).value, 5u);
}

TEST(StatsTest, MedianAndP90FromReportToFeedbackAndReferralToFirstStatus) {
  Log log;
  // Five children; child i's report is answered after (i + 1) * 100 s, its first status after
  // (i + 1) * 10 s (a second status later is not the first).
  for (int i = 0; i < 5; ++i) {
    std::string child = "child" + std::to_string(i);
    int64_t start = i * 10000;
    log.Add("accepted", "concern_report", "flen.school", "flen.social", child, start);
    log.Add("accepted", "referral_status", "flen.social", "flen.school", child,
            start + (i + 1) * 10);
    log.Add("accepted", "referral_status", "flen.social", "flen.school", child, start + 5000);
    log.Add("accepted", "concern_feedback", "flen.social", "flen.school", child,
            start + (i + 1) * 100);
  }
  // Feedback about another child, or from an endpoint the report did not go to, is no answer.
  log.Add("accepted", "concern_report", "flen.school", "flen.social", "lonely", 90000);
  log.Add("accepted", "concern_feedback", "flen.social", "flen.school", "other", 90001);
  log.Add("accepted", "concern_feedback", "region.health", "flen.school", "lonely", 90002);
  // Two reports about one child, one feedback: it answers the first only.
  log.Add("accepted", "concern_report", "flen.school", "flen.social", "twice", 95000);
  log.Add("accepted", "concern_report", "flen.school", "flen.social", "twice", 95001);
  log.Add("accepted", "concern_feedback", "flen.social", "flen.school", "twice", 95010);
  StatsTable table = AggregateStats(log.records, kFacts, By({StatsDimension::kType}));
  const StatsRow& reports = RowOf(table, {"concern_report"});
  EXPECT_EQ(reports.counts.at(kHandoffs).value, 8u);
  EXPECT_EQ(reports.concern_feedback.n, 6u);
  ASSERT_TRUE(reports.concern_feedback.median_seconds);
  // 10, 100, 200, 300, 400, 500 s.
  EXPECT_DOUBLE_EQ(*reports.concern_feedback.median_seconds, 250.0);
  EXPECT_DOUBLE_EQ(*reports.concern_feedback.p90_seconds, 450.0);  // 400 + 0.5 * 100
  EXPECT_EQ(reports.referral_status.n, 5u);
  EXPECT_DOUBLE_EQ(*reports.referral_status.median_seconds, 30.0);
  // Six pairs in a cell, the threshold seven: the times are hidden too.
  table = AggregateStats(log.records, kFacts, By({StatsDimension::kType}, 7));
  EXPECT_TRUE(RowOf(table, {"concern_report"}).concern_feedback.suppressed);
  EXPECT_FALSE(RowOf(table, {"concern_report"}).concern_feedback.median_seconds);
}

TEST(StatsTest, QuantileInterpolates) {
  EXPECT_DOUBLE_EQ(Quantile({7}, 0.9), 7);
  EXPECT_DOUBLE_EQ(Quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile({0, 10}, 0.9), 9);
}

// Every line (the cells and their published total) has no suppressed cell or at least two.
void ExpectNoLineRecovers(const StatsTable& table) {
  for (const std::string& column : table.columns) {
    int hidden = 0;
    for (const StatsRow& row : table.rows) hidden += row.counts.at(column).suppressed ? 1 : 0;
    EXPECT_NE(hidden, 1) << "column " << column;
  }
  for (const StatsRow& row : table.rows) {
    int hidden = row.counts.at(kRefused).suppressed ? 1 : 0;
    for (const auto& [column, cell] : row.counts) {
      if (column.rfind("refused:", 0) == 0 && cell.suppressed) ++hidden;
    }
    EXPECT_NE(hidden, 1) << "row " << row.key[0];
  }
}

TEST(StatsTest, OneSmallCellInARowIsNotRecoverableFromTheRowTotal) {
  Log log;
  // flen: 2 refusals NO_CONSENT (< 5), 9 SCHEMA_INVALID, 7 NOT_AUTHORISED: refused = 18.
  // katrineholm: 10, 10, 10. Primary hides flen's 2; its row would give 18 - 9 - 7 = 2, so the
  // next-smallest (7) goes too; then each of those columns has one hidden cell, and so on.
  int64_t t = 0;
  auto refuse = [&](const std::string& from, const std::string& code, int count) {
    for (int i = 0; i < count; ++i) log.Add("refused", "", from, "", "", t++, code);
  };
  refuse("flen.school", "NO_CONSENT", 2);
  refuse("flen.school", "SCHEMA_INVALID", 9);
  refuse("flen.school", "NOT_AUTHORISED", 7);
  refuse("katrineholm.school", "NO_CONSENT", 10);
  refuse("katrineholm.school", "SCHEMA_INVALID", 10);
  refuse("katrineholm.school", "NOT_AUTHORISED", 10);
  StatsTable table = AggregateStats(log.records, kFacts, By({StatsDimension::kMunicipality}));
  const StatsRow& flen = RowOf(table, {"flen"});
  EXPECT_EQ(flen.counts.at("refused:NO_CONSENT").value, 2u);
  EXPECT_TRUE(flen.counts.at("refused:NO_CONSENT").suppressed);
  EXPECT_TRUE(flen.counts.at("refused:NOT_AUTHORISED").suppressed);
  EXPECT_FALSE(flen.counts.at(kRefused).suppressed);
  ExpectNoLineRecovers(table);
  std::string csv = RenderStats(table, "csv", 5);
  EXPECT_NE(csv.find("<5"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",2,"), std::string::npos) << csv;
  nlohmann::json json = nlohmann::json::parse(RenderStats(table, "json", 5));
  const nlohmann::json& cell = json["rows"][0]["counts"]["refused:NO_CONSENT"];
  EXPECT_TRUE(cell["count"].is_null()) << json.dump();
  EXPECT_TRUE(cell["suppressed"].get<bool>());
}

TEST(StatsTest, ASingleGroupHidesItsTotalToo) {
  Log log;
  for (int i = 0; i < 3; ++i)
    log.Add("accepted", "concern_report", "flen.school", "flen.social", "p", i);
  StatsTable table = AggregateStats(log.records, kFacts, By({StatsDimension::kType}));
  EXPECT_TRUE(table.rows[0].counts.at(kHandoffs).suppressed);
  EXPECT_TRUE(table.rows.back().counts.at(kHandoffs).suppressed);
}

TEST(StatsTest, SuppressCellsIteratesUntilStable) {
  // 2x2 cells with row totals (column 2) and column totals (row 2).
  StatsGrid grid = {{3, 20, 23}, {30, 40, 70}, {33, 60, 93}};
  std::vector<StatsLine> lines = {{{0, 0}, {0, 1}, {0, 2}},
                                  {{1, 0}, {1, 1}, {1, 2}},
                                  {{0, 0}, {1, 0}, {2, 0}},
                                  {{0, 1}, {1, 1}, {2, 1}}};
  std::vector<std::vector<bool>> hidden = SuppressCells(grid, lines, 5);
  // 3 hides 20 (its row) and 30 (its column); then 40 (row 1 and column 1 each had one).
  EXPECT_TRUE(hidden[0][0] && hidden[0][1] && hidden[1][0] && hidden[1][1]);
  EXPECT_FALSE(hidden[0][2] || hidden[1][2] || hidden[2][0] || hidden[2][1] || hidden[2][2]);
}

TEST(StatsTest, OutputsHoldNoPseudonymAndBadDimensionsAreRefused) {
  Log log;
  for (int i = 0; i < 6; ++i) {
    log.Add("accepted", "concern_report", "flen.school", "flen.social", "pseudo-abcdef", i);
  }
  StatsTable table = AggregateStats(log.records, kFacts,
                                    By({StatsDimension::kMonth, StatsDimension::kMunicipality,
                                        StatsDimension::kType, StatsDimension::kRoute}));
  for (const char* format : {"table", "csv", "json"}) {
    std::string out = RenderStats(table, format, 5);
    EXPECT_EQ(out.find("pseudo-abcdef"), std::string::npos) << out;
    EXPECT_NE(out.find("flen"), std::string::npos) << out;
  }
  EXPECT_FALSE(ParseStatsDimensions("month,child").ok());
  EXPECT_FALSE(ParseStatsDimensions("type,type").ok());
  EXPECT_FALSE(ParseStatsDimensions("").ok());
  EXPECT_EQ(ParseStatsDimensions("route,month")->size(), 2u);
}

}  // namespace
}  // namespace stafett::tools
