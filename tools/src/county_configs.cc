// Config file texts for the sandbox, as docs/DESIGN.md shows them.
// Thread-safety: pure functions.
#include "county_configs.h"

namespace stafett::tools {
namespace {

constexpr const char* kGenerated =
    "# Written by `stafett county init`. Relative paths resolve against this file's folder.\n";

constexpr const char* kLog =
    "\n[log]\n"
    "format = \"human\"                 # or \"json\"\n"
    "level = \"info\"\n";

// A TOML basic string. Ids and addresses here never need escapes, but be safe.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string BrokerToml(const BrokerAddresses& broker) {
  return std::string(kGenerated) +
         "\n[broker]\n"
         "zmq_bind = " +
         Quoted(broker.zmq) + "\n" + "http_bind = " + Quoted(broker.http) + "\n" +
         "data_dir = \"data\"\n"
         "keys_dir = \"keys\"\n"
         "trust_directory = \"../trust/directory.json\"\n"
         "max_message_bytes = 9437184      # whole envelope; documents are capped at 8 MiB by the "
         "agents\n"
         "max_publishes_per_second = 200   # per endpoint; over it publishes are dropped unread\n"
         "\n[delivery]\n"
         "credit_window = 64               # deliveries in flight per endpoint\n"
         "redeliver_after_seconds = 30\n"
         "default_ttl_seconds = 604800\n" +
         kLog;
}

std::string AgentToml(const std::string& id, const BrokerAddresses& broker,
                      const std::string& http_bind) {
  return std::string(kGenerated) +
         "\n[agent]\n"
         "id = " +
         Quoted(id) + "\n" + "broker_zmq = " + Quoted(broker.zmq) + "\n" +
         "http_bind = " + Quoted(http_bind) + "\n" +
         "http_token_file = \"http.token\"   # bearer token for the local API (mode 0600)\n"
         "keys_dir = \"keys\"\n"
         "trust_directory = \"../../trust/directory.json\"\n"
         "pseudonym_key = \"../../county/pseudonym.key\"\n"
         "outbox = \"outbox\"\n"
         "inbox = \"inbox\"\n"
         "data_dir = \"data\"                # the agent's journal\n"
         "max_document_bytes = 8388608\n" +
         kLog;
}

std::string AuditorToml(const std::string& id, const BrokerAddresses& broker) {
  return std::string(kGenerated) +
         "\n[auditor]\n"
         "id = " +
         Quoted(id) + "\n" + "broker_zmq = " + Quoted(broker.zmq) + "\n" +
         "keys_dir = \"keys\"\n"
         "trust_directory = \"../trust/directory.json\"\n"
         "pseudonym_key = \"../county/pseudonym.key\"\n"
         "state_dir = \"state\"              # the last signed tree head this auditor verified\n" +
         kLog;
}

std::string OperatorToml(const std::string& id, const BrokerAddresses& broker) {
  return std::string(kGenerated) +
         "\n[operator]\n"
         "id = " +
         Quoted(id) + "\n" + "broker_zmq = " + Quoted(broker.zmq) + "\n" +
         "broker_http = " + Quoted(broker.http) + "\n" +
         "keys_dir = \"keys\"\n"
         "trust_directory = \"../trust/directory.json\"\n" +
         kLog;
}

}  // namespace stafett::tools
