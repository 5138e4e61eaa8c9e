// Connection: the DEALER session — monitor-driven HELLO, heartbeats, liveness, reconnect with
// backoff and jitter, the publish window and dispatch of the broker's commands.
#include "connection.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <zmq.hpp>

#include "stafett/core/clock.h"

namespace stafett::agent {

using core::Code;
using core::Status;
namespace protocol = core::protocol;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr size_t kMaxInFlightPublishes = 256;
constexpr size_t kMaxFrames = 16;
// Frames read and handled as one burst: one journal commit, one inbox sync (docs/AGENT.md).
constexpr size_t kBurst = 256;
constexpr int kMonitorEvents =
    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
constexpr char kAgentName[] = "stafett-agent/" STAFETT_VERSION;

int64_t Jitter(core::RandomSource& random, int64_t millis) {
  // 50–100 % of the delay, so that many agents do not reconnect in step.
  return millis / 2 + static_cast<int64_t>(random.Below(static_cast<uint64_t>(millis / 2 + 1)));
}

}  // namespace

Connection::Connection(const AgentConfig& config, const Trust& trust, ConnectionHandler& handler,
                       Metrics& metrics, const core::Clock& clock, core::RandomSource& random)
    : config_(config),
      trust_(trust),
      handler_(handler),
      metrics_(metrics),
      clock_(clock),
      random_(random) {}

Connection::~Connection() {
  Stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status Connection::Start() {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status(Code::kIoError, "eventfd failed");
  core::Result<std::string> broker_key = trust_.BrokerTransportKey(clock_.Now());
  if (!broker_key.ok()) return broker_key.status();
  context_ = std::make_unique<zmq::context_t>(1);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Connection::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    // The thread also wakes on its poll timeout.
  }
  thread_.join();
}

void Connection::Publish(const std::string& message_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming_publishes_.push_back(message_id);
  }
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    // Counter saturated: the thread is awake anyway.
  }
}

void Connection::Query(nlohmann::json query, std::function<void(const nlohmann::json&)> done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming_queries_.push_back({std::move(query), std::move(done)});
  }
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
  }
}

void Connection::Run() {
  TimePoint now = clock_.MonotonicNow();
  next_connect_at_ = now;
  while (!stop_.load()) {
    now = clock_.MonotonicNow();
    if (!socket_ && now >= next_connect_at_) OpenSocket(now);
    std::vector<zmq::pollitem_t> items;
    items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
    if (socket_) {
      items.push_back({socket_->handle(), 0, ZMQ_POLLIN, 0});
      items.push_back({monitor_->handle(), 0, ZMQ_POLLIN, 0});
    }
    try {
      zmq::poll(items.data(), items.size(), milliseconds(100));
    } catch (const zmq::error_t& error) {
      if (error.num() != EINTR) spdlog::warn("event=poll_failed error=\"{}\"", error.what());
    }
    now = clock_.MonotonicNow();
    if ((items[0].revents & ZMQ_POLLIN) != 0) {
      uint64_t count = 0;
      if (::read(wake_fd_, &count, sizeof count) < 0) {
      }
    }
    if (socket_) DrainMonitor(now);
    if (socket_) DrainSocket(now);
    TakeWork();
    if (state_.load() == State::kReady) Pump(now);
    RunTimers(now);
  }
  if (socket_) CloseSocket(clock_.MonotonicNow(), "stopping");
  FailQueries();
  context_->shutdown();
}

