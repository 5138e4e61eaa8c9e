// AgentSandbox: county init, processes, and polling helpers.
#include "integration/support/agent_sandbox.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>

namespace stafett::testing {

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);

std::string Binary(const std::string& relative) { return std::string(STAFETT_BIN_DIR) + relative; }

}  // namespace

AgentSandbox::AgentSandbox(const std::string& preset) : dir_("stafett-agent-it") {
  int base = FindFreePortRange(40);
  if (base < 0 || dir_.path().empty()) {
    error_ = "no free ports or no temp dir";
    return;
  }
  std::string county = dir_.path() + "/county";
  std::string output;
  int status = RunProgram(
      Binary("/tools/stafett"),
      {"county", "init", county, "--preset", preset, "--base-port", std::to_string(base)}, &output);
  if (status != 0) {
    error_ = "stafett county init failed (" + std::to_string(status) + "): " + output;
    return;
  }
  std::string text;
  if (!ReadWholeFile(county + "/county.json", &text)) {
    error_ = "no county.json";
    return;
  }
  nlohmann::json manifest = nlohmann::json::parse(text, nullptr, false);
  if (!manifest.is_object()) {
    error_ = "county.json is not JSON";
    return;
  }
  broker_config_ = county + "/" + manifest["broker"].value("config", "");
  broker_http_ = manifest["broker"].value("http", "");
  for (const nlohmann::json& agent : manifest["agents"]) {
    AgentInfo info{agent.value("id", ""), county + "/" + agent.value("config", ""),
                   county + "/" + agent.value("outbox", ""),
                   county + "/" + agent.value("inbox", ""), agent.value("http", "")};
    // The agent's API wants its bearer token (county init writes one per agent, mode 0600).
    std::string token;
    if (ReadWholeFile(county + "/" + agent.value("http_token_file", ""), &token)) {
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
        token.pop_back();
      }
      info.token = token;
      SetBearerToken(info.http, token);
    }
    agents_[info.id] = info;
  }
  ok_ = true;
}

AgentSandbox::~AgentSandbox() {
  for (auto& [id, process] : processes_) process->Kill();
  broker_.Kill();
}

std::string AgentSandbox::LogOf(const std::string& process) const {
  std::string text;
  ReadWholeFile(dir_.path() + "/" + process + ".log", &text);
  return text;
}

bool AgentSandbox::StartBroker() {
  if (!broker_.Start(Binary("/broker/stafett-broker"), {"--config", broker_config_},
                     dir_.path() + "/broker.log")) {
    return false;
  }
  return WaitUntil(
      [&] { return HttpRequest(broker_http_, "GET", "/healthz", "", {}, 2000).status == 200; },
      kStartTimeout);
}

void AgentSandbox::StopBroker() { broker_.Stop(); }

bool AgentSandbox::AddTwin(const std::string& id, const std::string& twin) {
  const AgentInfo& original = agents_.at(id);
  std::filesystem::path home = std::filesystem::path(original.config).parent_path();
  // A sibling folder, so that the config's ../../ paths (trust directory, county key) hold.
  std::filesystem::path twin_home = home.parent_path() / twin;
  std::string config;
  if (!ReadWholeFile(original.config, &config)) return false;
  int port = FindFreePortRange(1);
  if (port < 0) return false;
  std::string http = "127.0.0.1:" + std::to_string(port);
  std::string home_name = home.filename().string();
  auto replace = [&config](const std::string& from, const std::string& to) {
    size_t at = config.find(from);
    if (at == std::string::npos) return false;
    config.replace(at, from.size(), to);
    return true;
  };
  if (!replace("http_bind = \"" + original.http + "\"", "http_bind = \"" + http + "\"") ||
      !replace("keys_dir = \"keys\"", "keys_dir = \"../" + home_name + "/keys\"") ||
      !replace("http_token_file = \"http.token\"",
               "http_token_file = \"../" + home_name + "/http.token\"")) {
    return false;
  }
  std::error_code error;
  for (const char* folder : {"outbox", "inbox", "data"}) {
    std::filesystem::create_directories(twin_home / folder, error);
    if (error) return false;
  }
  std::string twin_config = (twin_home / "agent.toml").string();
  if (!WriteFileByRename(twin_config, config)) return false;
  AgentInfo info{
      original.id, twin_config,   (twin_home / "outbox").string(), (twin_home / "inbox").string(),
      http,        original.token};
  SetBearerToken(info.http, info.token);
  agents_[twin] = info;
  return true;
}

bool AgentSandbox::StartAgent(const std::string& id, bool wait_connected) {
  auto& process = processes_[id];
  if (!process) process = std::make_unique<ChildProcess>();
  if (!process->Start(Binary("/agents/stafett-agent"), {"--config", agents_.at(id).config},
                      dir_.path() + "/" + id + ".log")) {
    return false;
  }
  const std::string& http = agents_.at(id).http;
  return WaitUntil(
      [&] {
        HttpResponse health = HttpRequest(http, "GET", "/healthz", "", {}, 2000);
        if (health.status != 200) return false;
        if (!wait_connected) return true;
        nlohmann::json body = nlohmann::json::parse(health.body, nullptr, false);
        return body.is_object() && body.value("broker_connected", false);
      },
      kStartTimeout);
}

