// CurveRelay: a broker that lies, for tests of what an agent checks itself. It stands between
// one agent and the real broker as a CURVE man in the middle — the agent connects to it as to
// the broker (the relay holds the broker's transport secret), it connects to the broker as that
// agent (it holds the agent's transport pair) — and forwards every STF1 message both ways,
// passing those from the broker through a rewrite function first. Only a test, which wrote the
// sandbox's keys itself, can build one. Thread-safety: its own thread forwards; the control
// functions may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stafett::testing {

class CurveRelay {
 public:
  // Frames of one STF1 message (version, command, arguments); returns whether it changed them.
  using Rewrite = std::function<bool(std::vector<std::string>& frames)>;

  // Binds 127.0.0.1 (a free port) as the CURVE server BROKER_SECRET (raw 32 bytes) and connects
  // to BROKER_ZMQ as the CURVE client AGENT_PUBLIC/AGENT_SECRET, expecting BROKER_PUBLIC.
  CurveRelay(const std::string& broker_zmq, const std::string& broker_public,
             const std::string& broker_secret, const std::string& agent_public,
             const std::string& agent_secret);
  ~CurveRelay();
  CurveRelay(const CurveRelay&) = delete;
  CurveRelay& operator=(const CurveRelay&) = delete;

  bool ok() const { return !endpoint_.empty(); }
  // Where the agent's broker_zmq should point.
  const std::string& endpoint() const { return endpoint_; }
  // Applied to every message from the broker to the agent from now on (nullptr: none).
  void SetRewrite(Rewrite rewrite);
  // Messages forwarded so far with COMMAND (e.g. "ACK") to the broker / to the agent.
  uint64_t ToBroker(const std::string& command) const;
  uint64_t ToAgent(const std::string& command) const;
  // Messages the rewrite function changed.
  uint64_t rewritten() const { return rewritten_; }

 private:
  std::string endpoint_;
  mutable std::mutex mutex_;  // guards rewrite_ and the counts
  Rewrite rewrite_;
  std::map<std::string, uint64_t> to_broker_, to_agent_;
  std::atomic<uint64_t> rewritten_{0};
  std::atomic<bool> stop_{false};
  std::mutex ready_mutex_;  // guards endpoint_ until the constructor returns
  std::thread thread_;
};

}  // namespace stafett::testing
