// The console's routes: login, sessions and CSRF around the operator's and auditor's views.
#include "console/server.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <regex>
#include <thread>

#include "audit_queries.h"
#include "audit_verifier.h"
#include "console/assets.h"
#include "console/auditor_views.h"
#include "console/extract.h"
#include "console/html.h"
#include "console/operator_views.h"
#include "operations_queries.h"

namespace stafett::tools::console {
namespace {

using core::Code;
using core::Status;

constexpr char kHtml[] = "text/html; charset=utf-8";

bool IsMessageId(const std::string& id) {
  static const std::regex kPattern("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  return std::regex_match(id, kPattern);
}

bool IsEndpointId(const std::string& id) {
  static const std::regex kPattern("[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)+");
  return id.size() <= 128 && std::regex_match(id, kPattern);
}

// The fields of an application/x-www-form-urlencoded body (never the URL's query string).
httplib::Params FormFields(const httplib::Request& request) {
  httplib::Params fields;
  httplib::detail::parse_query_text(request.body, fields);
  return fields;
}

std::string Field(const httplib::Params& fields, const std::string& name) {
  auto found = fields.find(name);
  return found == fields.end() ? "" : found->second;
}

void Redirect(httplib::Response& response, const std::string& location) {
  AddSecurityHeaders(response);
  response.status = 303;
  response.set_header("Location", location);
}

struct NavItem {
  const char* path;
  const char* key;
  bool auditor_only;
};

constexpr NavItem kNav[] = {
    {"/endpoints", "nav.endpoints", false}, {"/messages", "nav.message", false},
    {"/queues", "nav.queues", false},       {"/health", "nav.health", false},
    {"/runbooks", "nav.runbooks", false},   {"/trail", "nav.trail", true},
    {"/verify", "nav.verify", true},        {"/extract", "nav.extract", true},
};

}  // namespace

ConsoleServer::ConsoleServer(ClientConfig config, std::string role, const ConsoleOptions& options)
    : config_(std::move(config)),
      role_(std::move(role)),
      options_(options),
      login_token_(RandomToken()),
      sessions_(core::SystemClock::Instance()) {}

ConsoleServer::~ConsoleServer() { Stop(); }

core::Result<std::unique_ptr<ConsoleServer>> ConsoleServer::Create(const ConsoleOptions& options) {
  std::string role;
  core::Result<ClientConfig> config = LoadOperatorOrAuditorConfig(options.config_path, &role);
  if (!config.ok()) return config.status();
  std::unique_ptr<ConsoleServer> server(new ConsoleServer(*config, role, options));
  server->host_ = options.host;
  // Two workers: the machine's broker connection is one at a time anyway.
  server->server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
  server->server_.set_payload_max_length(64 * 1024);
  server->server_.set_keep_alive_max_count(20);
  server->AddRoutes();
  if (options.port == 0) {
    server->port_ = server->server_.bind_to_any_port(options.host);
  } else if (server->server_.bind_to_port(options.host, options.port)) {
    server->port_ = options.port;
  }
  if (server->port_ <= 0) {
    return Status(Code::kUnavailable, "cannot listen on " + options.host + ":" +
                                          std::to_string(options.port) + " (busy or not local?)");
  }
  return server;
}

std::string ConsoleServer::LoginUrl() const {
  std::string host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return "http://" + host + ":" + std::to_string(port_) + "/login?token=" + login_token_.value();
}

void ConsoleServer::Run() { server_.listen_after_bind(); }

void ConsoleServer::Stop() {
  if (server_.is_running()) server_.stop();
}

core::Status ConsoleServer::WithClient(const std::function<core::Status(BrokerClient&)>& fn) {
  std::lock_guard<std::mutex> lock(client_mutex_);
  if (client_ == nullptr) {
    core::Result<std::unique_ptr<BrokerClient>> client = BrokerClient::Connect(config_);
    if (!client.ok()) return client.status();
    client_ = std::move(client).value();
  }
  Status status = fn(*client_);
  // A broker that did not answer may have dropped us: a fresh connection next time.
  if (status.code() == Code::kUnavailable) client_.reset();
  return status;
}

core::Result<nlohmann::json> ConsoleServer::Query(nlohmann::json query) {
  nlohmann::json answer;
  Status status = WithClient(
      [&](BrokerClient& client) { return core::Assign(client.Query(std::move(query)), &answer); });
  if (!status.ok()) return status;
  return answer;
}

std::string ConsoleServer::FetchMetrics() const {
  if (config_.broker_http.empty()) return "";
  httplib::Client client("http://" + config_.broker_http);
  client.set_connection_timeout(2);
  client.set_read_timeout(3);
  httplib::Result result = client.Get("/metrics");
  if (!result || result->status != 200) return "";
  return result->body;
}

std::optional<Session> ConsoleServer::RequireSession(const httplib::Request& request,
                                                     httplib::Response& response) {
  std::optional<std::string> cookie =
      CookieValue(request.get_header_value("Cookie"), SessionCookieName(port_));
  std::optional<Session> session = cookie ? sessions_.Find(*cookie) : std::nullopt;
  if (session) return session;
  if (request.method == "GET" && request.path.size() > 5 &&
      request.path.compare(request.path.size() - 5, 5, ".json") == 0) {
    AddSecurityHeaders(response);
    response.status = 401;
    response.set_content("{\"error\":\"no session\"}", "application/json");
  } else if (request.method == "GET") {
    Redirect(response, "/welcome");
  } else {
    SendPlainPage(response, "sv", "login.title", "login.text", 403);
  }
  return std::nullopt;
}

std::optional<Session> ConsoleServer::RequireSessionAndCsrf(const httplib::Request& request,
                                                            httplib::Response& response,
                                                            httplib::Params* form) {
  std::optional<Session> session = RequireSession(request, response);
  if (!session) return std::nullopt;
  *form = FormFields(request);
  if (!CsrfMatches(*session, Field(*form, "csrf"))) {
    SendPlainPage(response, session->language, "csrf.title", "csrf.text", 403);
    return std::nullopt;
  }
  return session;
}

std::string ConsoleServer::Nav(const Session& session, const std::string& path) const {
  const std::string& language = session.language;
  std::string html = "<nav aria-label=\"" + Escape(Text(language, "nav.label")) + "\"><ul>";
  for (const NavItem& item : kNav) {
    if (item.auditor_only && role_ != "auditor") continue;
    bool current = path.rfind(item.path, 0) == 0;
    html += std::string("<li><a href=\"") + item.path + "\"" +
            (current ? " aria-current=\"page\"" : "") + ">" + Escape(Text(language, item.key)) +
            "</a></li>";
  }
  std::string csrf = "<input type=\"hidden\" name=\"csrf\" value=\"" + Escape(session.csrf) + "\">";
  html += "<li><form method=\"post\" action=\"/language\">" + csrf +
          "<input type=\"hidden\" name=\"lang\" value=\"" + (language == "en" ? "sv" : "en") +
          "\"><input type=\"hidden\" name=\"return\" value=\"" + Escape(path) +
          "\"><button type=\"submit\" lang=\"" + (language == "en" ? "sv" : "en") + "\">" +
          Escape(Text(language, "lang.switch")) + "</button></form></li>";
  html += "<li><form method=\"post\" action=\"/logout\">" + csrf + "<button type=\"submit\">" +
          Escape(Text(language, "logout")) + "</button></form></li>";
  return html + "</ul></nav>";
}

void ConsoleServer::SendPage(httplib::Response& response, const Session& session,
                             const std::string& path, const std::string& title_key,
                             const std::string& main, int status) {
  Page page;
  page.language = session.language;
  page.title = Text(session.language, title_key);
  page.role = Text(session.language, "role." + role_) + " · " + config_.id;
  page.nav = Nav(session, path);
  page.main = main;
  AddSecurityHeaders(response);
  response.status = status;
  response.set_content(RenderPage(page), kHtml);
}

void ConsoleServer::SendPlainPage(httplib::Response& response, const std::string& language,
                                  const std::string& title_key, const std::string& text_key,
                                  int status) {
  Page page;
  page.language = language;
  page.title = Text(language, title_key);
  page.main = "<p>" + Escape(Text(language, text_key)) + "</p>";
  AddSecurityHeaders(response);
  response.status = status;
  response.set_content(RenderPage(page), kHtml);
}

void ConsoleServer::AddRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  server_.set_error_handler([this](const Request&, Response& response) {
    if (response.status == 404 || response.status >= 400) {
      if (response.body.empty())
        SendPlainPage(response, "sv", "notfound.title", "", response.status);
    }
  });

