// The SIEM feed end to end (docs/SIEM.md): a real broker and agents on loopback hand over
// concern reports while the broker sends its audit log to a real collector, Debian's rsyslog
// (imtcp, RFC 6587 octet counting, omfile). The collector is stopped mid-run and started again
// on the same port: every seq of the audit log arrives, a duplicate is the same bytes, every
// message parses as RFC 5424 with the record's fields, no personnummer reaches the collector,
// and a broker restart resends nothing the collector had confirmed.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr char kRsyslogd[] = "/usr/sbin/rsyslogd";

// One message as the collector wrote it: the header fields, the structured data and the MSG.
struct Parsed {
  std::vector<std::string> header;  // PRI+VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID
  std::string sd_id;
  std::map<std::string, std::string> params;
  std::string msg;
};

// RFC 5424 with one SD-ELEMENT; nullopt if LINE is not that.
std::optional<Parsed> ParseSyslog(const std::string& line) {
  Parsed out;
  size_t at = 0;
  for (int i = 0; i < 6; ++i) {
    size_t space = line.find(' ', at);
    if (space == std::string::npos) return std::nullopt;
    out.header.push_back(line.substr(at, space - at));
    at = space + 1;
  }
  if (at >= line.size() || line[at] != '[') return std::nullopt;
  size_t space = line.find(' ', at);
  if (space == std::string::npos) return std::nullopt;
  out.sd_id = line.substr(at + 1, space - at - 1);
  at = space;
  while (at < line.size() && line[at] == ' ') {
    size_t equals = line.find("=\"", at);
    if (equals == std::string::npos) return std::nullopt;
    std::string name = line.substr(at + 1, equals - at - 1);
    std::string value;
    size_t i = equals + 2;
    for (; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size() &&
          (line[i + 1] == '"' || line[i + 1] == '\\' || line[i + 1] == ']')) {
        ++i;
      }
      value += line[i];
    }
    if (i >= line.size()) return std::nullopt;
    out.params[name] = value;
    at = i + 1;
  }
  if (line.compare(at, 2, "] ") != 0) return std::nullopt;
  out.msg = line.substr(at + 2);
  return out;
}

std::vector<std::string> Lines(const std::string& path) {
  std::string content;
  std::vector<std::string> lines;
  if (!ReadWholeFile(path, &content)) return lines;
  std::istringstream in(content);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// The value of the unlabelled metric NAME in the broker's /metrics, or -1.
int64_t Metric(const std::string& http, const std::string& name) {
  HttpResponse response = HttpRequest(http, "GET", "/metrics", "", {}, 2000);
  size_t at = response.body.find("\n" + name + " ");
  if (response.status != 200 || at == std::string::npos) return -1;
  return std::stoll(response.body.substr(at + name.size() + 2));
}

class Collector {
 public:
  // With TLS_DIR, RFC 5425: rsyslog's gtls driver with TLS_DIR/server.pem and server.key.
  Collector(const std::string& dir, int port, const std::string& tls_dir = "")
      : dir_(dir), port_(port) {
    std::filesystem::create_directories(dir + "/work");
    std::ofstream conf(dir + "/rsyslog.conf");
    conf << "global(workDirectory=\"" << dir << "/work\"";
    if (!tls_dir.empty()) {
      conf << " DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"" << tls_dir
           << "/ca.pem\" DefaultNetstreamDriverCertFile=\"" << tls_dir
           << "/server.pem\" DefaultNetstreamDriverKeyFile=\"" << tls_dir << "/server.key\"";
    }
    conf << ")\n";
    if (tls_dir.empty()) {
      conf << "module(load=\"imtcp\")\n";
    } else {
      conf << "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" "
              "StreamDriver.AuthMode=\"anon\")\n";
    }
    conf << "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n"
         << "ruleset(name=\"siem\") {\n"
         << "  action(type=\"omfile\" file=\"" << output() << "\" template=\"raw\")\n"
         << "}\n"
         << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port
         << "\" ruleset=\"siem\")\n";
  }
  std::string output() const { return dir_ + "/siem.log"; }
  // Starts rsyslogd in the foreground and waits until it accepts connections.
  bool Start() {
    if (!process_.Start(kRsyslogd,
                        {"-n", "-f", dir_ + "/rsyslog.conf", "-i", dir_ + "/rsyslogd.pid"},
                        dir_ + "/rsyslogd.log")) {
      return false;
    }
    return WaitUntil([&] { return process_.running() && Accepts(); }, seconds(20));
  }
  int Stop() { return process_.Stop(); }
  std::string Log() const {
    std::string log;
    ReadWholeFile(dir_ + "/rsyslogd.log", &log);
    return log;
  }

 private:
  bool Accepts() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return ok;
  }

  std::string dir_;
  int port_;
  ChildProcess process_;
};

