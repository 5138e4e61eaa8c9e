// HttpServer: the broker's loopback HTTP port — GET /metrics (Prometheus text), /healthz and
// /readyz. Thread-safety: runs on its own thread and reads only the thread-safe Metrics.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "metrics.h"
#include "stafett/core/status.h"

namespace httplib {
class Server;
}

namespace stafett::broker {

class HttpServer {
 public:
  explicit HttpServer(const Metrics& metrics);
  ~HttpServer();

  // Binds "host:port" and starts serving; a busy port is an error.
  core::Status Start(const std::string& bind);
  void Stop();

 private:
  const Metrics& metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace stafett::broker
