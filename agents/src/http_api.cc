// HttpApi: routes of the local API over the shared send pipeline.
#include "http_api.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <future>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/fhir_mapping.h"
#include "stafett/core/ids.h"
#include "stafett/core/personnummer.h"
#include "stafett/core/pseudonym.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {

constexpr char kJson[] = "application/json";
constexpr char kFhirJson[] = "application/fhir+json";

void SendJson(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump() + "\n", kJson);
}

nlohmann::json ErrorObject(const Status& status, const std::string& message_id = "",
                           const std::vector<std::string>& pointers = {}) {
  nlohmann::json error = {{"code", std::string(core::CodeName(status.code()))},
                          {"message", status.message()}};
  if (!message_id.empty()) error["message_id"] = message_id;
  if (!pointers.empty()) error["pointers"] = pointers;
  return error;
}

nlohmann::json StatusObject(const SubmitResult& result) {
  nlohmann::json body = {{"message_id", result.message_id}, {"status", result.status}};
  if (!result.refusal.ok()) {
    body["code"] = std::string(core::CodeName(result.refusal.code()));
    if (!result.refusal.message().empty()) body["message"] = result.refusal.message();
  }
  return body;
}

}  // namespace

HttpApi::HttpApi(const AgentConfig& config, Sender& sender, Connection& connection,
                 Storage& storage, const core::PseudonymKey& pseudonym_key, Metrics& metrics)
    : config_(config),
      sender_(sender),
      connection_(connection),
      storage_(storage),
      pseudonym_key_(pseudonym_key),
      metrics_(metrics),
      server_(std::make_unique<httplib::Server>()) {}

HttpApi::~HttpApi() { Stop(); }

int HttpApi::HttpStatusFor(Code code) {
  switch (code) {
    case Code::kSchemaInvalid:
      return 400;
    case Code::kTooLarge:
      return 413;
    case Code::kDuplicate:
      return 409;
    case Code::kUnavailable:
    case Code::kStorageFull:
    case Code::kIoError:
      return 503;
    default:
      return 422;
  }
}

