// Operations end to end: real broker and agents on loopback (AgentSandbox), the operator's and
// auditor's CLI as processes. The broker's and agents' /metrics move as traffic flows and while
// a recipient is offline (and `promtool check metrics` accepts every body scraped); `stafett
// status` and `stafett track` against a live county with a backlog; a backup taken while a
// sender posts restores to a broker with the same signed audit head and the same queues; and
// a broker whose data folder (a small tmpfs) runs short of space refuses new work with
// STORAGE_FULL, keeps delivering, and resumes with nothing lost.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "integration/support/agent_sandbox.h"
#include "integration/support/tmpfs_mount.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

// --- Prometheus text -------------------------------------------------------------------------

// The value of SERIES ("name" or "name{label=\"value\",...}", labels as the exporter orders
// them) in the exposition BODY; NaN when absent.
double MetricValue(const std::string& body, const std::string& series) {
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == series.size() && line.compare(0, space, series) == 0) {
      return std::strtod(line.c_str() + space + 1, nullptr);
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

std::string Scrape(const std::string& host_port) {
  HttpResponse response = HttpRequest(host_port, "GET", "/metrics", "", {}, 5000);
  return response.status == 200 ? response.body : "";
}

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path == nullptr ? "" : path);
  for (std::string folder; std::getline(folders, folder, ':');) {
    std::string candidate = (folder.empty() ? "." : folder) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// Scrapes kept for `promtool check metrics`, checked at the end of a test: each body is
// written to a file and piped to promtool. Without promtool on PATH the format check is
// skipped (the values were checked all the same) — except in CI, which installs it.
class PromtoolBodies {
 public:
  explicit PromtoolBodies(std::string dir) : dir_(std::move(dir)) {}
  void Keep(const std::string& what, const std::string& body) {
    EXPECT_FALSE(body.empty()) << what << ": no /metrics body";
    bodies_.emplace_back(what, body);
  }
  // Returns false when promtool is missing outside CI (the caller skips).
  bool CheckAll() {
    std::string promtool = FindOnPath("promtool");
    if (promtool.empty()) {
      if (InCi()) ADD_FAILURE() << "promtool is not on PATH in CI (.ci/run installs prometheus)";
      return false;
    }
    for (size_t i = 0; i < bodies_.size(); ++i) {
      std::string file = dir_ + "/scrape-" + std::to_string(i) + ".prom";
      std::ofstream(file) << bodies_[i].second;
      std::string output;
      int status = RunProgram(
          "/bin/sh", {"-c", "exec \"$0\" check metrics < \"$1\"", promtool, file}, &output, 60000);
      EXPECT_EQ(status, 0) << "promtool check metrics refused " << bodies_[i].first << ":\n"
                           << output << "\n---\n"
                           << bodies_[i].second;
    }
    return true;
  }
  size_t size() const { return bodies_.size(); }

 private:
  std::string dir_;
  std::vector<std::pair<std::string, std::string>> bodies_;
};

// --- Files -----------------------------------------------------------------------------------

// Inserts LINES right after the line "[SECTION]" of the TOML file PATH.
bool AddToSection(const std::string& path, const std::string& section, const std::string& lines) {
  std::string text;
  if (!ReadWholeFile(path, &text)) return false;
  std::string header = "[" + section + "]\n";
  size_t at = text.find(header);
  if (at == std::string::npos) return false;
  text.insert(at + header.size(), lines);
  std::ofstream(path, std::ios::trunc) << text;
  return true;
}

// A copy of the TOML file FROM as TO with the values of the keys in REPLACE changed (each
// value a TOML literal, quotes included).
bool CopyConfig(const std::string& from, const std::string& to,
                const std::map<std::string, std::string>& replace) {
  std::string text;
  if (!ReadWholeFile(from, &text)) return false;
  std::istringstream lines(text);
  std::string out;
  size_t replaced = 0;
  for (std::string line; std::getline(lines, line);) {
    for (const auto& [key, value] : replace) {
      if (line.rfind(key + " = ", 0) == 0) {
        line = key + " = " + value;
        ++replaced;
      }
    }
    out += line + "\n";
  }
  std::ofstream(to, std::ios::trunc) << out;
  return replaced == replace.size();
}

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

nlohmann::json ParseJson(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, false);
}

// The row of endpoint ID in `stafett status --format json` output.
nlohmann::json StatusRow(const nlohmann::json& rows, const std::string& id) {
  if (rows.is_array()) {
    for (const nlohmann::json& row : rows) {
      if (row.value("id", "") == id) return row;
    }
  }
  return nlohmann::json();
}

// True when a line of the table OUTPUT has the cells CELLS one after the other (cells are
// single words here).
bool HasRow(const std::string& output, const std::vector<std::string>& cells) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words_in(line);
    std::vector<std::string> words{std::istream_iterator<std::string>(words_in), {}};
    if (std::search(words.begin(), words.end(), cells.begin(), cells.end()) != words.end()) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> EventNames(const nlohmann::json& track) {
  std::vector<std::string> names;
  if (!track.is_object() || !track.contains("events")) return names;
  for (const nlohmann::json& event : track["events"]) names.push_back(event.value("event", ""));
  return names;
}

