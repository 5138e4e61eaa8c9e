// AgentSandbox: a whole county on loopback for the agent's integration tests — created with
// `stafett county init DIR --base-port P`, broker and agents run as child processes, helpers to
// hand documents over (file drop, HTTP) and to poll for files and statuses with deadlines.
// Thread-safety: one test thread per sandbox.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/http_client.h"
#include "support/sandbox_files.h"

namespace stafett::testing {

inline constexpr char kChildNumber[] = "19121212-1212";  // Luhn-valid, fake

struct AgentInfo {
  std::string id, config, outbox, inbox, http;
  std::string token;  // the bearer token of the agent's API (HttpRequest sends it by itself)
};

class AgentSandbox {
 public:
  // Creates the county; check ok() (and error()) before use.
  explicit AgentSandbox(const std::string& preset = "three");
  ~AgentSandbox();

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_.path(); }
  // The folder `stafett county init` wrote (county.json, broker/, agents/ID/, trust/).
  std::string county_dir() const { return dir_.path() + "/county"; }
  const AgentInfo& agent(const std::string& id) const { return agents_.at(id); }
  const std::string& broker_config() const { return broker_config_; }
  const std::string& broker_http() const { return broker_http_; }

  // Starts the broker and waits until its /healthz answers.
  bool StartBroker();
  void StopBroker();
  // Whether the broker process is still running (false once it exited on its own).
  bool BrokerRunning() { return broker_.running(); }
  // Writes a second configuration for agent ID, started as TWIN: the same endpoint, key set
  // and API token, but its own HTTP port, outbox, inbox and data_dir (two agents cannot share
  // a data_dir: agent.lock) — what a copied key set run by a second stafett-agent looks like
  // to the broker. Then StartAgent(TWIN), agent(TWIN) and LogOf(TWIN) work as for ID.
  bool AddTwin(const std::string& id, const std::string& twin);
  // Starts agent ID and waits until its /healthz answers (and, if WAIT_CONNECTED, until it is
  // connected to the broker).
  bool StartAgent(const std::string& id, bool wait_connected = true);
  int StopAgent(const std::string& id);
  void KillAgent(const std::string& id);

  // Rewrites agent ID's agent.toml to connect to BROKER_ZMQ (before StartAgent).
  bool PointAgentAt(const std::string& id, const std::string& broker_zmq);

  // POST /v1/messages on agent ID.
  HttpResponse Post(const std::string& id, const nlohmann::json& document);
  HttpResponse Post(const std::string& id, const std::string& raw_body);
  // POSTs COUNT concern reports FROM → TO, ids PREFIX-0 … PREFIX-(COUNT-1), each expected to be
  // answered 202 (a gtest failure otherwise); their ids, in posting order.
  std::vector<std::string> PostConcernReports(const std::string& from, const std::string& to,
                                              const std::string& prefix, int count);
  // GET /v1/messages/{message_id} on agent ID: the status, or "" if none.
  std::string Status(const std::string& id, const std::string& message_id);
  bool WaitForStatus(const std::string& id, const std::string& message_id,
                     const std::string& status, std::chrono::milliseconds timeout);
  // Drops DOCUMENT into agent ID's outbox as NAME (written as a dot-file, then renamed).
  bool Drop(const std::string& id, const std::string& name, const std::string& content);
  // Message files in agent ID's inbox (receipts and temp files excluded).
  std::vector<std::string> InboxMessages(const std::string& id);
  std::string LogOf(const std::string& process) const;

 private:
  TempDir dir_;
  bool ok_ = false;
  std::string error_;
  std::string broker_config_, broker_http_;
  std::map<std::string, AgentInfo> agents_;
  ChildProcess broker_;
  std::map<std::string, std::unique_ptr<ChildProcess>> processes_;
};

// Runs the `stafett` CLI with ARGS to completion; its exit status, OUTPUT its stdout and stderr.
int RunStafett(const std::vector<std::string>& args, std::string* output, int timeout_ms = 60000);

// Documents for the tests (Luhn-valid fake numbers only).
nlohmann::json ConcernReport(const std::string& message_id, const std::string& to,
                             const std::string& description = "Frånvaro sedan tre veckor.");
nlohmann::json ConsentGranted(const std::string& message_id, const std::string& consent_id,
                              const std::vector<std::string>& parties, const std::string& to);
nlohmann::json SupportRequest(const std::string& message_id, const std::string& consent_id,
                              const std::string& to);
// A revocation of CONSENT_ID (of the child kChildNumber) sent to TO, its other parties.
nlohmann::json ConsentRevoked(const std::string& message_id, const std::string& consent_id,
                              const std::vector<std::string>& to);

}  // namespace stafett::testing
