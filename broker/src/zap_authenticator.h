// ZapAuthenticator: the ZeroMQ Authentication Protocol (RFC 27) handler. Admits a CURVE client
// only if its transport key is in the trust directory and valid now, and names it by its
// principal id through ZAP's User-Id, which the broker reads from every message it receives.
// It also watches the router's handshakes (a socket monitor): a peer refused before ZAP is
// asked — a plain-text (NULL) client, or one that encrypts to another server key — is counted
// and logged as an auth failure too.
// Thread-safety: runs on its own thread, which owns the inproc REP socket; Start/Stop from the
// owning thread only. Counters are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::broker {

class ZapAuthenticator {
 public:
  // Looks a raw 32-byte CURVE public key up; returns the principal id, or empty to deny.
  using KeyLookup = std::function<std::string(std::string_view raw_key, core::Micros now)>;

  ZapAuthenticator(zmq::context_t& context, KeyLookup lookup, const core::Clock& clock);
  ~ZapAuthenticator();

  // Binds inproc://zeromq.zap.01 and starts the thread. Must run before any CURVE socket binds.
  // With ROUTER, also watches its failed handshakes (call before ROUTER binds).
  core::Status Start(zmq::socket_t* router = nullptr);
  void Stop();

  uint64_t denied() const { return denied_.load(); }
  uint64_t admitted() const { return admitted_.load(); }

 private:
  void Serve();
  std::vector<zmq::message_t> Answer(const std::vector<zmq::message_t>& request);
  // One socket monitor event (two frames: event and value, address).
  void CountHandshakeFailure();

  zmq::context_t& context_;
  KeyLookup lookup_;
  const core::Clock& clock_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<zmq::socket_t> monitor_;  // PAIR, connected to the router's monitor
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> denied_{0};
  std::atomic<uint64_t> admitted_{0};
};

}  // namespace stafett::broker
