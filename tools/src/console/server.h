// ConsoleServer: `stafett console` — a local web application over cpp-httplib that answers
// from the broker with the principal's own key (an operator's or an auditor's); it keeps no
// data of its own. Routes, sessions and what each role sees: docs/CONSOLE.md.
// Thread-safety: Run on one thread; Stop from any. Requests run on the server's two worker
// threads; the one broker connection is used under a mutex, one request at a time.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "broker_client.h"
#include "console/security.h"

namespace stafett::tools::console {

struct ConsoleOptions {
  std::string config_path;
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  double warn_after = 300;
};

class ConsoleServer {
 public:
  // Loads the config ([operator] or [auditor]); binds HOST:PORT.
  static core::Result<std::unique_ptr<ConsoleServer>> Create(const ConsoleOptions& options);
  ~ConsoleServer();

  // http://HOST:PORT/login?token=TOKEN
  std::string LoginUrl() const;
  int port() const { return port_; }
  const std::string& role() const { return role_; }
  // Serves until Stop.
  void Run();
  void Stop();

 private:
  ConsoleServer(ClientConfig config, std::string role, const ConsoleOptions& options);
  void AddRoutes();
  // The session of REQUEST, or nullopt having answered RESPONSE (a redirect or a refusal).
  std::optional<Session> RequireSession(const httplib::Request& request,
                                        httplib::Response& response);
  // For POSTs: the session and a matching CSRF field, or nullopt having answered.
  std::optional<Session> RequireSessionAndCsrf(const httplib::Request& request,
                                               httplib::Response& response, httplib::Params* form);
  void SendPage(httplib::Response& response, const Session& session, const std::string& path,
                const std::string& title_key, const std::string& main, int status = 200);
  void SendPlainPage(httplib::Response& response, const std::string& language,
                     const std::string& title_key, const std::string& text_key, int status);
  std::string Nav(const Session& session, const std::string& path) const;
  // Runs FN with the broker connection (connecting first if needed), one caller at a time.
  core::Status WithClient(const std::function<core::Status(BrokerClient&)>& fn);
  core::Result<nlohmann::json> Query(nlohmann::json query);
  std::string FetchMetrics() const;

  const ClientConfig config_;
  const std::string role_;  // "operator" or "auditor"
  const ConsoleOptions options_;
  std::string host_;
  int port_ = 0;
  httplib::Server server_;
  LoginToken login_token_;
  SessionStore sessions_;
  std::mutex client_mutex_;
  std::unique_ptr<BrokerClient> client_;
};

// `stafett console`: prints the login line on stderr and serves until SIGINT/SIGTERM.
int RunConsole(const ConsoleOptions& options);

}  // namespace stafett::tools::console
