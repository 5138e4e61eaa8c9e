// ConsentSync: rebuilds the agent's consent table from the broker's consent index. An agent
// learns consents from the consent events it sends and receives; one that lost its journal (or
// started from an old backup of it) would withhold for good every message sent under a consent
// it had. So on the first session after start it asks the broker for every consent it is a
// party of (QUERY party_consents, page by page) and merges them into the journal: a consent it
// does not know is added, a revocation it missed is taken over; nothing else is changed. Until
// that is done, a delivery under a consent the agent does not know is not answered (the broker
// delivers it again) instead of being rejected. docs/AGENT.md, "Backing up and recovering".
// Thread-safety: OnSessionReady(), Kick() and the query answers run on the connection thread;
// settled() may be read from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "agent_config.h"
#include "connection.h"
#include "stafett/store/agent_journal.h"

namespace stafett::agent {

class ConsentSync {
 public:
  ConsentSync(const AgentConfig& config, store::AgentJournal& journal, Connection& connection);

  // A session is up: starts the rebuild unless it is done or running.
  void OnSessionReady() { Kick(); }
  // Starts the rebuild if it is neither done nor running (a delivery waiting for it asks).
  void Kick();
  // True once the rebuild finished since start — or the broker cannot answer it at all (an
  // older broker): then unknown consents are rejected as before.
  bool settled() const { return settled_.load(); }
  // True once the rebuild finished (all pages merged).
  bool synced() const { return synced_.load(); }

  // Merges one consent row of the broker's answer into the journal; whether it changed it.
  // Errors: a write failure (then the rebuild is tried again).
  static core::Result<bool> Merge(store::AgentJournal& journal, const std::string& own_id,
                                  const nlohmann::json& row, bool* revoked_now);

 private:
  void Ask(const nlohmann::json& after);
  void OnAnswer(const nlohmann::json& result);

  const AgentConfig& config_;
  store::AgentJournal& journal_;
  Connection& connection_;
  std::atomic<bool> settled_{false};
  std::atomic<bool> synced_{false};
  // Connection thread only.
  bool running_ = false;
  size_t seen_ = 0, learned_ = 0, revoked_ = 0;
};

}  // namespace stafett::agent