TEST(SiemFeedTest, EveryAuditRecordReachesRsyslogAcrossACollectorOutage) {
  if (access(kRsyslogd, X_OK) != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "CI=true but no " << kRsyslogd;
    GTEST_SKIP() << "rsyslog is not installed (apt-get install rsyslog)";
  }
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  int port = FindFreePortRange(1);
  ASSERT_GT(port, 0);
  Collector collector(sandbox.dir() + "/collector", port);
  ASSERT_TRUE(collector.Start()) << collector.Log();
  {
    std::ofstream config(sandbox.broker_config(), std::ios::app);
    config << "\n[siem]\naddress = \"127.0.0.1:" << port << "\"\n";
  }
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  const std::string& http = sandbox.broker_http();

  auto hand_over = [&](const std::string& prefix, int count) {
    for (const std::string& id : sandbox.PostConcernReports(kSchool, kSocial, prefix, count)) {
      EXPECT_TRUE(sandbox.WaitForStatus(kSchool, id, "delivered", seconds(30))) << id;
    }
  };
  // Every seq of the log in the collector's file, and the feed has nothing left to confirm.
  auto all_arrived = [&](int64_t* size) {
    *size = Metric(http, "stafett_audit_log_records");
    if (*size <= 0 || Metric(http, "stafett_siem_lag_records") != 0) return false;
    std::set<int64_t> seqs;
    for (const std::string& line : Lines(collector.output())) {
      std::optional<Parsed> parsed = ParseSyslog(line);
      if (parsed) seqs.insert(std::stoll(parsed->params["seq"]));
    }
    return static_cast<int64_t>(seqs.size()) == *size && *seqs.rbegin() == *size - 1;
  };

  hand_over("before", 3);
  int64_t size = 0;
  ASSERT_TRUE(WaitUntil([&] { return all_arrived(&size); }, seconds(30)))
      << Lines(collector.output()).size() << " lines, audit size " << size << "\n"
      << sandbox.LogOf("broker");
  int64_t size_before_outage = size;

  // The collector goes away; the broker keeps committing, the feed falls behind.
  ASSERT_EQ(collector.Stop(), 0) << collector.Log();
  hand_over("during", 3);
  ASSERT_TRUE(WaitUntil([&] { return Metric(http, "stafett_siem_lag_records") > 0; }, seconds(10)))
      << "records committed while the collector is away are not confirmed\n"
      << sandbox.LogOf("broker");
  // The gauge is refreshed on the broker's timer, shortly after the commits.
  EXPECT_TRUE(WaitUntil(
      [&] { return Metric(http, "stafett_audit_log_records") > size_before_outage; }, seconds(10)));

  // Back on the same port: the feed reconnects and resends from its cursor.
  ASSERT_TRUE(collector.Start()) << collector.Log();
  hand_over("after", 2);
  ASSERT_TRUE(WaitUntil([&] { return all_arrived(&size); }, seconds(60)))
      << Lines(collector.output()).size() << " lines, audit size " << size << "\n"
      << sandbox.LogOf("broker");

  std::vector<std::string> lines = Lines(collector.output());
  std::map<int64_t, std::string> by_seq;
  std::map<int64_t, int> copies;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find(kChildNumber), std::string::npos) << "pseudonyms only";
    EXPECT_EQ(line.find("191212121212"), std::string::npos);
    EXPECT_EQ(line.find("1212121212"), std::string::npos);
    std::optional<Parsed> parsed = ParseSyslog(line);
    ASSERT_TRUE(parsed) << line;
    EXPECT_EQ(parsed->header[0], parsed->params["event"] == "refused" ? "<85>1" : "<86>1");
    EXPECT_EQ(parsed->header[3], "stafett-broker");
    EXPECT_EQ(parsed->header[5], parsed->params["event"]) << "MSGID is the event";
    EXPECT_EQ(parsed->sd_id, "stafett@32473");
    int64_t seq = std::stoll(parsed->params.at("seq"));
    EXPECT_EQ(parsed->params["tree_size"], std::to_string(seq + 1));
    // MSG is the canonical record: the structured data repeats its fields.
    json record = json::parse(parsed->msg, nullptr, false);
    ASSERT_TRUE(record.is_object()) << line;
    EXPECT_EQ(record["seq"], seq);
    EXPECT_EQ(record["time"], parsed->header[1]);
    EXPECT_EQ(record["event"], parsed->params["event"]);
    EXPECT_EQ(record["type"], parsed->params["type"]);
    EXPECT_EQ(record["from"], parsed->params["from"]);
    EXPECT_EQ(record["subject"], parsed->params["subject"]);
    EXPECT_EQ(record.value("code", ""), parsed->params["code"]);
    std::string to;
    for (const json& recipient : record["to"])
      to += (to.empty() ? "" : ",") + recipient.get<std::string>();
    EXPECT_EQ(to, parsed->params["to"]);
    if (record["event"] == "accepted") {
      EXPECT_EQ(parsed->params["from"], kSchool);
      EXPECT_EQ(parsed->params["to"], kSocial);
      EXPECT_FALSE(parsed->params["subject"].empty()) << "the child's pseudonym";
    }
    auto [it, inserted] = by_seq.emplace(seq, line);
    if (!inserted) {
      EXPECT_EQ(it->second, line) << "a resent record is the same message";
    }
    ++copies[seq];
  }
  ASSERT_EQ(static_cast<int64_t>(by_seq.size()), size);
  std::string log = sandbox.LogOf("broker");
  EXPECT_NE(log.find("event=siem_disconnected"), std::string::npos) << log;
  EXPECT_NE(log.find("event=siem_connect_failed"), std::string::npos) << "refused while away";
  EXPECT_EQ(by_seq.begin()->first, 0);
  EXPECT_EQ(by_seq.rbegin()->first, size - 1);

  // A broker restart resumes from the durable cursor: what the collector confirmed is not sent
  // again, only what was committed since.
  sandbox.StopBroker();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  int64_t size_before_restart = size;
  hand_over("restart", 1);
  ASSERT_TRUE(
      WaitUntil([&] { return all_arrived(&size) && size > size_before_restart; }, seconds(60)))
      << sandbox.LogOf("broker");
  EXPECT_EQ(Metric(http, "stafett_siem_records_sent_total"), size - size_before_restart);
  std::map<int64_t, int> copies_after;
  for (const std::string& line : Lines(collector.output())) {
    std::optional<Parsed> parsed = ParseSyslog(line);
    ASSERT_TRUE(parsed) << line;
    ++copies_after[std::stoll(parsed->params.at("seq"))];
  }
  for (const auto& [seq, count] : copies) {
    EXPECT_EQ(copies_after[seq], count) << "seq " << seq << " resent after the broker restarted";
  }
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