  server_.Get("/login", [this](const Request& request, Response& response) {
    if (!login_token_.Redeem(request.get_param_value("token"))) {
      return SendPlainPage(response, "sv", "login.refused.title", "login.refused.text", 403);
    }
    Session session = sessions_.Create();
    Redirect(response, "/");
    response.set_header("Set-Cookie", SessionCookieHeader(SessionCookieName(port_), session.id));
  });
  server_.Get("/welcome", [this](const Request&, Response& response) {
    SendPlainPage(response, "sv", "login.title", "login.text", 200);
  });
  server_.Get(R"(/assets/(console\.css|console\.js))",
              [](const Request& request, Response& response) {
                std::string name = request.matches[1];
                AddSecurityHeaders(response);
                response.set_content(std::string(FindAsset(name).value_or("")),
                                     name.size() > 4 && name.substr(name.size() - 4) == ".css"
                                         ? "text/css; charset=utf-8"
                                         : "text/javascript; charset=utf-8");
              });
  server_.Get("/", [this](const Request& request, Response& response) {
    if (RequireSession(request, response)) Redirect(response, "/endpoints");
  });
  server_.Post("/language", [this](const Request& request, Response& response) {
    httplib::Params form;
    std::optional<Session> session = RequireSessionAndCsrf(request, response, &form);
    if (!session) return;
    sessions_.SetLanguage(session->id, NormaliseLanguage(Field(form, "lang")));
    std::string back = Field(form, "return");
    bool local = back.size() > 1 && back[0] == '/' && back[1] != '/' && back[1] != '\\' &&
                 back.find_first_of("\r\n?") == std::string::npos;
    Redirect(response, local ? back : "/");
  });
  server_.Post("/logout", [this](const Request& request, Response& response) {
    httplib::Params form;
    std::optional<Session> session = RequireSessionAndCsrf(request, response, &form);
    if (!session) return;
    sessions_.End(session->id);
    response.set_header("Set-Cookie",
                        SessionCookieHeader(SessionCookieName(port_), "") + "; Max-Age=0");
    SendPlainPage(response, session->language, "signedout.title", "signedout.text", 200);
  });