// --- The fixture -----------------------------------------------------------------------------

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    std::string text;
    ASSERT_TRUE(ReadWholeFile(County() + "/county.json", &text));
    nlohmann::json manifest = ParseJson(text);
    ASSERT_TRUE(manifest.is_object());
    broker_http_ = manifest["broker"].value("http", "");
    ASSERT_FALSE(broker_http_.empty());
  }

  // Every process's log, whatever the test did: never the child's number or the report's text.
  void TearDown() override {
    for (const std::string& name : ListNames(sandbox_.dir())) {
      if (!name.ends_with(".log")) continue;
      std::string log;
      ReadWholeFile(sandbox_.dir() + "/" + name, &log);
      for (const char* personal : {"19121212-1212", "191212121212", "121212-1212", "Frånvaro"}) {
        EXPECT_EQ(log.find(personal), std::string::npos) << name << " contains " << personal;
      }
    }
  }

  std::string County() const { return sandbox_.dir() + "/county"; }
  std::string BrokerConfig() const { return County() + "/broker/broker.toml"; }
  std::string OperatorConfig() const { return County() + "/operator/operator.toml"; }
  std::string AuditorConfig() const { return County() + "/auditor/auditor.toml"; }

  double Broker(const std::string& series) { return MetricValue(Scrape(broker_http_), series); }
  double Agent(const std::string& id, const std::string& series) {
    return MetricValue(Scrape(sandbox_.agent(id).http), series);
  }

  // Polls HOST_PORT's /metrics until SERIES satisfies HOLDS; the last value seen goes to LAST.
  bool WaitMetric(const std::string& host_port, const std::string& series,
                  const std::function<bool(double)>& holds, double* last = nullptr,
                  std::chrono::milliseconds timeout = seconds(30)) {
    double value = std::numeric_limits<double>::quiet_NaN();
    bool held = WaitUntil(
        [&] {
          value = MetricValue(Scrape(host_port), series);
          return !std::isnan(value) && holds(value);
        },
        timeout);
    if (last != nullptr) *last = value;
    return held;
  }
  bool WaitBroker(const std::string& series, double expected) {
    double last = 0;
    bool held = WaitMetric(
        broker_http_, series, [&](double v) { return v == expected; }, &last);
    EXPECT_TRUE(held) << series << " = " << last << ", expected " << expected;
    return held;
  }
  bool WaitAgent(const std::string& id, const std::string& series, double expected) {
    double last = 0;
    bool held = WaitMetric(
        sandbox_.agent(id).http, series, [&](double v) { return v == expected; }, &last);
    EXPECT_TRUE(held) << id << ": " << series << " = " << last << ", expected " << expected;
    return held;
  }

  // `stafett status --format json` as the operator.
  nlohmann::json StatusJson(const std::string& config) {
    std::string output;
    int code = RunStafett({"status", "--config", config, "--format", "json"}, &output);
    EXPECT_EQ(code, 0) << output;
    return ParseJson(output);
  }
  nlohmann::json TrackJson(const std::string& message_id) {
    std::string output;
    int code = RunStafett({"track", message_id, "--config", OperatorConfig(), "--format", "json"},
                          &output);
    EXPECT_EQ(code, 0) << output;
    EXPECT_EQ(output.find("1212"), std::string::npos) << "an operator sees metadata only";
    EXPECT_EQ(output.find("Frånvaro"), std::string::npos) << "an operator sees metadata only";
    return ParseJson(output);
  }

  // Posts concern reports PREFIX-0 .. PREFIX-(COUNT-1) from the school to the social services
  // and waits until the broker accepted each (or, the recipient online, even delivered it).
  void PostAccepted(const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      std::string id = prefix + "-" + std::to_string(i);
      HttpResponse response = sandbox_.Post(kSchool, ConcernReport(id, kSocial));
      ASSERT_EQ(response.status, 202) << response.body;
      std::string status;
      ASSERT_TRUE(WaitUntil(
          [&] {
            status = sandbox_.Status(kSchool, id);
            return status == "accepted" || status == "delivered";
          },
          seconds(30)))
          << id << ": " << status << "\n"
          << sandbox_.LogOf(kSchool);
    }
  }

  AgentSandbox sandbox_;
  std::string broker_http_;
};

// --- Metrics ---------------------------------------------------------------------------------