void Connection::OpenSocket(TimePoint now) {
  core::Micros wall = clock_.Now();
  const OwnKeySet& own = trust_.CurrentOwn(wall);
  core::Result<std::string> broker_key = trust_.BrokerTransportKey(wall);
  if (!broker_key.ok()) {
    spdlog::error("event=no_broker_key error=\"{}\"", broker_key.status().message());
    next_connect_at_ = now + milliseconds(config_.reconnect_max_millis);
    return;
  }
  try {
    socket_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::dealer);
    socket_->set(zmq::sockopt::curve_serverkey, zmq::const_buffer(broker_key->data(), 32));
    socket_->set(zmq::sockopt::curve_publickey,
                 zmq::const_buffer(own.transport.public_key.data(), 32));
    socket_->set(zmq::sockopt::curve_secretkey,
                 zmq::const_buffer(own.transport.secret_key.data(), 32));
    // ZMQ_IMMEDIATE stays 0: with 1, libzmq 4.3 terminates the pipe of a dropped connection at
    // once, and if that lands while this thread is between the frames of a message (the socket
    // processes commands every 100 receives) and the new connection's pipe is already attached,
    // libzmq aborts the process ("Assertion failed: !_more (src/fq.cpp:112)"): a broker restart
    // under load killed the agent (tests/integration/fault_driver_test.cc). With 0 the pipe
    // survives the reconnect; what was sent while disconnected (acknowledgements, heartbeats)
    // goes on the new connection, which the protocol's idempotence makes harmless. The session
    // still starts with HELLO on every HANDSHAKE_SUCCEEDED.
    socket_->set(zmq::sockopt::immediate, 0);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::reconnect_ivl,
                 static_cast<int>(Jitter(random_, config_.reconnect_min_millis * 2)));
    socket_->set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(config_.reconnect_max_millis));
    // A CURVE handshake that stalls (a blackholed network path) is abandoned after 5 s, as a
    // missing WELCOME is, instead of libzmq's default 30 s (tests/integration/
    // network_fault_test.cc: the agent stayed away 30 s after the path came back).
    socket_->set(zmq::sockopt::handshake_ivl, 5000);
    socket_->set(zmq::sockopt::heartbeat_ivl, 5000);
    socket_->set(zmq::sockopt::heartbeat_timeout, 15000);
    socket_->set(zmq::sockopt::sndhwm, 10000);
    socket_->set(zmq::sockopt::rcvhwm, 10000);
    std::string monitor_address = "inproc://agent-monitor-" + std::to_string(++sockets_opened_);
    if (zmq_socket_monitor(socket_->handle(), monitor_address.c_str(), kMonitorEvents) != 0) {
      throw zmq::error_t();
    }
    monitor_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pair);
    monitor_->connect(monitor_address);
    socket_->connect(config_.broker_zmq);
  } catch (const zmq::error_t& error) {
    spdlog::error("event=connect_failed broker={} error=\"{}\"", config_.broker_zmq, error.what());
    monitor_.reset();
    socket_.reset();
    next_connect_at_ = now + milliseconds(config_.reconnect_max_millis);
    return;
  }
  state_ = State::kDisconnected;
  hello_sent_at_ = now;
  spdlog::debug("event=connecting broker={}", config_.broker_zmq);
}

void Connection::CloseSocket(TimePoint now, const char* reason) {
  if (socket_) zmq_socket_monitor(socket_->handle(), nullptr, 0);
  monitor_.reset();
  socket_.reset();
  if (state_.load() == State::kReady) {
    spdlog::info("event=broker_disconnected reason={}", reason);
  }
  state_ = State::kDisconnected;
  metrics_.connected = false;
  in_flight_.clear();
  FailQueries();
  int64_t delay = config_.reconnect_min_millis << std::min(failed_attempts_, 16);
  delay = std::min(delay, config_.reconnect_max_millis);
  ++failed_attempts_;
  next_connect_at_ = now + milliseconds(Jitter(random_, delay));
}

