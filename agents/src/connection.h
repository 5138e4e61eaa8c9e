// Connection: the agent's one session with the broker. Its thread owns the ZeroMQ context's
// DEALER socket (CURVE client) and that socket's monitor: it says HELLO on every new
// connection, sends heartbeats, reconnects with capped, jittered backoff, publishes the
// journal's pending messages within a window, and hands what the broker sends to the handler.
// Thread-safety: Publish() and Query() may be called from any thread — they queue work and wake
// the connection thread through an eventfd; every handler call runs on the connection thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent_config.h"
#include "metrics.h"
#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/protocol.h"
#include "stafett/core/random.h"
#include "stafett/core/status.h"
#include "trust.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace stafett::agent {

// What the connection thread calls; implemented by the agent (sender and inbox).
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Message ids waiting for the broker, oldest first.
  virtual std::vector<std::string> PendingIds() = 0;
  // The journalled envelope of ID if it is still pending, else nullopt.
  virtual std::optional<core::Envelope> PendingEnvelope(const std::string& id) = 0;
  virtual void OnAccepted(const nlohmann::json& accepted) = 0;
  virtual void OnRefused(const nlohmann::json& refused) = 0;
  // The reply to a DELIVER (DELIVERED or REJECTED), or nullopt when the agent could not take
  // it now (the broker redelivers).
  struct Reply {
    core::protocol::Command command;
    nlohmann::json object;
  };
  virtual std::optional<Reply> OnDeliver(const nlohmann::json& meta, core::Envelope envelope) = 0;
  // True once the receipt is durably handled (then it is ACKed).
  virtual bool OnReceipt(const nlohmann::json& receipt) = 0;
  // A session is up (after WELCOME); Query() may be called from here.
  virtual void OnSessionReady() {}
  // Group commit (docs/AGENT.md, "Group commit"): the connection brackets each burst of frames
  // it reads at once with BeginBurst and EndBurst. What the handler journals and writes in
  // between is made durable at EndBurst, and the burst's replies (DELIVERED, REJECTED, ACK) are
  // sent only if it returns true; if false none is, and the broker delivers them again.
  virtual void BeginBurst() {}
  virtual bool EndBurst() { return true; }
};

class Connection {
 public:
  // CLOCK paces reconnects and deadlines; RANDOM jitters the reconnect delays.
  Connection(const AgentConfig& config, const Trust& trust, ConnectionHandler& handler,
             Metrics& metrics, const core::Clock& clock, core::RandomSource& random);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  core::Status Start();
  void Stop();

  // Sends the journalled message ID as soon as a session is up (any thread).
  void Publish(const std::string& message_id);
  // Sends QUERY (an "id" is added); DONE gets the RESULT object, or {"ok":false,"code":
  // "UNAVAILABLE"} when there is no session. DONE runs on the connection thread (any thread).
  void Query(nlohmann::json query, std::function<void(const nlohmann::json&)> done);
  bool ready() const { return state_.load() == State::kReady; }

 private:
  enum class State { kDisconnected, kHello, kReady };
  using TimePoint = std::chrono::steady_clock::time_point;
  struct QueuedQuery {
    nlohmann::json query;
    std::function<void(const nlohmann::json&)> done;
  };

  void Run();
  void OpenSocket(TimePoint now);
  void CloseSocket(TimePoint now, const char* reason);
  void DrainMonitor(TimePoint now);
  // The frames of the next message waiting on the socket into FRAMES; false when none waits.
  bool ReceiveFrames(std::vector<std::string>* frames);
  void DrainSocket(TimePoint now);
  void HandleMessage(core::protocol::Message message, TimePoint now);
  void TakeWork();
  void Pump(TimePoint now);
  void RunTimers(TimePoint now);
  bool Send(core::protocol::Command command, std::vector<std::string> arguments);
  void FailQueries();
  void Enqueue(const std::string& id);
  // The broker gave this endpoint's session to a newer HELLO (another agent with our keys, or
  // our own connection it thought half-open): disconnect and come back after a backoff.
  void OnSessionReplaced(TimePoint now);

  const AgentConfig& config_;
  const Trust& trust_;
  ConnectionHandler& handler_;
  Metrics& metrics_;
  const core::Clock& clock_;
  core::RandomSource& random_;

  // Shared with other threads.
  std::mutex mutex_;
  std::vector<std::string> incoming_publishes_;
  std::vector<QueuedQuery> incoming_queries_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<State> state_{State::kDisconnected};
  std::thread thread_;

  // Owned by the connection thread.
  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<zmq::socket_t> monitor_;
  int sockets_opened_ = 0;
  int failed_attempts_ = 0;
  // SESSION_REPLACED in a row: each doubles the wait before saying HELLO again, so that two
  // agents with one key take turns visibly, ever more slowly, instead of flapping or one
  // starving. Back to 0 once a session has lasted a while.
  int replacements_ = 0;
  TimePoint ready_since_{};
  int sessions_ = 0;
  bool auth_failure_logged_ = false;
  TimePoint next_connect_at_{};
  TimePoint hello_sent_at_{};
  TimePoint last_received_{};
  TimePoint last_heartbeat_sent_{};
  TimePoint last_scan_{};
  int64_t heartbeat_seconds_ = 5;
  int64_t max_message_bytes_ = 9437184;
  // Publishes are paced below the broker's per-endpoint limit (its WELCOME says it; 0: none),
  // which drops what goes over it unread: a token bucket at 80 % of that rate holding half a
  // second's worth, kept across reconnects.
  double publish_rate_ = 0;
  double publish_tokens_ = 0;
  TimePoint tokens_at_{};
  std::deque<std::string> send_queue_;
  // The burst's replies, sent once its writes are durable (EndBurst).
  std::vector<std::pair<core::protocol::Command, std::string>> replies_;
  std::set<std::string> queued_;
  std::map<std::string, TimePoint> in_flight_;  // message id → sent at
  uint64_t next_query_id_ = 1;
  std::map<uint64_t, std::function<void(const nlohmann::json&)>> queries_;
};

}  // namespace stafett::agent