TEST_F(OperationsTest, MetricsMoveWithTrafficAndAnOfflineRecipient) {
  PromtoolBodies promtool(sandbox_.dir());
  const std::string school = sandbox_.agent(kSchool).http;
  const std::string social = sandbox_.agent(kSocial).http;
  const std::string accepted = "stafett_messages_accepted_total{type=\"concern_report\"}";
  const std::string delivered =
      "stafett_messages_delivered_total{endpoint=\"flen.social\",type=\"concern_report\"}";
  const std::string depth = "stafett_queue_depth_messages{endpoint=\"flen.social\"}";
  const std::string oldest = "stafett_queue_oldest_age_seconds{endpoint=\"flen.social\"}";
  const std::string social_connected = "stafett_endpoint_connected{endpoint=\"flen.social\"}";

  // The broker is down: what the school is handed waits in its outbox, counted as backlog.
  ASSERT_TRUE(sandbox_.StartAgent(kSchool, /*wait_connected=*/false)) << sandbox_.LogOf(kSchool);
  WaitAgent(kSchool, "stafett_agent_connected", 0);
  for (int i = 0; i < 3; ++i) {
    HttpResponse response =
        sandbox_.Post(kSchool, ConcernReport("early-" + std::to_string(i), kSocial));
    ASSERT_EQ(response.status, 202) << response.body;
  }
  WaitAgent(kSchool, "stafett_agent_outbox_backlog", 3);
  WaitAgent(kSchool, "stafett_agent_submitted_total", 3);
  EXPECT_EQ(Agent(kSchool, "stafett_agent_accepted_total"), 0);
  promtool.Keep("agent with a backlog, broker down", Scrape(school));

  // The broker starts: the backlog drains into its queue for the (offline) social services.
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  WaitAgent(kSchool, "stafett_agent_connected", 1);
  WaitAgent(kSchool, "stafett_agent_outbox_backlog", 0);
  WaitAgent(kSchool, "stafett_agent_accepted_total", 3);
  EXPECT_GE(Agent(kSchool, "stafett_agent_publishes_total"), 3);
  WaitBroker(accepted, 3);
  WaitBroker(depth, 3);
  WaitBroker("stafett_agents_connected", 1);
  WaitBroker(social_connected, 0);
  EXPECT_EQ(Broker("stafett_endpoint_connected{endpoint=\"flen.school\"}"), 1);
  EXPECT_TRUE(std::isnan(Broker(delivered)) || Broker(delivered) == 0);
  // The oldest undelivered message ages while the recipient stays away.
  double first_age = 0, later_age = 0;
  ASSERT_TRUE(WaitMetric(
      broker_http_, oldest, [](double v) { return v > 0; }, &first_age))
      << first_age;
  EXPECT_TRUE(WaitMetric(
      broker_http_, oldest, [&](double v) { return v >= first_age + 1.0; }, &later_age))
      << first_age << " then " << later_age;
  promtool.Keep("broker with an offline recipient", Scrape(broker_http_));

  // The social services start: the queue empties, deliveries and latencies are counted.
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  WaitBroker(depth, 0);
  WaitBroker(oldest, 0);
  WaitBroker(delivered, 3);
  WaitBroker("stafett_agents_connected", 2);
  WaitBroker(social_connected, 1);
  EXPECT_GE(Broker("stafett_delivery_latency_seconds_count"), 3);
  WaitAgent(kSocial, "stafett_agent_inbox_writes_total", 3);
  WaitAgent(kSchool, "stafett_agent_receipts_total", 3);
  WaitAgent(kSchool, "stafett_agent_inbox_writes_total", 3);  // the receipts

  // Traffic: twenty messages posted from another thread while we scrape both sides.
  std::atomic<bool> posting{true};
  std::atomic<int> posted{0};
  std::thread sender([&] {
    for (int i = 0; i < 20; ++i) {
      HttpResponse response =
          HttpRequest(school, "POST", "/v1/messages",
                      ConcernReport("load-" + std::to_string(i), kSocial).dump());
      if (response.status == 202) ++posted;
    }
    posting = false;
  });
  std::string during_broker, during_school;
  while (posting) {
    std::string body = Scrape(broker_http_);
    if (!body.empty()) during_broker = body;
    body = Scrape(school);
    if (!body.empty()) during_school = body;
  }
  sender.join();
  ASSERT_EQ(posted, 20);
  promtool.Keep("broker during traffic", during_broker);
  promtool.Keep("agent during traffic", during_school);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(
        sandbox_.WaitForStatus(kSchool, "load-" + std::to_string(i), "delivered", seconds(30)));
  }
  WaitBroker(accepted, 23);
  WaitBroker(delivered, 23);
  WaitBroker(depth, 0);
  EXPECT_GE(Broker("stafett_delivery_latency_seconds_count"), 23);
  EXPECT_GT(Broker("stafett_batch_commit_seconds_count"), 0);
  EXPECT_GT(Broker("stafett_batch_events_sum"), 0);
  double records = 0;  // accepted and delivered, each message (the gauge follows on a timer)
  EXPECT_TRUE(WaitMetric(
      broker_http_, "stafett_audit_log_records", [](double v) { return v >= 46; }, &records))
      << records;
  EXPECT_EQ(Broker("stafett_storage_full"), 0);
  WaitAgent(kSchool, "stafett_agent_accepted_total", 23);
  WaitAgent(kSchool, "stafett_agent_receipts_total", 23);
  EXPECT_GE(Agent(kSchool, "stafett_agent_publishes_total"), 23);
  EXPECT_EQ(Agent(kSchool, "stafett_agent_send_failures_total"), 0);
  EXPECT_EQ(Agent(kSchool, "stafett_agent_outbox_backlog"), 0);
  WaitAgent(kSocial, "stafett_agent_inbox_writes_total", 23);

  // The social services go away again: the broker notices, and five more wait in its queue.
  EXPECT_EQ(sandbox_.StopAgent(kSocial), 0);
  WaitBroker(social_connected, 0);
  WaitBroker("stafett_agents_connected", 1);
  ASSERT_NO_FATAL_FAILURE(PostAccepted("offline", 5));
  WaitBroker(depth, 5);
  ASSERT_TRUE(WaitMetric(
      broker_http_, oldest, [](double v) { return v > 0; }, &first_age));
  EXPECT_TRUE(WaitMetric(
      broker_http_, oldest, [&](double v) { return v >= first_age + 1.0; }, &later_age))
      << first_age << " then " << later_age;
  EXPECT_EQ(Broker(delivered), 23);
  WaitBroker(accepted, 28);

  // A document the school's agent refuses itself is counted there, not at the broker.
  HttpResponse refused = sandbox_.Post(kSchool, std::string("{\"type\":\"concern_report\"}"));
  EXPECT_GE(refused.status, 400) << refused.body;
  WaitAgent(kSchool, "stafett_agent_refused_locally_total", 1);
  promtool.Keep("broker with five waiting", Scrape(broker_http_));
  promtool.Keep("agent after a local refusal", Scrape(school));

  // Back again: the five arrive, the gauges return to zero.
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  WaitBroker(depth, 0);
  WaitBroker(oldest, 0);
  WaitBroker(delivered, 28);
  WaitBroker("stafett_agents_connected", 2);
  WaitAgent(kSocial, "stafett_agent_inbox_writes_total", 5);  // a fresh process
  WaitAgent(kSchool, "stafett_agent_receipts_total", 28);
  EXPECT_EQ(sandbox_.InboxMessages(kSocial).size(), 28u);
  promtool.Keep("broker after the backlog drained", Scrape(broker_http_));
  promtool.Keep("recipient agent", Scrape(social));

  // The broker restarts: both agents come back (a reconnect each), counters start afresh.
  sandbox_.StopBroker();
  WaitAgent(kSchool, "stafett_agent_connected", 0);
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  WaitAgent(kSchool, "stafett_agent_connected", 1);
  double reconnects = 0;
  EXPECT_TRUE(WaitMetric(
      school, "stafett_agent_reconnects_total", [](double v) { return v >= 1; }, &reconnects))
      << reconnects;
  WaitBroker("stafett_agents_connected", 2);
  WaitBroker(depth, 0);
  EXPECT_TRUE(std::isnan(Broker(accepted)) || Broker(accepted) == 0);
  EXPECT_TRUE(WaitMetric(
      broker_http_, "stafett_audit_log_records", [](double v) { return v >= 56; }, &records))
      << records;
  promtool.Keep("broker after a restart", Scrape(broker_http_));

  if (!promtool.CheckAll()) {
    GTEST_SKIP() << "promtool not on PATH: the metric values were checked, not the format of the "
                 << promtool.size() << " scrapes (set CI=true to make this a failure)";
  }
}