void Connection::DrainMonitor(TimePoint now) {
  for (;;) {
    zmq::message_t event;
    try {
      if (!monitor_->recv(event, zmq::recv_flags::dontwait)) return;
      zmq::message_t address;
      if (event.more()) {
        if (!monitor_->recv(address, zmq::recv_flags::none)) {
        }
      }
    } catch (const zmq::error_t&) {
      return;
    }
    if (event.size() < 6) continue;
    uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof id);
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      auth_failure_logged_ = false;
      nlohmann::json hello = {{"credit", config_.credit}, {"agent", kAgentName}};
      state_ = State::kHello;
      hello_sent_at_ = now;
      last_received_ = now;
      in_flight_.clear();
      Send(protocol::Command::kHello, {hello.dump()});
    } else if (id == ZMQ_EVENT_DISCONNECTED) {
      if (state_.load() == State::kReady)
        spdlog::info("event=broker_disconnected reason=transport");
      state_ = State::kDisconnected;
      metrics_.connected = false;
      in_flight_.clear();
      FailQueries();
    } else if (!auth_failure_logged_) {
      auth_failure_logged_ = true;
      spdlog::warn("event=broker_handshake_failed broker={} event_id={}", config_.broker_zmq, id);
    }
  }
}

bool Connection::ReceiveFrames(std::vector<std::string>* frames) {
  frames->clear();
  try {
    zmq::message_t part;
    if (!socket_->recv(part, zmq::recv_flags::dontwait)) return false;
    frames->push_back(part.to_string());
    while (part.more()) {
      if (!socket_->recv(part, zmq::recv_flags::none)) break;
      if (frames->size() < kMaxFrames) frames->push_back(part.to_string());
    }
  } catch (const zmq::error_t& error) {
    if (error.num() != EAGAIN) spdlog::warn("event=receive_failed error=\"{}\"", error.what());
    return false;
  }
  return true;
}

void Connection::DrainSocket(TimePoint now) {
  // A burst starts with the first message waiting (none waiting: no burst, no journal lock) and
  // takes at most kBurst; at most 1,000 messages per turn of the loop, so timers still run.
  std::vector<std::string> frames;
  for (size_t handled = 0; handled < 1000 && socket_;) {
    if (!ReceiveFrames(&frames)) return;
    handler_.BeginBurst();
    size_t in_burst = 0;
    bool more = true;
    do {
      ++in_burst;
      last_received_ = now;
      core::Result<protocol::Message> decoded = protocol::Decode(frames);
      if (decoded.ok()) {
        HandleMessage(std::move(decoded).value(), now);
      } else {
        spdlog::warn("event=protocol_error error=\"{}\"", decoded.status().message());
      }
    } while (in_burst < kBurst && socket_ && (more = ReceiveFrames(&frames)));
    bool durable = handler_.EndBurst();
    std::vector<std::pair<protocol::Command, std::string>> replies;
    replies.swap(replies_);
    if (durable) {
      for (auto& [command, object] : replies) Send(command, {std::move(object)});
    } else if (!replies.empty()) {
      spdlog::warn("event=burst_not_durable replies_withheld={}", replies.size());
    }
    handled += in_burst;
    if (!more) return;
  }
}

