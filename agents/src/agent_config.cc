// AgentConfig: reading agent.toml with errors that name the file and key.
#include "agent_config.h"

#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <iterator>

#include "stafett/core/config.h"
#include "stafett/core/ids.h"

namespace stafett::agent {

using core::Assign;

bool IsLoopbackBind(const std::string& bind) {
  size_t colon = bind.rfind(':');
  std::string host = colon == std::string::npos ? bind : bind.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

core::Result<std::string> ReadTokenFile(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    return core::Status(core::Code::kConfigInvalid, file.string() + ": cannot read the file");
  }
  if ((info.st_mode & 077) != 0) {
    return core::Status(core::Code::kKeyInvalid,
                        file.string() + ": must be readable by its owner only (chmod 600)");
  }
  std::ifstream in(file, std::ios::binary);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (!in.good() && !in.eof()) {
    return core::Status(core::Code::kConfigInvalid, file.string() + ": cannot read the file");
  }
  if (token.size() < 16) {
    return core::Status(core::Code::kKeyInvalid,
                        file.string() + ": the token must be at least 16 characters");
  }
  return token;
}

core::Result<AgentConfig> LoadAgentConfig(const std::filesystem::path& file) {
  core::Result<core::Config> loaded = core::Config::Load(file);
  if (!loaded.ok()) return loaded.status();
  const core::Config& config = *loaded;
  AgentConfig out;
  out.config_file = file;
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("agent.id", std::nullopt), &out.id));
  if (!core::IsValidEndpointId(out.id)) {
    return config.Error("agent.id", "must be an endpoint id like \"flen.school\"");
  }
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetString("agent.broker_zmq", std::nullopt), &out.broker_zmq));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("agent.http_bind", ""), &out.http_bind));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("agent.http_token", ""), &out.http_token));
  if (config.Has("agent.http_token_file")) {
    if (!out.http_token.empty()) {
      return config.Error("agent.http_token_file", "give http_token or http_token_file, not both");
    }
    std::filesystem::path token_file;
    STAFETT_RETURN_IF_ERROR(Assign(config.GetPath("agent.http_token_file", ""), &token_file));
    core::Result<std::string> token = ReadTokenFile(token_file);
    if (!token.ok()) return config.Error("agent.http_token_file", token.status().message());
    out.http_token = std::move(token).value();
  }
  STAFETT_RETURN_IF_ERROR(Assign(config.GetPath("agent.keys_dir", "keys"), &out.keys_dir));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetPath("agent.trust_directory", std::nullopt), &out.trust_directory));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetPath("agent.pseudonym_key", std::nullopt), &out.pseudonym_key));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetPath("agent.outbox", "outbox"), &out.outbox));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetPath("agent.inbox", "inbox"), &out.inbox));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetPath("agent.data_dir", "data"), &out.data_dir));
  STAFETT_RETURN_IF_ERROR(Assign(
      config.GetInt("agent.max_document_bytes", out.max_document_bytes, 1024, 64LL * 1024 * 1024),
      &out.max_document_bytes));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("agent.default_ttl_seconds", out.default_ttl_seconds, 60, 366LL * 86400),
             &out.default_ttl_seconds));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetInt("agent.credit", out.credit, 1, 10000), &out.credit));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("agent.http_wait_millis", out.http_wait_millis, 0, 60000),
             &out.http_wait_millis));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("agent.resend_after_seconds", out.resend_after_seconds, 1, 3600),
             &out.resend_after_seconds));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("agent.reconnect_min_millis", out.reconnect_min_millis, 10, 60000),
             &out.reconnect_min_millis));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("agent.reconnect_max_millis", out.reconnect_max_millis, 100, 600000),
             &out.reconnect_max_millis));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetInt("agent.rescan_seconds", out.rescan_seconds, 1, 3600),
                                 &out.rescan_seconds));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("agent.max_pending", out.max_pending, 1, 100000000), &out.max_pending));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("agent.min_free_bytes", out.min_free_bytes, 0, INT64_MAX),
             &out.min_free_bytes));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetString("inbox.format", out.inbox_format), &out.inbox_format));
  if (out.inbox_format != "stafett" && out.inbox_format != "fhir") {
    return config.Error("inbox.format", "must be \"stafett\" or \"fhir\"");
  }
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetBool("inbox.receipt_files", out.receipt_files), &out.receipt_files));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("retention.finished_days", out.retention_finished_days, 0, 36500),
             &out.retention_finished_days));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("retention.inbox_taken_days", out.retention_inbox_taken_days, 0, 36500),
             &out.retention_inbox_taken_days));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("log.format", out.log_format), &out.log_format));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("log.level", out.log_level), &out.log_level));
  if (out.log_format != "human" && out.log_format != "json") {
    return config.Error("log.format", "must be \"human\" or \"json\"");
  }
  if (!out.http_bind.empty() && out.http_token.empty() && !IsLoopbackBind(out.http_bind)) {
    return config.Error("agent.http_bind",
                        out.http_bind +
                            " is reachable beyond this machine: set http_token_file (or "
                            "http_token) or bind to 127.0.0.1");
  }
  STAFETT_RETURN_IF_ERROR(config.RejectUnknownKeys());
  return out;
}

}  // namespace stafett::agent