// --- Status and track ------------------------------------------------------------------------

TEST_F(OperationsTest, StatusAndTrackShowAnOfflineEndpointWithABacklog) {
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  ASSERT_NO_FATAL_FAILURE(PostAccepted("backlog", 3));

  nlohmann::json rows = StatusJson(OperatorConfig());
  ASSERT_TRUE(rows.is_array()) << rows.dump();
  EXPECT_EQ(rows.size(), 3u) << "every endpoint in the directory, connected or not";
  nlohmann::json social = StatusRow(rows, kSocial);
  ASSERT_TRUE(social.is_object()) << rows.dump();
  EXPECT_EQ(social["connected"], false);
  EXPECT_TRUE(social["last_seen"].is_null()) << social.dump();
  EXPECT_EQ(social["queue_depth"], 3);
  double first_age = social.value("oldest_undelivered_seconds", 0.0);
  EXPECT_GT(first_age, 0);
  // Under the default warning threshold (300 s): no warning yet; with a threshold the backlog
  // has already outlived, a warning on that endpoint only.
  EXPECT_EQ(social["warnings"], nlohmann::json::array()) << social.dump();
  std::string warned;
  ASSERT_EQ(RunStafett({"status", "--config", OperatorConfig(), "--format", "json", "--warn-after",
                        "0.001"},
                       &warned),
            0)
      << warned;
  nlohmann::json warned_rows = ParseJson(warned);
  nlohmann::json warned_social = StatusRow(warned_rows, kSocial);
  ASSERT_EQ(warned_social["warnings"].size(), 1u) << warned;
  EXPECT_EQ(
      warned_social["warnings"][0].get<std::string>().rfind("offline with messages waiting", 0), 0u)
      << warned;
  EXPECT_EQ(StatusRow(warned_rows, kSchool)["warnings"], nlohmann::json::array()) << warned;
  EXPECT_EQ(StatusRow(warned_rows, "region.health")["warnings"], nlohmann::json::array())
      << "offline but nothing waiting: no warning";
  nlohmann::json school = StatusRow(rows, kSchool);
  EXPECT_EQ(school["connected"], true) << school.dump();
  EXPECT_TRUE(school["last_seen"].is_string()) << school.dump();
  EXPECT_EQ(school["queue_depth"], 0);
  EXPECT_EQ(school.value("oldest_undelivered_seconds", -1.0), 0);
  nlohmann::json health = StatusRow(rows, "region.health");
  EXPECT_EQ(health["connected"], false) << rows.dump();
  EXPECT_EQ(health["queue_depth"], 0);
  // The oldest undelivered age grows while the recipient stays away.
  double later_age = first_age;
  EXPECT_TRUE(WaitUntil(
      [&] {
        later_age = StatusRow(StatusJson(OperatorConfig()), kSocial)
                        .value("oldest_undelivered_seconds", 0.0);
        return later_age >= first_age + 1.0;
      },
      seconds(30)))
      << first_age << " then " << later_age;

  // The table: a row per endpoint, the offline one with its queue, and the audit log's size.
  std::string output;
  ASSERT_EQ(RunStafett({"status", "--config", OperatorConfig()}, &output), 0) << output;
  EXPECT_EQ(output.rfind("ENDPOINT", 0), 0u) << output;
  std::istringstream lines(output);
  bool saw_social = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream cells(line);
    std::vector<std::string> words{std::istream_iterator<std::string>(cells), {}};
    if (!words.empty() && words[0] == kSocial) {
      saw_social = true;
      ASSERT_GE(words.size(), 6u) << line;
      EXPECT_EQ(words[2], "no") << line;             // CONNECTED
      EXPECT_EQ(words[3], "never") << line;          // LAST SEEN
      EXPECT_EQ(words[4], "3") << line;              // QUEUED
      EXPECT_TRUE(words[5].ends_with("s")) << line;  // OLDEST, in seconds
    }
  }
  EXPECT_TRUE(saw_social) << output;
  EXPECT_NE(output.find("audit log: "), std::string::npos) << output;
  // An auditor's config may ask too; an endpoint's may not.
  EXPECT_EQ(RunStafett({"status", "--config", AuditorConfig()}, &output), 0) << output;
  EXPECT_NE(RunStafett({"status", "--config", sandbox_.agent(kSchool).config}, &output), 0)
      << output;

  // Track while queued: accepted, the social services still to go.
  nlohmann::json track = TrackJson("backlog-0");
  ASSERT_TRUE(track.is_object());
  EXPECT_EQ(track["status"], "accepted") << track.dump();
  EXPECT_EQ(track["type"], "concern_report");
  EXPECT_EQ(track["from"], kSchool);
  EXPECT_EQ(track["to"], nlohmann::json::array({kSocial}));
  EXPECT_EQ(track["recipients"][kSocial], "queued") << track.dump();
  EXPECT_EQ(EventNames(track), std::vector<std::string>{"accepted"}) << track.dump();
  EXPECT_TRUE(track["events"][0]["time"].is_string());
  EXPECT_TRUE(track["accepted_at"].is_string());
  EXPECT_TRUE(track["expires_at"].is_string());
  ASSERT_EQ(RunStafett({"track", "backlog-0", "--config", OperatorConfig()}, &output), 0) << output;
  EXPECT_EQ(output.rfind("message backlog-0: accepted\n", 0), 0u) << output;
  EXPECT_NE(output.find("concern_report from flen.school"), std::string::npos) << output;
  EXPECT_EQ(RunStafett({"track", "no-such-message", "--config", OperatorConfig()}, &output), 1);
  EXPECT_NE(output.find("NOT_FOUND"), std::string::npos) << output;

  // The social services start: delivered, with the receipt back at the school.
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(
        sandbox_.WaitForStatus(kSchool, "backlog-" + std::to_string(i), "delivered", seconds(30)));
  }
  track = TrackJson("backlog-0");
  EXPECT_EQ(track["status"], "delivered") << track.dump();
  EXPECT_EQ(track["recipients"][kSocial], "delivered") << track.dump();
  std::vector<std::string> names = EventNames(track);
  ASSERT_GE(names.size(), 2u) << track.dump();
  EXPECT_EQ(names[0], "accepted") << track.dump();
  EXPECT_EQ(names[1], "delivered") << track.dump();
  EXPECT_EQ(track["events"][1]["endpoint"], kSocial);
  EXPECT_LE(track["events"][0].value("time", ""), track["events"][1].value("time", ""));
  std::string text;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return ReadWholeFile(sandbox_.agent(kSchool).inbox + "/receipt-backlog-0-flen.social.json",
                             &text) &&
               ParseJson(text).value("status", "") == "delivered";
      },
      seconds(30)))
      << text;
  // The receipt the school holds names the audit record that track shows as delivered.
  nlohmann::json receipt = ParseJson(text);
  EXPECT_EQ(receipt["seq"], track["events"][1]["seq"]) << text << "\n" << track.dump();
  EXPECT_EQ(receipt["recipient"], kSocial) << text;
  // Once the school's agent has acknowledged the receipt, track shows it handed back.
  EXPECT_TRUE(WaitUntil(
      [&] {
        track = TrackJson("backlog-0");
        return EventNames(track) == std::vector<std::string>{"accepted", "delivered", "receipt"};
      },
      seconds(30)))
      << track.dump();
  EXPECT_EQ(track["events"][2]["endpoint"], kSocial) << track.dump();
  EXPECT_LE(track["events"][1].value("time", ""), track["events"][2].value("time", ""));
  ASSERT_EQ(RunStafett({"track", "backlog-0", "--config", OperatorConfig()}, &output), 0) << output;
  EXPECT_EQ(output.rfind("message backlog-0: delivered\n", 0), 0u) << output;
  EXPECT_TRUE(HasRow(output, {"delivered", kSocial})) << output;

  // And status once the backlog has gone.
  EXPECT_TRUE(WaitUntil(
      [&] {
        nlohmann::json row = StatusRow(StatusJson(OperatorConfig()), kSocial);
        return row.value("connected", false) && row.value("queue_depth", -1) == 0 &&
               row.value("oldest_undelivered_seconds", -1.0) == 0 && row["last_seen"].is_string();
      },
      seconds(30)))
      << StatusJson(OperatorConfig()).dump();
}

