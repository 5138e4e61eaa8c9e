// BrokerClient: the CLI's authenticated connection to the broker — a CURVE DEALER socket with
// the caller's key set, for QUERY/RESULT round trips (docs/PROTOCOL.md).
// Thread-safety: one thread per client (it owns its socket).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <zmq.hpp>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::tools {

// What a client config (auditor.toml, operator.toml) names.
struct ClientConfig {
  std::string id;
  std::string broker_zmq;
  std::string broker_http;  // operators: for /metrics; may be empty
  std::filesystem::path keys_dir;
  std::filesystem::path trust_directory;
  std::filesystem::path pseudonym_key;  // auditors only; may be empty
  std::filesystem::path state_dir;      // auditors only; may be empty
};

// Loads [SECTION] from FILE ("auditor" or "operator").
core::Result<ClientConfig> LoadClientConfig(const std::filesystem::path& file,
                                            const std::string& section);

// How long a query waits for the broker's answer: 5 s unless a command's --timeout says
// otherwise. The CLI sets it while parsing its arguments, before any client exists.
inline constexpr std::chrono::milliseconds kDefaultBrokerTimeout{5000};
void SetBrokerTimeout(std::chrono::milliseconds timeout);
std::chrono::milliseconds BrokerTimeout();

class BrokerClient {
 public:
  // CLOCK's monotonic time measures the timeouts.
  static core::Result<std::unique_ptr<BrokerClient>> Connect(
      const ClientConfig& config, const core::Clock& clock = core::SystemClock::Instance());

  // Sends QUERY with OP and fields; waits up to BrokerTimeout() for the RESULT, saying on
  // stderr once that it is waiting when the answer is slow to come. No answer in time is
  // UNAVAILABLE; a RESULT with ok=false becomes its error code and message.
  core::Result<nlohmann::json> Query(nlohmann::json query) {
    return Query(std::move(query), BrokerTimeout());
  }
  core::Result<nlohmann::json> Query(nlohmann::json query, std::chrono::milliseconds timeout);

  const keys::TrustDirectory& directory() const { return directory_; }

 private:
  explicit BrokerClient(const core::Clock& clock) : clock_(clock), context_(1) {}
  const core::Clock& clock_;
  zmq::context_t context_;
  std::unique_ptr<zmq::socket_t> socket_;
  keys::TrustDirectory directory_;
  std::string endpoint_;  // the broker's ZeroMQ address, for messages
  bool said_waiting_ = false;
  uint64_t next_id_ = 1;
};

}  // namespace stafett::tools
