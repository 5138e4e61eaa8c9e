// CurveRelay: two DEALER sockets, one CURVE server towards the agent and one CURVE client
// towards the broker, forwarding whole multipart messages with poll().
#include "integration/support/curve_relay.h"

#include <condition_variable>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace stafett::testing {

namespace {

// Receives one whole multipart message from SOCKET without blocking; false if none.
bool ReceiveAll(zmq::socket_t& socket, std::vector<std::string>* frames) {
  frames->clear();
  std::vector<zmq::message_t> parts;
  if (!zmq::recv_multipart(socket, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
    return false;
  }
  for (zmq::message_t& part : parts) frames->push_back(part.to_string());
  return true;
}

void SendAll(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

}  // namespace

CurveRelay::CurveRelay(const std::string& broker_zmq, const std::string& broker_public,
                       const std::string& broker_secret, const std::string& agent_public,
                       const std::string& agent_secret) {
  // The thread owns both sockets; the constructor waits until it has bound (or failed).
  std::condition_variable bound;
  bool done = false;
  std::string endpoint;
  thread_ = std::thread([&, broker_zmq, broker_public, broker_secret, agent_public, agent_secret] {
    zmq::context_t context(1);
    zmq::socket_t agent_side(context, zmq::socket_type::dealer);
    zmq::socket_t broker_side(context, zmq::socket_type::dealer);
    try {
      agent_side.set(zmq::sockopt::curve_server, 1);
      agent_side.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(broker_secret.data(), 32));
      agent_side.set(zmq::sockopt::linger, 0);
      agent_side.bind("tcp://127.0.0.1:*");
      broker_side.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(broker_public.data(), 32));
      broker_side.set(zmq::sockopt::curve_publickey, zmq::const_buffer(agent_public.data(), 32));
      broker_side.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(agent_secret.data(), 32));
      broker_side.set(zmq::sockopt::linger, 0);
      broker_side.connect(broker_zmq);
      endpoint = agent_side.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t&) {
      endpoint.clear();
    }
    {
      // Notified under the lock: the constructor, and with it BOUND, may be gone once it is
      // released.
      std::lock_guard<std::mutex> lock(ready_mutex_);
      endpoint_ = endpoint;
      done = true;
      bound.notify_all();
    }
    if (endpoint_.empty()) return;
    std::vector<std::string> frames;
    while (!stop_.load()) {
      zmq::pollitem_t items[] = {{agent_side.handle(), 0, ZMQ_POLLIN, 0},
                                 {broker_side.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 2, std::chrono::milliseconds(50));
      while (ReceiveAll(agent_side, &frames)) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (frames.size() > 1) ++to_broker_[frames[1]];
        }
        SendAll(broker_side, frames);
      }
      while (ReceiveAll(broker_side, &frames)) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (rewrite_ && rewrite_(frames)) ++rewritten_;
          if (frames.size() > 1) ++to_agent_[frames[1]];
        }
        SendAll(agent_side, frames);
      }
    }
  });
  std::unique_lock<std::mutex> lock(ready_mutex_);
  bound.wait(lock, [&] { return done; });
}

CurveRelay::~CurveRelay() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void CurveRelay::SetRewrite(Rewrite rewrite) {
  std::lock_guard<std::mutex> lock(mutex_);
  rewrite_ = std::move(rewrite);
}

uint64_t CurveRelay::ToBroker(const std::string& command) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = to_broker_.find(command);
  return found == to_broker_.end() ? 0 : found->second;
}

uint64_t CurveRelay::ToAgent(const std::string& command) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = to_agent_.find(command);
  return found == to_agent_.end() ? 0 : found->second;
}

}  // namespace stafett::testing