int AgentSandbox::StopAgent(const std::string& id) {
  auto found = processes_.find(id);
  return found == processes_.end() ? -1 : found->second->Stop();
}

void AgentSandbox::KillAgent(const std::string& id) {
  auto found = processes_.find(id);
  if (found != processes_.end()) found->second->Kill();
}

bool AgentSandbox::PointAgentAt(const std::string& id, const std::string& broker_zmq) {
  const std::string& config = agents_.at(id).config;
  std::string text;
  if (!ReadWholeFile(config, &text)) return false;
  size_t start = text.find("broker_zmq = \"");
  if (start == std::string::npos) return false;
  size_t end = text.find('\n', start);
  text.replace(start, end - start, "broker_zmq = \"" + broker_zmq + "\"");
  return WriteFileByRename(config, text);
}

HttpResponse AgentSandbox::Post(const std::string& id, const nlohmann::json& document) {
  return Post(id, document.dump());
}

HttpResponse AgentSandbox::Post(const std::string& id, const std::string& raw_body) {
  return HttpRequest(agents_.at(id).http, "POST", "/v1/messages", raw_body);
}

std::vector<std::string> AgentSandbox::PostConcernReports(const std::string& from,
                                                          const std::string& to,
                                                          const std::string& prefix, int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    std::string id = prefix + "-" + std::to_string(i);
    HttpResponse response = Post(from, ConcernReport(id, to));
    EXPECT_EQ(response.status, 202) << response.body;
    ids.push_back(id);
  }
  return ids;
}

std::string AgentSandbox::Status(const std::string& id, const std::string& message_id) {
  HttpResponse response = HttpRequest(agents_.at(id).http, "GET", "/v1/messages/" + message_id);
  if (response.status != 200) return "";
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  return body.is_object() ? body.value("status", "") : "";
}

bool AgentSandbox::WaitForStatus(const std::string& id, const std::string& message_id,
                                 const std::string& status, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return Status(id, message_id) == status; }, timeout);
}

bool AgentSandbox::Drop(const std::string& id, const std::string& name,
                        const std::string& content) {
  return WriteFileByRename(agents_.at(id).outbox + "/" + name, content);
}

std::vector<std::string> AgentSandbox::InboxMessages(const std::string& id) {
  std::vector<std::string> messages;
  for (const std::string& name : ListNames(agents_.at(id).inbox)) {
    if (name.starts_with("receipt-") || !name.ends_with(".json")) continue;
    messages.push_back(name);
  }
  return messages;
}

int RunStafett(const std::vector<std::string>& args, std::string* output, int timeout_ms) {
  return RunProgram(Binary("/tools/stafett"), args, output, timeout_ms);
}

nlohmann::json ConcernReport(const std::string& message_id, const std::string& to,
                             const std::string& description) {
  nlohmann::json document = {{"type", "concern_report"},
                             {"to", {to}},
                             {"subject", {{"personnummer", kChildNumber}}},
                             {"body", {{"description", description}}}};
  if (!message_id.empty()) document["message_id"] = message_id;
  return document;
}

nlohmann::json ConsentGranted(const std::string& message_id, const std::string& consent_id,
                              const std::vector<std::string>& parties, const std::string& to) {
  return {{"message_id", message_id},
          {"type", "consent_granted"},
          {"to", {to}},
          {"subject", {{"personnummer", kChildNumber}}},
          {"consent_id", consent_id},
          {"body",
           {{"consent_id", consent_id},
            {"parties", parties},
            {"purposes", {"support"}},
            {"valid_from", "2020-01-01T00:00:00Z"},
            {"valid_until", "2099-01-01T00:00:00Z"},
            {"given_by", {{{"role", "guardian"}}}}}}};
}

nlohmann::json SupportRequest(const std::string& message_id, const std::string& consent_id,
                              const std::string& to) {
  nlohmann::json document = {{"message_id", message_id},
                             {"type", "support_request"},
                             {"to", {to}},
                             {"subject", {{"personnummer", kChildNumber}}},
                             {"body", {{"reason", "Vill inte gå till skolan."}}}};
  if (!consent_id.empty()) document["consent_id"] = consent_id;
  return document;
}

nlohmann::json ConsentRevoked(const std::string& message_id, const std::string& consent_id,
                              const std::vector<std::string>& to) {
  return {{"message_id", message_id},
          {"type", "consent_revoked"},
          {"to", to},
          {"subject", {{"personnummer", kChildNumber}}},
          {"consent_id", consent_id},
          {"body", {{"consent_id", consent_id}, {"reason", "Vårdnadshavaren återkallade."}}}};
}

}  // namespace stafett::testing
