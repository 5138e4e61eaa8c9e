// FaultProxy: a loopback TCP proxy put between an agent and the broker to inject network
// faults — cut every connection (RST) mid-delivery, blackhole them (bytes stop, sockets stay
// open: only heartbeats can tell), or throttle the broker-to-agent direction (a slow consumer).
// Standard library and POSIX only. Thread-safety: its own thread forwards; the control
// functions may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace stafett::testing {

class FaultProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:TARGET_PORT.
  explicit FaultProxy(int target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  int port() const { return port_; }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  // Resets (RST) every connection open now; later ones are forwarded.
  void CutAll();
  // Every connection open now stops forwarding and is held open, silently, until the proxy is
  // destroyed; while BLACKHOLE_NEW is set, new connections are held the same way.
  void Blackhole(bool blackhole_new);
  // New connections are forwarded again (held ones stay held).
  void Restore();
  // At most BYTES_PER_SECOND from the broker to the agent (0: unlimited).
  void Throttle(uint64_t bytes_per_second) { throttle_ = bytes_per_second; }

  uint64_t connections() const { return connections_; }        // accepted so far
  uint64_t bytes_to_agent() const { return bytes_to_agent_; }  // forwarded so far

 private:
  void Run();

  int listen_fd_ = -1;
  int port_ = 0;
  int target_port_ = 0;
  std::mutex mutex_;  // guards the requests below
  bool cut_requested_ = false;
  bool blackhole_requested_ = false;
  bool blackhole_new_ = false;
  std::atomic<uint64_t> throttle_{0};
  std::atomic<uint64_t> connections_{0}, bytes_to_agent_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace stafett::testing
