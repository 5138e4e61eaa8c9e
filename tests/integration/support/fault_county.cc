// FaultCounty: broker control, config tuning, CLI queries and inbox snapshots for fault tests.
#include "integration/support/fault_county.h"

#include <fstream>
#include <sstream>

namespace stafett::testing {

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(60);

std::string Binary(const std::string& relative) { return std::string(STAFETT_BIN_DIR) + relative; }

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

bool SetTomlKey(const std::string& file, const std::string& table, const std::string& key,
                const std::string& value) {
  std::string text;
  if (!ReadWholeFile(file, &text)) return false;
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const std::string header = "[" + table + "]";
  const std::string assignment = key + " = " + value;
  int header_at = -1;
  bool done = false;
  for (size_t i = 0; i < lines.size() && !done; ++i) {
    std::string trimmed = Trim(lines[i]);
    if (trimmed.starts_with("[")) {
      if (header_at >= 0) break;  // the table ended without the key
      if (trimmed == header) header_at = static_cast<int>(i);
      continue;
    }
    if (header_at < 0) continue;
    size_t equals = trimmed.find('=');
    if (equals != std::string::npos && Trim(trimmed.substr(0, equals)) == key) {
      lines[i] = assignment;
      done = true;
    }
  }
  if (!done) {
    if (header_at < 0) {
      lines.push_back(header);
      header_at = static_cast<int>(lines.size()) - 1;
    }
    lines.insert(lines.begin() + header_at + 1, assignment);
  }
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return WriteFileByRename(file, out);
}

uint64_t ResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

std::vector<std::string> SanitizerReports(const std::string& log) {
  std::vector<std::string> reports;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line) && reports.size() < 5;) {
    if (line.find("ERROR: AddressSanitizer") != std::string::npos ||
        line.find("ERROR: LeakSanitizer") != std::string::npos ||
        line.find("WARNING: ThreadSanitizer") != std::string::npos ||
        line.find("runtime error:") != std::string::npos) {
      reports.push_back(line);
    }
  }
  return reports;
}

FaultCounty::FaultCounty(const std::string& preset) : sandbox_(preset) {
  if (!sandbox_.ok()) return;
  std::string text;
  if (!ReadWholeFile(county_dir() + "/county.json", &text)) {
    error_ = "no county.json";
    return;
  }
  nlohmann::json manifest = nlohmann::json::parse(text, nullptr, false);
  if (!manifest.is_object()) {
    error_ = "county.json is not JSON";
    return;
  }
  broker_config_ = county_dir() + "/" + manifest["broker"].value("config", "");
  broker_zmq_ = manifest["broker"].value("zmq", "");
  broker_http_ = manifest["broker"].value("http", "");
  operator_config_ = county_dir() + "/" + manifest["operator"].value("config", "");
  auditor_config_ = county_dir() + "/" + manifest["auditor"].value("config", "");
}

FaultCounty::~FaultCounty() { broker_.Kill(); }

int FaultCounty::broker_port() const {
  return std::stoi(broker_zmq_.substr(broker_zmq_.rfind(':') + 1));
}

bool FaultCounty::SetBrokerKey(const std::string& table, const std::string& key,
                               const std::string& value) {
  return SetTomlKey(broker_config_, table, key, value);
}

bool FaultCounty::SetAgentKey(const std::string& id, const std::string& key,
                              const std::string& value) {
  return SetTomlKey(sandbox_.agent(id).config, "agent", key, value);
}

bool FaultCounty::StartBroker() {
  if (!broker_.Start(Binary("/broker/stafett-broker"), {"--config", broker_config_},
                     sandbox_.dir() + "/broker.log")) {
    return false;
  }
  return WaitUntil(
      [&] {
        if (!broker_.running()) return false;
        return HttpRequest(broker_http_, "GET", "/healthz", "", {}, 2000).status == 200;
      },
      kStartTimeout);
}

void FaultCounty::KillBroker() { broker_.Kill(); }

int FaultCounty::StopBroker() { return broker_.Stop(); }

std::string FaultCounty::Cli(const std::vector<std::string>& args, int* status) {
  std::string output;
  *status = RunStafett(args, &output);
  return output;
}

std::optional<std::map<std::string, nlohmann::json>> FaultCounty::Status() {
  int status = 0;
  std::string output = Cli({"status", "--config", operator_config_, "--format", "json"}, &status);
  if (status != 0) return std::nullopt;
  // The JSON list is the last thing printed; log lines (if any) come before it.
  size_t start = output.find('[');
  if (start == std::string::npos) return std::nullopt;
  nlohmann::json list = nlohmann::json::parse(output.substr(start), nullptr, false);
  if (!list.is_array()) return std::nullopt;
  std::map<std::string, nlohmann::json> endpoints;
  for (const nlohmann::json& endpoint : list) {
    if (endpoint.is_object()) endpoints[endpoint.value("id", "")] = endpoint;
  }
  return endpoints;
}

bool FaultCounty::WaitForQueuesDrained(std::chrono::milliseconds timeout, std::string* last) {
  return WaitUntil(
      [&] {
        std::optional<std::map<std::string, nlohmann::json>> endpoints = Status();
        if (!endpoints) return false;
        nlohmann::json seen = nlohmann::json::object();
        bool drained = true;
        for (const auto& [id, endpoint] : *endpoints) {
          int64_t depth = endpoint.value("queue_depth", int64_t{-1});
          seen[id] = depth;
          drained = drained && depth == 0;
        }
        if (last != nullptr) *last = seen.dump();
        return drained;
      },
      timeout);
}

std::optional<std::vector<nlohmann::json>> FaultCounty::AuditTrail(const std::string& endpoint) {
  int status = 0;
  std::string output = Cli(
      {"audit", "trail", "--config", auditor_config_, "--endpoint", endpoint, "--format", "json"},
      &status);
  if (status != 0) return std::nullopt;
  std::vector<nlohmann::json> records;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("{")) continue;
    nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_object()) records.push_back(std::move(record));
  }
  return records;
}

int FaultCounty::AuditVerify(std::string* output) {
  int status = 0;
  *output = Cli({"audit", "verify", "--config", auditor_config_}, &status);
  return status;
}

std::vector<std::string> FaultCounty::InboxIds(const std::string& id) {
  std::vector<std::string> ids;
  for (const std::string& name : sandbox_.InboxMessages(id)) {
    ids.push_back(name.substr(0, name.size() - 5));
  }
  return ids;
}

size_t InboxSnapshot::Update(const std::string& inbox_dir, std::vector<std::string>* changed) {
  size_t differing = 0;
  for (const std::string& name : ListNames(inbox_dir)) {
    if (name.starts_with("receipt-") || !name.ends_with(".json")) continue;
    std::string content;
    if (!ReadWholeFile(inbox_dir + "/" + name, &content)) continue;
    auto [it, inserted] = contents_.emplace(name, content);
    if (!inserted && it->second != content) {
      ++differing;
      if (changed != nullptr) changed->push_back(name);
    }
  }
  return differing;
}

}  // namespace stafett::testing
