// FaultCounty: an AgentSandbox county for the fault tests (tests/integration/*fault*_test.cc,
// storm_test.cc) — the broker as a child process of its own (SIGKILL, SIGTERM, restart), config
// keys tuned for faults, the operator's `stafett status` and the auditor's `stafett audit trail`
// and `verify` through the real CLI, and inbox snapshots for exactly-once checks.
// Thread-safety: one test thread per county; InboxSnapshot is a plain value.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/agent_sandbox.h"
#include "support/child_process.h"

namespace stafett::testing {

// Sets KEY = VALUE (VALUE a TOML literal, e.g. "5" or "\"x\"") in [TABLE] of FILE: replaces the
// key's line within the table, or adds it right after the table's header.
bool SetTomlKey(const std::string& file, const std::string& table, const std::string& key,
                const std::string& value);

// Resident set size of PID in bytes (from /proc), or 0.
uint64_t ResidentBytes(pid_t pid);

// Lines of LOG that report a sanitizer finding (ASan, UBSan, TSan), at most a few.
std::vector<std::string> SanitizerReports(const std::string& log);

class FaultCounty {
 public:
  explicit FaultCounty(const std::string& preset = "three");
  ~FaultCounty();

  bool ok() const { return sandbox_.ok() && error_.empty(); }
  std::string error() const { return sandbox_.ok() ? error_ : sandbox_.error(); }
  AgentSandbox& sandbox() { return sandbox_; }
  std::string county_dir() const { return sandbox_.dir() + "/county"; }
  const std::string& broker_zmq() const { return broker_zmq_; }  // tcp://127.0.0.1:P
  int broker_port() const;
  const std::string& broker_http() const { return broker_http_; }

  bool SetBrokerKey(const std::string& table, const std::string& key, const std::string& value);
  bool SetAgentKey(const std::string& id, const std::string& key, const std::string& value);

  // Starts the broker (log: broker.log, as AgentSandbox::LogOf("broker")) and waits for /healthz.
  bool StartBroker();
  void KillBroker();  // SIGKILL, reaped
  int StopBroker();   // SIGTERM; the exit status
  pid_t broker_pid() const { return broker_.pid(); }

  // `stafett status --format json`: endpoint id → its object; nullopt if the CLI failed.
  std::optional<std::map<std::string, nlohmann::json>> Status();
  // Waits until every endpoint's queue_depth is 0; LAST gets the last status seen.
  bool WaitForQueuesDrained(std::chrono::milliseconds timeout, std::string* last);
  // `stafett audit trail --endpoint ID --format json`: the records, nullopt if the CLI failed.
  std::optional<std::vector<nlohmann::json>> AuditTrail(const std::string& endpoint);
  // `stafett audit verify`: the exit status; OUTPUT gets what it printed.
  int AuditVerify(std::string* output);

  // Message ids in agent ID's inbox (file names without ".json").
  std::vector<std::string> InboxIds(const std::string& id);

 private:
  std::string Cli(const std::vector<std::string>& args, int* status);

  AgentSandbox sandbox_;
  std::string error_;
  std::string broker_config_, broker_zmq_, broker_http_, operator_config_, auditor_config_;
  ChildProcess broker_;
};

// The content of every message file in an inbox, to show that a file once written never
// changes (a redelivery must not rewrite it).
class InboxSnapshot {
 public:
  // Reads the files of INBOX_DIR not seen before; returns the number of files whose content
  // differs from what an earlier call read (each is added to CHANGED).
  size_t Update(const std::string& inbox_dir, std::vector<std::string>* changed);
  size_t size() const { return contents_.size(); }

 private:
  std::map<std::string, std::string> contents_;
};

}  // namespace stafett::testing