// A CA (DIR/NAME.pem) and, signed by it, a server certificate for 127.0.0.1 (DIR/server.pem,
// DIR/server.key), made with the openssl CLI for this test run only.
bool MakeCertificates(const std::string& dir, const std::string& ca, bool with_server,
                      std::string* output) {
  std::filesystem::create_directories(dir);
  auto openssl = [&](const std::vector<std::string>& args) {
    return RunProgram("/usr/bin/openssl", args, output) == 0;
  };
  std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                 "-nodes"};
  std::vector<std::string> make_ca = {"req", "-x509"};
  make_ca.insert(make_ca.end(), ec.begin(), ec.end());
  make_ca.insert(make_ca.end(), {"-keyout", dir + "/" + ca + ".key", "-out",
                                 dir + "/" + ca + ".pem", "-subj", "/CN=" + ca, "-days", "2"});
  if (!openssl(make_ca)) return false;
  if (!with_server) return true;
  std::vector<std::string> request = {"req"};
  request.insert(request.end(), ec.begin(), ec.end());
  request.insert(request.end(), {"-keyout", dir + "/server.key", "-out", dir + "/server.csr",
                                 "-subj", "/CN=127.0.0.1"});
  if (!openssl(request)) return false;
  if (!WriteFileByRename(dir + "/server.ext",
                         "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")) {
    return false;
  }
  return openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/" + ca + ".pem",
                  "-CAkey", dir + "/" + ca + ".key", "-CAcreateserial", "-out", dir + "/server.pem",
                  "-days", "2", "-extfile", dir + "/server.ext"});
}