void Connection::HandleMessage(protocol::Message message, TimePoint now) {
  const nlohmann::json& object = message.object;
  switch (message.command) {
    case protocol::Command::kWelcome: {
      heartbeat_seconds_ = std::max<int64_t>(1, object.value("heartbeat_seconds", int64_t{5}));
      max_message_bytes_ = object.value("max_message_bytes", max_message_bytes_);
      {
        double limit = object.value("max_publishes_per_second", 0.0);
        publish_rate_ = limit > 0 ? 0.8 * limit : 0;
        if (tokens_at_ == TimePoint{}) {  // the first session starts with a full bucket
          publish_tokens_ = publish_rate_ / 2;
          tokens_at_ = now;
        }
      }
      if (sessions_++ > 0) ++metrics_.reconnects;
      failed_attempts_ = 0;
      ready_since_ = now;
      state_ = State::kReady;
      metrics_.connected = true;
      last_heartbeat_sent_ = now;
      spdlog::info("event=broker_connected principal={} credit_window={} heartbeat_seconds={}",
                   object.value("principal", ""), object.value("credit_window", int64_t{0}),
                   heartbeat_seconds_);
      // Everything not yet accepted goes again; the broker answers retries as duplicates.
      in_flight_.clear();
      for (const std::string& id : handler_.PendingIds()) Enqueue(id);
      last_scan_ = now;
      handler_.OnSessionReady();
      return;
    }
    case protocol::Command::kAccepted:
      in_flight_.erase(object.value("message_id", ""));
      handler_.OnAccepted(object);
      return;
    case protocol::Command::kRefused:
      if (object.value("message_id", "").empty() &&
          core::CodeFromName(object.value("code", "")) == core::Code::kUnavailable) {
        // Over the broker's publish rate limit: it dropped some of what is in flight unread
        // and cannot say which. Send those again in two seconds rather than after
        // resend_after_seconds (the broker answers the ones it did take as duplicates).
        TimePoint soon = now - seconds(config_.resend_after_seconds) + seconds(2);
        for (auto& [id, sent_at] : in_flight_) sent_at = std::min(sent_at, soon);
      }
      in_flight_.erase(object.value("message_id", ""));
      handler_.OnRefused(object);
      return;
    case protocol::Command::kDeliver: {
      core::Envelope envelope{std::move(message.arguments[1]), std::move(message.arguments[2]),
                              std::move(message.arguments[3])};
      std::optional<ConnectionHandler::Reply> reply =
          handler_.OnDeliver(object, std::move(envelope));
      if (reply) replies_.emplace_back(reply->command, reply->object.dump());
      return;
    }
    case protocol::Command::kReceipt:
      if (handler_.OnReceipt(object)) {
        replies_.emplace_back(protocol::Command::kAck,
                              nlohmann::json({{"delivery", object["delivery"]}}).dump());
      }
      return;
    case protocol::Command::kResult: {
      uint64_t id = object.contains("id") && object["id"].is_number_unsigned()
                        ? object["id"].get<uint64_t>()
                        : 0;
      auto found = queries_.find(id);
      if (found == queries_.end()) return;
      auto done = std::move(found->second);
      queries_.erase(found);
      done(object);
      return;
    }
    case protocol::Command::kHeartbeat:
      return;
    case protocol::Command::kError:
      if (object.value("code", "") == core::CodeName(Code::kSessionReplaced)) {
        return OnSessionReplaced(now);
      }
      spdlog::warn("event=broker_error code={} message=\"{}\"", object.value("code", ""),
                   object.value("message", "").substr(0, 200));
      return;
    default:
      spdlog::warn("event=unexpected_command command={}", protocol::CommandName(message.command));
  }
}

void Connection::OnSessionReplaced(TimePoint now) {
  ++metrics_.sessions_replaced;
  ++replacements_;
  int64_t delay = config_.reconnect_min_millis << std::min(replacements_, 16);
  delay = Jitter(random_, std::min(delay, config_.reconnect_max_millis));
  spdlog::warn(
      "event=session_replaced action=reconnect after_millis={} replacements={} "
      "cause=\"a newer HELLO with this endpoint's key: another agent with the same keys?\"",
      delay, replacements_);
  CloseSocket(now, "session_replaced");
  next_connect_at_ = now + milliseconds(delay);
}

void Connection::TakeWork() {
  std::vector<std::string> publishes;
  std::vector<QueuedQuery> queries;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    publishes.swap(incoming_publishes_);
    queries.swap(incoming_queries_);
  }
  // Without a session nothing is queued in memory: WELCOME enqueues every pending message from
  // the journal (so 10^5 documents waiting for an unreachable broker cost no memory here).
  if (state_.load() == State::kReady) {
    for (const std::string& id : publishes) Enqueue(id);
  }
  for (QueuedQuery& query : queries) {
    if (state_.load() != State::kReady) {
      query.done({{"ok", false},
                  {"code", core::CodeName(core::Code::kUnavailable)},
                  {"message", "the broker is not connected"}});
      continue;
    }
    uint64_t id = next_query_id_++;
    query.query["id"] = id;
    queries_[id] = std::move(query.done);
    Send(protocol::Command::kQuery, {query.query.dump()});
  }
}

void Connection::Enqueue(const std::string& id) {
  if (in_flight_.count(id) != 0 || !queued_.insert(id).second) return;
  send_queue_.push_back(id);
}