Status HttpApi::Start() {
  std::string bind = config_.http_bind;
  size_t colon = bind.rfind(':');
  int port = colon == std::string::npos ? -1 : std::atoi(bind.c_str() + colon + 1);
  if (port <= 0 || port > 65535) {
    return Status(Code::kConfigInvalid, "agent.http_bind must be host:port, not " + bind);
  }
  std::string host = bind.substr(0, colon);
  Route();
  // Bodies above the limit are cut off by httplib before they are buffered.
  server_->set_payload_max_length(static_cast<size_t>(config_.max_document_bytes));
  server_->set_read_timeout(30, 0);
  if (!server_->bind_to_port(host, port)) {
    return Status(Code::kUnavailable, "cannot listen on " + bind + " (busy or not allowed)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  spdlog::info("event=http_listening bind={}", bind);
  return Status::Ok();
}

void HttpApi::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void HttpApi::AddOwnStorage(SubmitResult& result) {
  if (result.status != "pending" || !result.refusal.ok()) return;
  // Kept in the journal and retried, but this agent's own disk is short of space: it may not
  // be able to record the broker's answer until there is room again.
  Status storage = storage_.Check();
  if (!storage.ok()) {
    result.refusal =
        Status(Code::kStorageFull, storage.message() + "; the message is kept and retried");
  }
}

void HttpApi::AnswerConsents(const std::string& subject, httplib::Response& response) {
  auto answer = std::make_shared<std::promise<nlohmann::json>>();
  std::future<nlohmann::json> future = answer->get_future();
  connection_.Query({{"op", "consents"}, {"subject", subject}},
                    [answer](const nlohmann::json& result) { answer->set_value(result); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return SendJson(response, 503,
                    ErrorObject(Status(Code::kUnavailable, "the broker did not answer")));
  }
  nlohmann::json result = future.get();
  if (!result.value("ok", false)) {
    Status failed(core::CodeFromName(result.value("code", "")).value_or(Code::kUnavailable),
                  result.value("message", ""));
    return SendJson(response, failed.code() == Code::kUnavailable ? 503 : 502, ErrorObject(failed));
  }
  SendJson(response, 200, {{"consents", result.value("consents", nlohmann::json::array())}});
}

int HttpApi::Hand(const std::string& text, SubmitResult& result) {
  result = sender_.Submit(text, "");
  if (!result.refusal.ok() && result.status == "refused") {
    return HttpStatusFor(result.refusal.code());
  }
  // Wait a little for the broker's answer so the caller learns a refusal at once; if the
  // broker is slow or down the message stays pending and is retried.
  if (result.status == "pending" && config_.http_wait_millis > 0 && connection_.ready()) {
    result = sender_.WaitForOutcome(result.message_id, config_.http_wait_millis);
  }
  if (result.status == "refused") return HttpStatusFor(result.refusal.code());
  if (result.status == "pending" && result.refusal.ok() && sender_.broker_storage_full()) {
    // Not answered yet, but the broker's last answer was STORAGE_FULL: say so now.
    result.refusal = Status(Code::kStorageFull,
                            "the broker is short of storage; the message is kept and retried");
  }
  AddOwnStorage(result);
  return 202;
}

void HttpApi::AnswerFhir(const std::string& resource_type, const std::string& body,
                         const std::string& content_type, httplib::Response& response) {
  auto refuse = [&](int status, const Status& why, const std::vector<std::string>& pointers) {
    response.status = status;
    response.set_content(core::FhirOperationOutcome(why, pointers, resource_type).dump() + "\n",
                         kFhirJson);
  };
  std::string media = content_type.substr(0, content_type.find(';'));
  if (!media.empty() && media != kFhirJson && media != kJson) {
    return refuse(415, Status(Code::kSchemaInvalid, "the body must be application/fhir+json"), {});
  }
  nlohmann::json resource = nlohmann::json::parse(body, nullptr, false);
  if (!resource.is_object()) {
    return refuse(400, Status(Code::kSchemaInvalid, "the body is not a JSON object"), {""});
  }
  if (resource.value("resourceType", "") != resource_type) {
    return refuse(400,
                  Status(Code::kSchemaInvalid, "/resourceType: must be " + resource_type +
                                                   " on POST /fhir/" + resource_type),
                  {"/resourceType"});
  }
  std::vector<std::string> pointers;
  core::Result<core::FhirMappedDocument> mapped = core::DocumentFromFhir(resource, &pointers);
  if (!mapped.ok()) return refuse(400, mapped.status(), pointers);
  nlohmann::json& document = mapped->document;
  if (document.value("type", "") == "delivery_receipt") {
    return refuse(400,
                  Status(Code::kSchemaInvalid,
                         "/code: a delivery receipt is the broker's to send, not a document"),
                  {"/code"});
  }
  if (!mapped->from.empty() && mapped->from != config_.id) {
    const char* element = resource_type == "Consent"         ? "/organization/0"
                          : resource_type == "Communication" ? "/sender"
                                                             : "/requester";
    return refuse(400,
                  Status(Code::kSchemaInvalid, std::string(element) + ": must be this endpoint, " +
                                                   config_.id + ", or absent"),
                  {element});
  }
  // A Consent names its parties; the event goes to every other one (RULES.md) unless the
  // recipient extension says otherwise.
  if (resource_type == "Consent" && document["to"].empty()) {
    for (const std::string& party : mapped->parties) {
      if (party != config_.id) document["to"].push_back(party);
    }
  }
  SubmitResult result;
  int status = Hand(document.dump(), result);
  if (status != 202) {
    // The pointers name the Stafett document's fields; the message says which.
    return refuse(status, result.refusal, {});
  }
  SendJson(response, 202, StatusObject(result));
}

void HttpApi::Route() {
  server_->set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        // Probes carry no token: /healthz and /readyz say nothing about any child or message.
        if (config_.http_token.empty() || request.path == "/healthz" || request.path == "/readyz") {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        std::string expected = "Bearer " + config_.http_token;
        std::string given = request.get_header_value("Authorization");
        if (!core::ConstantTimeEquals(given, expected)) {
          SendJson(response, 401,
                   {{"code", core::CodeName(core::Code::kForbidden)},
                    {"message", "a valid bearer token is required"}});
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  server_->set_error_handler([this](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    if (response.status == 413) {
      SendJson(response, 413,
               ErrorObject(Status(Code::kTooLarge, "the document exceeds " +
                                                       std::to_string(config_.max_document_bytes) +
                                                       " bytes")));
    } else if (response.status == 404) {
      SendJson(response, 404, ErrorObject(Status(Code::kNotFound, "no such resource")));
    }
  });

  server_->Post(
      "/v1/messages", [this](const httplib::Request& request, httplib::Response& response) {
        SubmitResult result;
        int status = Hand(request.body, result);
        if (status != 202) {
          return SendJson(response, status,
                          ErrorObject(result.refusal, result.message_id, result.pointers));
        }
        SendJson(response, 202, StatusObject(result));
      });

  // A FHIR resource from a health system, mapped to the Stafett document it stands for
  // (core/fhir_mapping.h) and handed to the same send path; refusals as OperationOutcomes.
  server_->Post(R"(/fhir/(ServiceRequest|Consent|Task|Communication))",
                [this](const httplib::Request& request, httplib::Response& response) {
                  AnswerFhir(request.matches[1], request.body,
                             request.get_header_value("Content-Type"), response);
                });

  server_->Get(R"(/v1/messages/([^/]+))", [this](const httplib::Request& request,
                                                 httplib::Response& response) {
    std::string id = request.matches[1];
    if (!core::IsValidMessageId(id)) {
      return SendJson(response, 400, ErrorObject(Status(Code::kSchemaInvalid, "bad message id")));
    }
    std::optional<SubmitResult> result = sender_.Status(id);
    if (!result) {
      return SendJson(response, 404, ErrorObject(Status(Code::kNotFound, "unknown message id")));
    }
    AddOwnStorage(*result);
    SendJson(response, 200, StatusObject(*result));
  });

  // The personnummer never travels in a URL (proxies and access logs keep those): it comes in
  // a POST body; a GET takes only a pseudonym.
  server_->Post("/v1/consents/search", [this](const httplib::Request& request,
                                              httplib::Response& response) {
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("subject_pnr") || !body["subject_pnr"].is_string()) {
      return SendJson(response, 400,
                      ErrorObject(Status(Code::kSchemaInvalid,
                                         "a JSON body {\"subject_pnr\": \"…\"} is "
                                         "required"),
                                  "", {"/subject_pnr"}));
    }
    core::Result<core::Personnummer> number = core::ParsePersonnummer(
        body["subject_pnr"].get<std::string>(), core::SystemClock::Instance().Now());
    if (!number.ok()) {
      return SendJson(response, 400, ErrorObject(number.status(), "", {"/subject_pnr"}));
    }
    AnswerConsents(core::Pseudonymise(pseudonym_key_, *number), response);
  });

  server_->Get(
      "/v1/consents", [this](const httplib::Request& request, httplib::Response& response) {
        if (request.has_param("subject-pnr")) {
          return SendJson(response, 400,
                          ErrorObject(Status(Code::kSchemaInvalid,
                                             "a personnummer must not travel in a URL: use POST "
                                             "/v1/consents/search with {\"subject_pnr\": \"…\"}")));
        }
        std::string subject = request.get_param_value("subject");
        if (!core::IsValidPseudonym(subject)) {
          return SendJson(
              response, 400,
              ErrorObject(Status(Code::kSchemaInvalid,
                                 "subject=PSEUDONYM (64 hex characters) is required, or POST "
                                 "/v1/consents/search with {\"subject_pnr\": \"…\"}")));
        }
        AnswerConsents(subject, response);
      });

  // An erasure request while the agent runs (stafett-agent purge; the journal is the running
  // agent's): only with a bearer token configured, as it removes records.
  server_->Post("/v1/admin/purge", [this](const httplib::Request& request,
                                          httplib::Response& response) {
    if (retention_ == nullptr) {
      return SendJson(response, 404, ErrorObject(Status(Code::kNotFound, "no such resource")));
    }
    if (config_.http_token.empty()) {
      return SendJson(response, 403,
                      ErrorObject(Status(Code::kForbidden,
                                         "purge needs the API's bearer token: set "
                                         "agent.http_token_file, or stop the agent and purge")));
    }
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    std::optional<core::Micros> before;
    if (body.is_object() && body.contains("before") && body["before"].is_string()) {
      before = ParsePurgeTime(body["before"].get<std::string>());
    }
    if (!before) {
      return SendJson(response, 400,
                      ErrorObject(Status(Code::kSchemaInvalid,
                                         "a JSON body {\"before\": RFC 3339 time or YYYY-MM-DD} "
                                         "is required"),
                                  "", {"/before"}));
    }
    core::Result<RetentionCounts> purged = retention_->Purge(*before);
    if (!purged.ok()) return SendJson(response, 503, ErrorObject(purged.status()));
    nlohmann::json answer = purged->ToJson();
    answer["before"] = core::FormatRfc3339(*before);
    SendJson(response, 200, answer);
  });

  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
    SendJson(response, 200,
             {{"status", "ok"},
              {"id", config_.id},
              {"broker_connected", metrics_.connected.load()},
              {"sessions_replaced", metrics_.sessions_replaced.load()}});
  });

  // Ready to take work and pass it on: its own disk has room and the broker is connected.
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    nlohmann::json reasons = nlohmann::json::array();
    Status storage = storage_.Check();
    if (!storage.ok()) reasons.push_back(ErrorObject(storage));
    bool connected = connection_.ready();
    if (!connected) {
      reasons.push_back(
          ErrorObject(Status(Code::kUnavailable, "the agent is not connected to the broker")));
    }
    nlohmann::json body = {
        {"ready", reasons.empty()},      {"id", config_.id},
        {"broker_connected", connected}, {"broker_storage_full", sender_.broker_storage_full()},
        {"storage", storage_.ToJson()},  {"reasons", reasons}};
    if (consent_sync_ != nullptr) body["consents_synced"] = consent_sync_->synced();
    if (!reasons.empty()) body["code"] = reasons[0]["code"];
    SendJson(response, reasons.empty() ? 200 : 503, body);
  });

  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics_.Render(), "text/plain; version=0.0.4");
  });
}

}  // namespace stafett::agent