// RFC 5425: the feed over TLS to rsyslog's gtls driver. A collector whose certificate does not
// chain to the configured CA gets nothing; with the right CA every record arrives.
TEST(SiemFeedTest, OverTlsTheCollectorIsVerifiedAndGetsEveryRecord) {
  if (access(kRsyslogd, X_OK) != 0 ||
      !std::filesystem::exists("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "CI=true but no rsyslog-gnutls";
    GTEST_SKIP() << "rsyslog's gtls driver is not installed (apt-get install rsyslog-gnutls)";
  }
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  std::string tls = sandbox.dir() + "/tls", output;
  ASSERT_TRUE(MakeCertificates(tls, "ca", true, &output)) << output;
  ASSERT_TRUE(MakeCertificates(tls, "other-ca", false, &output)) << output;
  int port = FindFreePortRange(1);
  ASSERT_GT(port, 0);
  Collector collector(sandbox.dir() + "/collector", port, tls);
  ASSERT_TRUE(collector.Start()) << collector.Log();
  std::string original;
  ASSERT_TRUE(ReadWholeFile(sandbox.broker_config(), &original));
  auto configure = [&](const std::string& ca) {
    return WriteFileByRename(sandbox.broker_config(),
                             original + "\n[siem]\naddress = \"127.0.0.1:" + std::to_string(port) +
                                 "\"\ntls = true\nca_file = \"" + tls + "/" + ca + ".pem\"\n");
  };
  const std::string& http = sandbox.broker_http();

  // The wrong CA: the handshake fails, nothing is confirmed.
  ASSERT_TRUE(configure("other-ca"));
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  for (const std::string& id : sandbox.PostConcernReports(kSchool, kSocial, "tls", 2)) {
    EXPECT_TRUE(sandbox.WaitForStatus(kSchool, id, "delivered", seconds(30))) << id;
  }
  ASSERT_TRUE(WaitUntil(
      [&] { return sandbox.LogOf("broker").find("event=siem_tls_failed") != std::string::npos; },
      seconds(20)))
      << sandbox.LogOf("broker");
  EXPECT_NE(sandbox.LogOf("broker").find("certificate"), std::string::npos)
      << sandbox.LogOf("broker");
  EXPECT_GT(Metric(http, "stafett_siem_lag_records"), 0);
  EXPECT_EQ(Metric(http, "stafett_siem_records_sent_total"), 0);
  EXPECT_TRUE(Lines(collector.output()).empty());

  // The right CA: everything from seq 0.
  sandbox.StopBroker();
  ASSERT_TRUE(configure("ca"));
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  int64_t size = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        size = Metric(http, "stafett_audit_log_records");
        if (size <= 0 || Metric(http, "stafett_siem_lag_records") != 0) return false;
        std::set<int64_t> seqs;
        for (const std::string& line : Lines(collector.output())) {
          std::optional<Parsed> parsed = ParseSyslog(line);
          if (parsed) seqs.insert(std::stoll(parsed->params["seq"]));
        }
        return static_cast<int64_t>(seqs.size()) == size && *seqs.rbegin() == size - 1;
      },
      seconds(30)))
      << sandbox.LogOf("broker") << collector.Log();
  for (const std::string& line : Lines(collector.output())) {
    std::optional<Parsed> parsed = ParseSyslog(line);
    ASSERT_TRUE(parsed) << line;
    EXPECT_EQ(parsed->sd_id, "stafett@32473");
    EXPECT_EQ(line.find(kChildNumber), std::string::npos) << "pseudonyms only";
  }
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

}  // namespace
}  // namespace stafett::testing