// --- Backup under load -----------------------------------------------------------------------

TEST_F(OperationsTest, BackupUnderLoadRestoresTheSameSignedAuditHeadAndQueues) {
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  // The social services stay offline: everything accepted waits in the broker's queue.
  const std::string school = sandbox_.agent(kSchool).http;

  std::mutex mutex;
  std::vector<std::string> accepted_ids;  // in the order the broker's answers came back
  std::set<std::string> posted_ids;
  std::atomic<bool> stop{false};
  // Three senders post at once, each waiting for the broker's answer before the next.
  std::vector<std::thread> senders;
  for (int t = 0; t < 3; ++t) {
    senders.emplace_back([&, t] {
      auto deadline = std::chrono::steady_clock::now() + seconds(120);
      for (int i = 0; i < 2000 && !stop && std::chrono::steady_clock::now() < deadline; ++i) {
        std::string id = "load-" + std::to_string(t) + "-" + std::to_string(i);
        {
          std::lock_guard lock(mutex);
          posted_ids.insert(id);
        }
        HttpResponse response =
            HttpRequest(school, "POST", "/v1/messages", ConcernReport(id, kSocial).dump());
        if (response.status == 202 && ParseJson(response.body).value("status", "") == "accepted") {
          std::lock_guard lock(mutex);
          accepted_ids.push_back(id);
        }
      }
    });
  }
  auto accepted_count = [&] {
    std::lock_guard lock(mutex);
    return accepted_ids.size();
  };
  EXPECT_TRUE(WaitUntil([&] { return accepted_count() >= 20; }, seconds(60)));
  size_t accepted_before = accepted_count();
  std::string backup_dir = sandbox_.dir() + "/backup";
  std::string output;
  int backup_code = RunProgram(std::string(STAFETT_BIN_DIR) + "/broker/stafett-broker",
                               {"backup", "--config", BrokerConfig(), "--to", backup_dir}, &output);
  size_t accepted_after_backup = accepted_count();
  // The sender keeps going a little after the copy: the original moves on past it.
  EXPECT_TRUE(
      WaitUntil([&] { return accepted_count() >= accepted_after_backup + 10; }, seconds(60)));
  stop = true;
  for (std::thread& sender : senders) sender.join();
  ASSERT_EQ(backup_code, 0) << output;
  EXPECT_NE(output.find("backup written to"), std::string::npos) << output;
  // How many the broker accepted while the copy ran depends on timing: recorded, not asserted.
  RecordProperty("accepted_before_backup", static_cast<int>(accepted_before));
  RecordProperty("accepted_while_backing_up",
                 static_cast<int>(accepted_after_backup - accepted_before));

  // A broker on the copy: the same config but the restored data and other ports.
  int base = FindFreePortRange(3);
  ASSERT_GT(base, 0);
  std::string restored_zmq = "tcp://127.0.0.1:" + std::to_string(base);
  std::string restored_http = "127.0.0.1:" + std::to_string(base + 1);
  std::string restored_config = County() + "/broker/restored.toml";
  ASSERT_TRUE(CopyConfig(BrokerConfig(), restored_config,
                         {{"zmq_bind", Quoted(restored_zmq)},
                          {"http_bind", Quoted(restored_http)},
                          {"data_dir", Quoted(backup_dir)}}));
  ChildProcess restored;
  ASSERT_TRUE(restored.Start(std::string(STAFETT_BIN_DIR) + "/broker/stafett-broker",
                             {"--config", restored_config}, sandbox_.dir() + "/restored.log"));
  ASSERT_TRUE(WaitUntil(
      [&] { return HttpRequest(restored_http, "GET", "/readyz", "", {}, 2000).status == 200; },
      seconds(30)))
      << sandbox_.LogOf("restored");

  // The auditor verifies the restored log, then the original with the same state: the
  // original's log at the restored size must have the restored root (a consistency proof
  // from the restored head to the original's newer one), both heads signed by the broker key.
  std::string restored_auditor = County() + "/auditor/restored.toml";
  ASSERT_TRUE(
      CopyConfig(AuditorConfig(), restored_auditor, {{"broker_zmq", Quoted(restored_zmq)}}));
  ASSERT_EQ(RunStafett({"audit", "verify", "--config", restored_auditor}, &output), 0) << output;
  size_t size_at = output.find("tree size ");
  ASSERT_NE(size_at, std::string::npos) << output;
  uint64_t restored_size = std::stoull(output.substr(size_at + 10));
  EXPECT_GE(restored_size, accepted_before) << output;
  // The broker's own account of the copy agrees with what the copy holds.
  std::string broker_log = sandbox_.LogOf("broker");
  const std::string backup_written = "event=backup_written audit_size=";
  size_t written = broker_log.find(backup_written);
  ASSERT_NE(written, std::string::npos) << broker_log;
  EXPECT_EQ(std::stoull(broker_log.substr(written + backup_written.size())), restored_size);
  std::string head_file = County() + "/auditor/state/last_head.json";
  std::string restored_head_text;
  ASSERT_TRUE(ReadWholeFile(head_file, &restored_head_text)) << "the auditor keeps the head";
  ASSERT_EQ(RunStafett({"audit", "verify", "--config", AuditorConfig()}, &output), 0) << output;
  EXPECT_NE(output.find("consistent with the head seen before (size " +
                        std::to_string(restored_size) + ")"),
            std::string::npos)
      << output;
  uint64_t original_size = std::stoull(output.substr(output.find("tree size ") + 10));
  EXPECT_GT(original_size, restored_size) << "the original moved on while the copy was taken";

  nlohmann::json restored_head = ParseJson(restored_head_text);
  ASSERT_TRUE(restored_head.is_object()) << restored_head_text;
  EXPECT_EQ(restored_head.value("tree_size", uint64_t{0}), restored_size) << restored_head_text;

  // The restored queue holds exactly the messages the restored log accepted for the social
  // services: every one accepted before the copy began, none the sender never posted.
  nlohmann::json restored_rows = StatusJson([&] {
    std::string config = County() + "/operator/restored.toml";
    EXPECT_TRUE(
        CopyConfig(OperatorConfig(), config,
                   {{"broker_zmq", Quoted(restored_zmq)}, {"broker_http", Quoted(restored_http)}}));
    return config;
  }());
  int64_t restored_depth = StatusRow(restored_rows, kSocial).value("queue_depth", -1);
  ASSERT_EQ(RunStafett({"audit", "trail", "--config", restored_auditor, "--endpoint", kSocial,
                        "--format", "json"},
                       &output),
            0)
      << output;
  std::set<std::string> restored_accepted;
  std::istringstream trail(output);
  for (std::string line; std::getline(trail, line);) {
    nlohmann::json record = ParseJson(line);
    if (record.is_object() && record.value("event", "") == "accepted") {
      restored_accepted.insert(record.value("message_id", ""));
    }
  }
  EXPECT_EQ(restored_depth, static_cast<int64_t>(restored_accepted.size()));
  {
    std::lock_guard lock(mutex);
    for (size_t i = 0; i < accepted_before; ++i) {
      EXPECT_EQ(restored_accepted.count(accepted_ids[i]), 1u) << accepted_ids[i];
    }
    for (const std::string& id : restored_accepted) {
      EXPECT_EQ(posted_ids.count(id), 1u) << id;
    }
  }
  // The original holds more than the copy: what came after it.
  int64_t original_depth =
      StatusRow(StatusJson(OperatorConfig()), kSocial).value("queue_depth", -1);
  EXPECT_GT(original_depth, restored_depth);

  // And the restored queue delivers: the social services' agent, pointed at the restored
  // broker, receives exactly the restored messages.
  int agent_port = FindFreePortRange(1);
  ASSERT_GT(agent_port, 0);
  std::string social_config = County() + "/agents/flen.social/restored.toml";
  std::string social_http = "127.0.0.1:" + std::to_string(agent_port);
  ASSERT_TRUE(
      CopyConfig(sandbox_.agent(kSocial).config, social_config,
                 {{"broker_zmq", Quoted(restored_zmq)}, {"http_bind", Quoted(social_http)}}));
  ChildProcess social;
  ASSERT_TRUE(social.Start(std::string(STAFETT_BIN_DIR) + "/agents/stafett-agent",
                           {"--config", social_config}, sandbox_.dir() + "/restored-social.log"));
  EXPECT_TRUE(
      WaitUntil([&] { return sandbox_.InboxMessages(kSocial).size() >= restored_accepted.size(); },
                seconds(60)))
      << sandbox_.InboxMessages(kSocial).size() << " of " << restored_accepted.size();
  std::set<std::string> received;
  for (const std::string& name : sandbox_.InboxMessages(kSocial)) {
    received.insert(name.substr(0, name.size() - 5));
  }
  EXPECT_EQ(received, restored_accepted);
  social.Stop();
  restored.Stop();
}