  // --- The operator's views (an auditor sees them too) ---------------------------------------
  server_.Get("/endpoints", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    core::Result<nlohmann::json> status = Query({{"op", "status"}});
    std::string main =
        status.ok() ? RenderEndpoints(*status, session->language, options_.warn_after)
                    : "<p class=\"error\">" + Escape(Text(session->language, "error.broker")) +
                          ": " + Escape(status.status().ToString()) + "</p>";
    SendPage(response, *session, "/endpoints", "endpoints.title", main, status.ok() ? 200 : 502);
  });
  server_.Get("/endpoints.json", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    core::Result<nlohmann::json> status = Query({{"op", "status"}});
    AddSecurityHeaders(response);
    if (!status.ok()) {
      response.status = 502;
      response.set_content(nlohmann::json({{"error", status.status().ToString()}}).dump(),
                           "application/json");
      return;
    }
    response.set_content(EndpointRows(*status, session->language, options_.warn_after).dump(),
                         "application/json");
  });
  server_.Get("/messages", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    std::string id = request.get_param_value("id");
    if (id.empty()) {
      return SendPage(response, *session, "/messages", "message.title",
                      RenderMessageForm(session->language, "", ""));
    }
    if (!IsMessageId(id)) {
      return SendPage(response, *session, "/messages", "message.title",
                      RenderMessageForm(session->language, "", "message.bad_id"), 400);
    }
    Redirect(response, "/messages/" + id);
  });
  server_.Get(R"(/messages/([A-Za-z0-9][A-Za-z0-9._-]{0,63}))",
              [this](const Request& request, Response& response) {
                std::optional<Session> session = RequireSession(request, response);
                if (!session) return;
                std::string id = request.matches[1];
                core::Result<nlohmann::json> track = Query({{"op", "track"}, {"message_id", id}});
                std::string main = RenderMessageForm(session->language, id,
                                                     track.ok() ? ""
                                                     : track.status().code() == Code::kNotFound
                                                         ? "message.not_found"
                                                         : "error.broker");
                if (track.ok()) main += RenderMessage(*track, session->language);
                SendPage(response, *session, "/messages", "message.title", main,
                         track.ok()                                 ? 200
                         : track.status().code() == Code::kNotFound ? 404
                                                                    : 502);
              });
  server_.Get("/queues", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    core::Result<nlohmann::json> queues = Query({{"op", "queues"}});
    std::string main = queues.ok() ? RenderQueues(*queues, session->language)
                                   : "<p class=\"error\">" +
                                         Escape(Text(session->language, "error.broker")) + ": " +
                                         Escape(queues.status().ToString()) + "</p>";
    SendPage(response, *session, "/queues", "queues.title", main, queues.ok() ? 200 : 502);
  });
  server_.Get("/health", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    core::Result<nlohmann::json> status = Query({{"op", "status"}});
    keys::TrustDirectory directory;
    Status read = WithClient([&](BrokerClient& client) {
      directory = client.directory();
      return Status::Ok();
    });
    std::string main;
    if (!status.ok() || !read.ok()) {
      main = "<p class=\"error\">" + Escape(Text(session->language, "error.broker")) + ": " +
             Escape((status.ok() ? read : status.status()).ToString()) + "</p>";
    } else {
      main = RenderHealth(*status, FetchMetrics(), directory, session->language);
    }
    SendPage(response, *session, "/health", "health.title", main, status.ok() ? 200 : 502);
  });
  server_.Get("/runbooks", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    SendPage(response, *session, "/runbooks", "runbooks.title", RenderRunbooks(session->language));
  });

  if (role_ != "auditor") return;
  // --- The auditor's views --------------------------------------------------------------------
  server_.Get("/trail", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    SendPage(response, *session, "/trail", "trail.title",
             RenderTrailForm(session->language, session->csrf, ""));
  });
  server_.Post("/trail", [this](const Request& request, Response& response) {
    httplib::Params form;
    std::optional<Session> session = RequireSessionAndCsrf(request, response, &form);
    if (!session) return;
    const std::string& language = session->language;
    TrailFilter filter{"", Field(form, "endpoint"), Field(form, "from"), Field(form, "to")};
    std::string pnr = Field(form, "pnr");
    std::string error;
    if (!pnr.empty()) {
      core::Result<std::string> pseudonym = PseudonymOf(config_, pnr);
      if (!pseudonym.ok()) {
        error = pseudonym.status().message();  // free of the digits (ParsePersonnummer's promise)
      } else {
        filter.subject = *pseudonym;
        filter.endpoint.clear();
      }
    } else if (!IsEndpointId(filter.endpoint)) {
      error = "trail.need";
    }
    std::string main;
    int code = 200;
    if (error.empty()) {
      CheckedTrail trail;
      Status done = WithClient([&](BrokerClient& client) {
        return core::Assign(QueryCheckedTrail(client, filter), &trail);
      });
      if (done.ok()) {
        main = RenderTrailForm(language, session->csrf, "") +
               RenderTrail(trail, filter.subject, language);
      } else {
        bool failed_check = done.code() == Code::kCorruption || done.code() == Code::kBadSignature;
        main = RenderTrailForm(language, session->csrf,
                               failed_check ? Text(language, "trail.failed") + ": " + done.message()
                                            : done.ToString());
        code = failed_check ? 409 : 502;
      }
    } else {
      main = RenderTrailForm(language, session->csrf, error);
      code = 400;
    }
    SendPage(response, *session, "/trail", "trail.title", main, code);
  });
  server_.Get("/verify", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    SendPage(response, *session, "/verify", "verify.title",
             RenderVerifyForm(session->language, session->csrf));
  });
  server_.Post("/verify", [this](const Request& request, Response& response) {
    httplib::Params form;
    std::optional<Session> session = RequireSessionAndCsrf(request, response, &form);
    if (!session) return;
    core::Result<VerifyReport> report =
        Status(Code::kConfigInvalid, "auditor.state_dir is not set");
    if (!config_.state_dir.empty()) {
      Status done = WithClient([&](BrokerClient& client) {
        report = VerifyLog(client, config_.state_dir);
        return Status::Ok();
      });
      if (!done.ok()) report = done;
    }
    SendPage(response, *session, "/verify", "verify.title",
             RenderVerifyForm(session->language, session->csrf) +
                 RenderVerifyResult(report, session->language),
             report.ok() ? 200 : 409);
  });
  server_.Get("/extract", [this](const Request& request, Response& response) {
    std::optional<Session> session = RequireSession(request, response);
    if (!session) return;
    SendPage(response, *session, "/extract", "extract.title",
             RenderExtractForm(session->language, session->csrf, ""));
  });
  server_.Post("/extract", [this](const Request& request, Response& response) {
    httplib::Params form;
    std::optional<Session> session = RequireSessionAndCsrf(request, response, &form);
    if (!session) return;
    std::string language = NormaliseLanguage(Field(form, "lang"));
    std::string format = Field(form, "format");
    nlohmann::json extract;
    Status built = WithClient([&](BrokerClient& client) {
      return core::Assign(BuildExtract(client, config_, Field(form, "pnr")), &extract);
    });
    if (!built.ok()) {
      return SendPage(response, *session, "/extract", "extract.title",
                      RenderExtractForm(session->language, session->csrf, built.message()),
                      built.code() == Code::kSchemaInvalid ? 400 : 502);
    }
    AddSecurityHeaders(response);
    if (format == "json") {
      response.set_header("Content-Disposition", "attachment; filename=\"registerutdrag.json\"");
      response.set_content(extract.dump(2) + "\n", "application/json");
    } else if (format == "pdf") {
      core::Result<std::string> pdf = RenderPdf(RenderExtractDocument(extract, language));
      if (!pdf.ok()) {
        return SendPage(response, *session, "/extract", "extract.title",
                        RenderExtractForm(session->language, session->csrf, pdf.status().message()),
                        503);
      }
      response.set_header("Content-Disposition", "attachment; filename=\"registerutdrag.pdf\"");
      response.set_content(*pdf, "application/pdf");
    } else {
      // In the console's own frame (the style sheet linked, not inlined: no inline style).
      Page page;
      page.language = language;
      page.title = Text(language, "extract.heading");
      page.main = RenderExtractArticle(extract, language);
      response.set_content(RenderPage(page), kHtml);
    }
  });
}

int RunConsole(const ConsoleOptions& options) {
  // SIGINT/SIGTERM go to a waiting thread that stops the server; the server's threads (started
  // after this) inherit the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  core::Result<std::unique_ptr<ConsoleServer>> server = ConsoleServer::Create(options);
  if (!server.ok()) {
    std::fprintf(stderr, "stafett: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "console listening on %s\n", (*server)->LoginUrl().c_str());
  std::fflush(stderr);
  ConsoleServer* running = server->get();
  std::thread waiter([&signals, running] {
    int signal = 0;
    sigwait(&signals, &signal);
    running->Stop();
  });
  running->Run();
  // Stopped by a signal (the waiter has returned) or by the server itself: wake the waiter.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

}  // namespace stafett::tools::console