void Connection::Pump(TimePoint now) {
  if (publish_rate_ > 0) {
    double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    publish_tokens_ = std::min(std::max(1.0, publish_rate_ / 2),
                               publish_tokens_ + publish_rate_ * std::max(0.0, elapsed));
    tokens_at_ = now;
  }
  while (!send_queue_.empty() && in_flight_.size() < kMaxInFlightPublishes &&
         (publish_rate_ <= 0 || publish_tokens_ >= 1)) {
    std::string id = send_queue_.front();
    std::optional<core::Envelope> envelope = handler_.PendingEnvelope(id);
    if (!envelope) {
      send_queue_.pop_front();
      queued_.erase(id);
      continue;
    }
    size_t size =
        envelope->header_bytes.size() + envelope->signature.size() + envelope->payload.size();
    if (size > static_cast<size_t>(max_message_bytes_)) {
      send_queue_.pop_front();
      queued_.erase(id);
      handler_.OnRefused({{"message_id", id},
                          {"code", core::CodeName(core::Code::kTooLarge)},
                          {"message", "the envelope exceeds the broker's limit"}});
      continue;
    }
    if (!Send(protocol::Command::kPublish,
              {std::move(envelope->header_bytes), std::move(envelope->signature),
               std::move(envelope->payload)})) {
      return;  // the pipe is full or gone; try again on the next turn
    }
    send_queue_.pop_front();
    queued_.erase(id);
    in_flight_[id] = now;
    if (publish_rate_ > 0) publish_tokens_ -= 1;
    ++metrics_.publishes_sent;
  }
}

void Connection::RunTimers(TimePoint now) {
  State state = state_.load();
  seconds liveness(3 * heartbeat_seconds_);
  if (socket_ && state == State::kReady && now - last_received_ > liveness) {
    spdlog::warn("event=broker_silent seconds={}", 3 * heartbeat_seconds_);
    return CloseSocket(now, "silent");
  }
  if (socket_ && state == State::kHello && now - hello_sent_at_ > std::max(liveness, seconds(5))) {
    return CloseSocket(now, "no_welcome");
  }
  if (state != State::kReady) return;
  if (replacements_ > 0 && now - ready_since_ > 2 * milliseconds(config_.reconnect_max_millis)) {
    replacements_ = 0;  // held the session longer than a rival's longest wait
  }
  if (now - last_heartbeat_sent_ >= seconds(heartbeat_seconds_)) {
    Send(protocol::Command::kHeartbeat, {"{}"});
    last_heartbeat_sent_ = now;
  }
  seconds resend_after(config_.resend_after_seconds);
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (now - it->second >= resend_after) {
      std::string id = it->first;
      it = in_flight_.erase(it);
      Enqueue(id);
    } else {
      ++it;
    }
  }
  if (now - last_scan_ >= resend_after) {
    // Retries after STORAGE_FULL / UNAVAILABLE, and anything a lost answer left behind.
    last_scan_ = now;
    for (const std::string& id : handler_.PendingIds()) Enqueue(id);
  }
}

bool Connection::Send(protocol::Command command, std::vector<std::string> arguments) {
  if (!socket_) return false;
  std::vector<std::string> frames = protocol::Encode(command, std::move(arguments));
  try {
    for (size_t i = 0; i < frames.size(); ++i) {
      auto flags = zmq::send_flags::dontwait;
      if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
      if (!socket_->send(zmq::buffer(frames[i]), flags)) return false;
    }
  } catch (const zmq::error_t& error) {
    spdlog::warn("event=send_failed error=\"{}\"", error.what());
    return false;
  }
  return true;
}

void Connection::FailQueries() {
  auto pending = std::move(queries_);
  queries_.clear();
  for (auto& [id, done] : pending) {
    done({{"ok", false},
          {"code", core::CodeName(core::Code::kUnavailable)},
          {"message", "the broker connection closed"}});
  }
}

}  // namespace stafett::agent
