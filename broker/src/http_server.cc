// HttpServer: cpp-httplib serving metrics and health.
#include "http_server.h"

#include <httplib.h>

namespace stafett::broker {

HttpServer::HttpServer(const Metrics& metrics) : metrics_(metrics) {}

HttpServer::~HttpServer() { Stop(); }

core::Status HttpServer::Start(const std::string& bind) {
  size_t colon = bind.rfind(':');
  if (colon == std::string::npos) {
    return core::Status(core::Code::kConfigInvalid, "http_bind must be host:port");
  }
  std::string host = bind.substr(0, colon);
  int port = std::atoi(bind.c_str() + colon + 1);
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    // Short of storage the broker refuses new work (STORAGE_FULL): not ready for it.
    bool full = metrics_.storage_full();
    bool ready = metrics_.ready() && !full;
    response.status = ready ? 200 : 503;
    response.set_content(ready  ? "ready\n"
                         : full ? "not ready: storage full\n"
                                : "not ready\n",
                         "text/plain");
  });
  if (!server_->bind_to_port(host, port)) {
    return core::Status(core::Code::kUnavailable, bind + ": cannot bind the HTTP port (in use?)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return core::Status::Ok();
}

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace stafett::broker
