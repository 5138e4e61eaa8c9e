// BrokerConfig: reading broker.toml with errors that name the file and key.
#include "broker_config.h"

#include "stafett/core/config.h"

namespace stafett::broker {

using core::Assign;

core::Result<BrokerConfig> LoadBrokerConfig(const std::filesystem::path& file) {
  core::Result<core::Config> loaded = core::Config::Load(file);
  if (!loaded.ok()) return loaded.status();
  const core::Config& config = *loaded;
  BrokerConfig out;
  out.config_file = file;
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("broker.zmq_bind", out.zmq_bind), &out.zmq_bind));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetString("broker.http_bind", out.http_bind), &out.http_bind));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetPath("broker.data_dir", "data"), &out.data_dir));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetPath("broker.keys_dir", "keys"), &out.keys_dir));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetPath("broker.trust_directory", std::nullopt), &out.trust_directory));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("broker.max_message_bytes", out.max_message_bytes, 64 * 1024, 1LL << 30),
             &out.max_message_bytes));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("broker.min_free_bytes", out.min_free_bytes, 0, INT64_MAX),
             &out.min_free_bytes));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetBool("broker.fsync", out.fsync), &out.fsync));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("broker.max_batch", out.max_batch, 1, 65536), &out.max_batch));
  STAFETT_RETURN_IF_ERROR(Assign(
      config.GetInt("broker.max_publishes_per_second", out.max_publishes_per_second, 0, 1'000'000),
      &out.max_publishes_per_second));
  STAFETT_RETURN_IF_ERROR(Assign(
      config.GetInt("delivery.credit_window", out.credit_window, 1, 100000), &out.credit_window));
  STAFETT_RETURN_IF_ERROR(Assign(
      config.GetInt("delivery.redeliver_after_seconds", out.redeliver_after_seconds, 1, 86400),
      &out.redeliver_after_seconds));
  STAFETT_RETURN_IF_ERROR(Assign(
      config.GetInt("delivery.default_ttl_seconds", out.default_ttl_seconds, 60, 366LL * 86400),
      &out.default_ttl_seconds));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("delivery.heartbeat_seconds", out.heartbeat_seconds, 1, 3600),
             &out.heartbeat_seconds));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("audit.tree_head_seconds", out.tree_head_seconds, 1, 3600),
             &out.tree_head_seconds));
  int64_t grace_days = out.retention_grace_seconds / 86400;
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetInt("retention.message_grace_days", grace_days, 0, 3650), &grace_days));
  out.retention_grace_seconds = grace_days * 86400;
  // In seconds, for tests and benchmarks that cannot wait a day; it takes precedence.
  if (config.Has("retention.message_grace_seconds")) {
    STAFETT_RETURN_IF_ERROR(Assign(config.GetInt("retention.message_grace_seconds",
                                                 out.retention_grace_seconds, 0, 3650LL * 86400),
                                   &out.retention_grace_seconds));
  }
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetString("siem.address", out.siem_address), &out.siem_address));
  STAFETT_RETURN_IF_ERROR(
      Assign(config.GetString("siem.app_name", out.siem_app_name), &out.siem_app_name));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetBool("siem.tls", out.siem_tls), &out.siem_tls));
  if (out.siem_tls || config.Has("siem.ca_file")) {
    STAFETT_RETURN_IF_ERROR(
        Assign(config.GetPath("siem.ca_file", std::nullopt), &out.siem_ca_file));
  }
  if (!out.siem_address.empty() && out.siem_address.rfind(':') == std::string::npos) {
    return config.Error("siem.address", "must be host:port");
  }
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("log.format", out.log_format), &out.log_format));
  STAFETT_RETURN_IF_ERROR(Assign(config.GetString("log.level", out.log_level), &out.log_level));
  if (out.log_format != "human" && out.log_format != "json") {
    return config.Error("log.format", "must be \"human\" or \"json\"");
  }
  STAFETT_RETURN_IF_ERROR(config.RejectUnknownKeys());
  return out;
}

}  // namespace stafett::broker
