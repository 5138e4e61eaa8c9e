// The config files `stafett county init` writes (docs/DESIGN.md, "Configs"): broker.toml,
// agent.toml, auditor.toml and operator.toml, with paths relative to each file's own folder as
// the sandbox layout places them. Thread-safety: pure functions.
#pragma once

#include <string>

namespace stafett::tools {

struct BrokerAddresses {
  std::string zmq;   // "tcp://127.0.0.1:P"
  std::string http;  // "127.0.0.1:P+1"
};

// DIR/broker/broker.toml.
std::string BrokerToml(const BrokerAddresses& broker);
// DIR/agents/<id>/agent.toml; HTTP_BIND is the agent's local API, "127.0.0.1:PORT".
std::string AgentToml(const std::string& id, const BrokerAddresses& broker,
                      const std::string& http_bind);
// DIR/auditor/auditor.toml.
std::string AuditorToml(const std::string& id, const BrokerAddresses& broker);
// DIR/operator/operator.toml.
std::string OperatorToml(const std::string& id, const BrokerAddresses& broker);

}  // namespace stafett::tools
