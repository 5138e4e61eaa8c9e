// HttpApi: the local API on loopback (cpp-httplib) — POST /v1/messages, GET /v1/messages/{id},
// POST /fhir/{ServiceRequest,Consent,Task,Communication}, POST /v1/consents/search {"subject_pnr"},
// GET /v1/consents?subject=PSEUDONYM, POST /v1/admin/purge {"before"}, GET /healthz, GET /readyz,
// GET /metrics — with an optional bearer token. Status codes and bodies: docs/AGENT.md.
// Thread-safety: httplib serves on its own thread pool; handlers only call the thread-safe Sender,
// Connection::Query and Metrics.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "agent_config.h"
#include "connection.h"
#include "consent_sync.h"
#include "metrics.h"
#include "retention.h"
#include "sender.h"
#include "stafett/core/pseudonym.h"
#include "storage.h"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace stafett::agent {

class HttpApi {
 public:
  HttpApi(const AgentConfig& config, Sender& sender, Connection& connection, Storage& storage,
          const core::PseudonymKey& pseudonym_key, Metrics& metrics);
  // For /readyz's consents_synced (optional).
  void set_consent_sync(const ConsentSync* sync) { consent_sync_ = sync; }
  // For POST /v1/admin/purge (stafett-agent purge while the agent runs); without it, 404.
  void set_retention(Retention* retention) { retention_ = retention; }
  ~HttpApi();

  // Binds http_bind ("host:port"); kUnavailable naming the address if it is busy.
  core::Status Start();
  void Stop();

  // The HTTP status for a refusal code (400, 409, 413, 422, 503).
  static int HttpStatusFor(core::Code code);

 private:
  void Route();
  // A pending answer carries STORAGE_FULL while this agent's own disk is short of space.
  void AddOwnStorage(SubmitResult& result);
  // The send path of POST /v1/messages and POST /fhir/*: Submit TEXT, wait up to
  // http_wait_millis for the broker's answer. The HTTP status: 202, or the refusal's.
  int Hand(const std::string& text, SubmitResult& result);
  // POST /fhir/RESOURCE_TYPE: the resource mapped to a Stafett document (core/fhir_mapping.h),
  // handed over as /v1/messages does; refusals as a FHIR OperationOutcome.
  void AnswerFhir(const std::string& resource_type, const std::string& body,
                  const std::string& content_type, httplib::Response& response);
  // Asks the broker for SUBJECT's consents (QUERY consents) and answers 200/502/503.
  void AnswerConsents(const std::string& subject, httplib::Response& response);

  const AgentConfig& config_;
  Sender& sender_;
  Connection& connection_;
  Storage& storage_;
  const ConsentSync* consent_sync_ = nullptr;
  Retention* retention_ = nullptr;
  const core::PseudonymKey& pseudonym_key_;
  Metrics& metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace stafett::agent
