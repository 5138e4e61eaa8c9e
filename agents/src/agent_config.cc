// AgentConfig: reading agent.toml with errors that name the file and key.
#include "agent_config.h"

#include "stafett/core/config.h"
#include "stafett/core/ids.h"

namespace stafett::agent {

using core::Assign;

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
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("log.format", out.log_format), &out.log_format));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("log.level", out.log_level), &out.log_level));
  if (out.log_format != "human" && out.log_format != "json") {
    return config.Error("log.format", "must be \"human\" or \"json\"");
  }
  return out;
}

}  // namespace stafett::agent
