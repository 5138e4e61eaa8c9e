// PurgeCommand: the erasure request, on the journal itself or through the running agent.
#include "purge_command.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "file_util.h"
#include "retention.h"
#include "source_key.h"
#include "stafett/keys/pseudonym_key_file.h"
#include "stafett/store/rocksdb_agent_journal.h"

namespace stafett::agent {
namespace {

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "stafett-agent purge: %s\n", message.c_str());
  return code;
}

void Print(nlohmann::json answer, const char* via) {
  answer["via"] = via;
  std::printf("%s\n", answer.dump().c_str());
}

int PurgeJournal(const AgentConfig& config, core::Micros before) {
  core::Result<core::PseudonymKey> key = keys::LoadPseudonymKeyFile(config.pseudonym_key);
  if (!key.ok()) return Fail(key.status().message(), kPurgeFailed);
  core::Result<std::unique_ptr<store::AgentJournal>> journal =
      store::OpenRocksDbAgentJournal(config.data_dir / "journal");
  if (!journal.ok()) return Fail(journal.status().message(), kPurgeFailed);
  Retention retention(config, **journal, OutboxNameKey(key->bytes()), core::SystemClock::Instance(),
                      nullptr);
  core::Result<RetentionCounts> purged = retention.Purge(before);
  if (!purged.ok()) return Fail(purged.status().message(), kPurgeFailed);
  nlohmann::json answer = purged->ToJson();
  answer["before"] = core::FormatRfc3339(before);
  Print(answer, "journal");
  return kPurgeDone;
}

int PurgeThroughAgent(const AgentConfig& config, core::Micros before) {
  if (config.http_bind.empty()) {
    return Fail("the agent is running (" + config.data_dir.string() +
                    " is locked) and has no local API (agent.http_bind): stop it and purge again",
                kPurgeUnreachable);
  }
  if (config.http_token.empty()) {
    return Fail(
        "the agent is running and its API has no bearer token (agent.http_token_file): "
        "stop it and purge again",
        kPurgeUnreachable);
  }
  size_t colon = config.http_bind.rfind(':');
  std::string host = config.http_bind.substr(0, colon);
  if (host == "0.0.0.0" || host == "[::]" || host.empty()) host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  httplib::Client client(host, std::atoi(config.http_bind.c_str() + colon + 1));
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(600, 0);  // a large purge runs as long as it takes
  httplib::Headers headers = {{"Authorization", "Bearer " + config.http_token}};
  nlohmann::json body = {{"before", core::FormatRfc3339(before)}};
  httplib::Result result = client.Post("/v1/admin/purge", headers, body.dump(), "application/json");
  if (!result) {
    return Fail("the agent is running but its API on " + config.http_bind +
                    " did not answer: " + httplib::to_string(result.error()),
                kPurgeUnreachable);
  }
  nlohmann::json answer = nlohmann::json::parse(result->body, nullptr, false);
  if (result->status != 200 || !answer.is_object()) {
    std::string message = answer.is_object() ? answer.value("message", "") : result->body;
    return Fail(
        "the running agent refused (HTTP " + std::to_string(result->status) + "): " + message,
        kPurgeFailed);
  }
  Print(answer, "agent_api");
  return kPurgeDone;
}

}  // namespace

int RunPurge(const AgentConfig& config, const std::string& before_text) {
  std::optional<core::Micros> before = ParsePurgeTime(before_text);
  if (!before) {
    return Fail("--before must be an RFC 3339 time (2026-11-23T08:00:00Z) or a date (2026-11-23)",
                kPurgeUsage);
  }
  core::Result<int> lock = LockDataDir(config.data_dir);
  if (lock.ok()) {
    int code = PurgeJournal(config, *before);
    ::close(*lock);
    return code;
  }
  if (lock.status().code() == core::Code::kUnavailable) return PurgeThroughAgent(config, *before);
  return Fail(lock.status().message(), kPurgeFailed);
}

}  // namespace stafett::agent
