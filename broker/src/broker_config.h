// BrokerConfig: broker.toml, loaded and checked once at start (docs/DESIGN.md lists the keys).
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "stafett/core/status.h"

namespace stafett::broker {

struct BrokerConfig {
  std::filesystem::path config_file;
  std::string zmq_bind = "tcp://127.0.0.1:7700";
  std::string http_bind = "127.0.0.1:7701";  // empty disables the HTTP port
  std::filesystem::path data_dir;
  std::filesystem::path keys_dir;
  std::filesystem::path trust_directory;
  int64_t max_message_bytes = 9 * 1024 * 1024;
  int64_t credit_window = 64;
  int64_t redeliver_after_seconds = 30;
  int64_t default_ttl_seconds = 7 * 24 * 3600;
  int64_t heartbeat_seconds = 5;
  int64_t tree_head_seconds = 2;
  int64_t min_free_bytes = 64 * 1024 * 1024;  // below this the broker refuses new work
  int64_t max_batch = 512;                    // messages drained into one group commit
  // PUBLISH commands per second one endpoint may send (a token bucket holding one second's
  // worth); publishes over it are dropped unread (docs/SECURITY.md). A county sends tens a
  // minute per endpoint; 0 disables the limit (the benchmarks do).
  int64_t max_publishes_per_second = 200;
  bool fsync = true;
  // [retention] message_grace_days: a finished message's state and dead letters are removed
  // this long after its expiry, once the sender has every receipt; its audit records stay
  // (docs/PRIVACY.md). 0 keeps them for ever. [retention] message_grace_seconds, for tests and
  // benchmarks, takes precedence.
  int64_t retention_grace_seconds = 30LL * 86400;
  // [siem]: the collector every committed audit record is sent to, host:port, RFC 5424 over TCP
  // (docs/SIEM.md); empty: no feed. APP-NAME of its messages.
  std::string siem_address;
  std::string siem_app_name = "stafett-broker";
  bool siem_tls = false;               // RFC 5425: TLS, the collector checked against
  std::filesystem::path siem_ca_file;  // these CA certificates (PEM)
  std::string log_format = "human";
  std::string log_level = "info";
};

core::Result<BrokerConfig> LoadBrokerConfig(const std::filesystem::path& file);

// A consistent copy of the broker's database in TO (which must not exist): directly when no
// broker runs on DATA_DIR, else by asking the running broker over its own authenticated socket.
core::Status BackupDataDir(const BrokerConfig& config, const std::filesystem::path& to);

}  // namespace stafett::broker