// --- A full disk -----------------------------------------------------------------------------

class FullDiskTest : public OperationsTest {
 protected:
  void TearDown() override {
    // The broker holds files on the mount: stop it first, then unmount, always.
    sandbox_.StopBroker();
    mount_.Unmount();
    OperationsTest::TearDown();
  }
  TmpfsMount mount_;
};

TEST_F(FullDiskTest, ShortOfSpaceTheBrokerRefusesNewWorkKeepsDeliveringAndResumes) {
  constexpr uint64_t kMiB = 1024 * 1024;
  constexpr uint64_t kMinFree = 32 * kMiB;
  // The broker's data on its own small filesystem: a tmpfs at broker/disk, data in disk/data.
  std::string disk = County() + "/broker/disk";
  std::string error;
  if (!mount_.Mount(disk, "192m", &error)) {
    GTEST_SKIP() << "cannot mount a small filesystem for the broker's data (needs root): " << error;
  }
  ASSERT_TRUE(CopyConfig(BrokerConfig(), BrokerConfig(), {{"data_dir", Quoted("disk/data")}}));
  ASSERT_TRUE(AddToSection(BrokerConfig(), "broker",
                           "min_free_bytes = " + std::to_string(kMinFree) + "\n"));
  // The school retries what the broker could not take soon, and answers POST without waiting.
  ASSERT_TRUE(AddToSection(sandbox_.agent(kSchool).config, "agent",
                           "resend_after_seconds = 1\nhttp_wait_millis = 0\n"));
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  WaitBroker("stafett_storage_full", 0);

  // Five wait for the (offline) social services before the disk fills.
  ASSERT_NO_FATAL_FAILURE(PostAccepted("before", 5));
  WaitBroker("stafett_queue_depth_messages{endpoint=\"flen.social\"}", 5);

  // Fill the filesystem until less than min_free_bytes is left (but some still is: the
  // broker keeps writing what deliveries need).
  std::string filler = disk + "/filler.bin";
  uint64_t free_now = FreeBytes(disk);
  ASSERT_GT(free_now, kMinFree + 8 * kMiB) << "the tmpfs is too small for this test";
  uint64_t fill = free_now - kMinFree + 16 * kMiB;  // leaves about kMinFree - 16 MiB
  {
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    int allocated = ::posix_fallocate(fd, 0, static_cast<off_t>(fill));
    ::close(fd);
    ASSERT_EQ(allocated, 0) << std::strerror(allocated);
  }
  ASSERT_LT(FreeBytes(disk), kMinFree);
  ASSERT_GT(FreeBytes(disk), 4 * kMiB);
  WaitBroker("stafett_storage_full", 1);
  EXPECT_TRUE(sandbox_.LogOf("broker").find("event=storage_full") != std::string::npos);

  // New work is refused with STORAGE_FULL: the school's agent keeps it pending and retries.
  for (int i = 0; i < 3; ++i) {
    HttpResponse response =
        sandbox_.Post(kSchool, ConcernReport("during-" + std::to_string(i), kSocial));
    ASSERT_EQ(response.status, 202) << response.body;
  }
  double refusals = 0;
  EXPECT_TRUE(WaitMetric(
      broker_http_, "stafett_messages_refused_total{code=\"STORAGE_FULL\"}",
      [](double v) { return v >= 3; }, &refusals))
      << refusals;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return sandbox_.LogOf(kSchool).find(
                   "event=refused_retry_later message_id=during-2 "
                   "code=STORAGE_FULL") != std::string::npos;
      },
      seconds(30)))
      << sandbox_.LogOf(kSchool);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sandbox_.Status(kSchool, "during-" + std::to_string(i)), "pending");
  }
  // The integrator sees why (issue 14 item 12; before: pending with no code, /readyz 200 and no
  // storage field in the JSON status): GET gives the broker's reason, a new POST says it at once.
  HttpResponse tracked =
      HttpRequest(sandbox_.agent(kSchool).http, "GET", "/v1/messages/during-2", "", {}, 5000);
  EXPECT_EQ(ParseJson(tracked.body).value("status", ""), "pending") << tracked.body;
  EXPECT_EQ(ParseJson(tracked.body).value("code", ""), "STORAGE_FULL") << tracked.body;
  HttpResponse late = sandbox_.Post(kSchool, ConcernReport("during-3", kSocial));
  EXPECT_EQ(late.status, 202) << late.body;
  EXPECT_EQ(ParseJson(late.body).value("status", ""), "pending") << late.body;
  EXPECT_EQ(ParseJson(late.body).value("code", ""), "STORAGE_FULL") << late.body;
  HttpResponse readyz = HttpRequest(broker_http_, "GET", "/readyz", "", {}, 5000);
  EXPECT_EQ(readyz.status, 503) << readyz.body;
  {
    std::string json_status;
    ASSERT_EQ(
        RunStafett({"status", "--config", OperatorConfig(), "--format", "json"}, &json_status), 0)
        << json_status;
    nlohmann::json storage = StatusRow(ParseJson(json_status), kSocial)["storage"];
    EXPECT_EQ(storage.value("full", false), true) << json_status;
    EXPECT_LT(storage.value("free_bytes", kMinFree), kMinFree) << json_status;
    EXPECT_EQ(storage.value("min_free_bytes", uint64_t{0}), kMinFree) << json_status;
  }
  EXPECT_EQ(Agent(kSchool, "stafett_agent_send_failures_total"), 0) << "not a final refusal";
  EXPECT_GE(Agent(kSchool, "stafett_agent_outbox_backlog"), 3);
  std::string output;
  ASSERT_EQ(RunStafett({"status", "--config", OperatorConfig()}, &output), 0) << output;
  EXPECT_NE(output.find("STORAGE FULL: refusing new work"), std::string::npos) << output;

  // What is already queued is still delivered.
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(
        sandbox_.WaitForStatus(kSchool, "before-" + std::to_string(i), "delivered", seconds(30)));
  }
  EXPECT_EQ(sandbox_.InboxMessages(kSocial).size(), 5u);
  EXPECT_EQ(Broker("stafett_storage_full"), 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sandbox_.Status(kSchool, "during-" + std::to_string(i)), "pending");
  }

  // Space returns: the broker resumes and the school's retries go through; nothing is lost.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  WaitBroker("stafett_storage_full", 0);
  EXPECT_TRUE(WaitUntil(
      [&] { return sandbox_.LogOf("broker").find("event=storage_resumed") != std::string::npos; },
      seconds(10)));
  EXPECT_EQ(HttpRequest(broker_http_, "GET", "/readyz", "", {}, 5000).status, 200);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(
        sandbox_.WaitForStatus(kSchool, "during-" + std::to_string(i), "delivered", seconds(60)))
        << sandbox_.Status(kSchool, "during-" + std::to_string(i)) << sandbox_.LogOf(kSchool);
  }
  ASSERT_NO_FATAL_FAILURE(PostAccepted("after", 2));
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(
        sandbox_.WaitForStatus(kSchool, "after-" + std::to_string(i), "delivered", seconds(30)));
  }
  std::vector<std::string> inbox = sandbox_.InboxMessages(kSocial);
  EXPECT_EQ(inbox, (std::vector<std::string>{"after-0.json", "after-1.json", "before-0.json",
                                             "before-1.json", "before-2.json", "before-3.json",
                                             "before-4.json", "during-0.json", "during-1.json",
                                             "during-2.json", "during-3.json"}));
  WaitBroker("stafett_queue_depth_messages{endpoint=\"flen.social\"}", 0);
  WaitAgent(kSchool, "stafett_agent_outbox_backlog", 0);
}

}  // namespace
}  // namespace stafett::testing
