// County init: writes the sandbox deployment. Every secret file is created exclusively with
// mode 0600; key folders and county/ are 0700. Thread-safety: one call at a time per DIR.
#include "county_init.h"

#include <nlohmann/json.hpp>

#include "county_configs.h"
#include "county_presets.h"
#include "key_operations.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/secret_file.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::tools {

using core::Code;
using core::Status;

namespace {

constexpr int kAgentPortOffset = 10;

// One principal of the sandbox and where its files go (relative to DIR).
struct Member {
  keys::Principal principal;
  std::filesystem::path home;
};

std::vector<Member> Members(const std::vector<EndpointSpec>& endpoints) {
  std::vector<Member> members;
  members.push_back({{"broker", keys::Role::kBroker, "", "", "County broker", {}}, "broker"});
  for (const EndpointSpec& spec : endpoints) {
    members.push_back(
        {{spec.id, keys::Role::kEndpoint, spec.kind, spec.municipality, spec.name, {}},
         std::filesystem::path("agents") / spec.id});
  }
  members.push_back({{"auditor", keys::Role::kAuditor, "", "", "County auditor", {}}, "auditor"});
  members.push_back(
      {{"operator", keys::Role::kOperator, "", "", "County operations", {}}, "operator"});
  return members;
}

Status WriteText(const std::filesystem::path& file, const std::string& text) {
  return keys::WriteNewFile(file, text, 0644);
}

Status MakeFolders(const std::filesystem::path& home, std::initializer_list<const char*> names) {
  for (const char* name : names) STAFETT_RETURN_IF_ERROR(EnsureFolder(home / name, 0755));
  return Status::Ok();
}

// Keys for every member, each in its home's keys/ folder, and the directory of their public keys.
core::Result<keys::TrustDirectory> WriteKeys(const CountyInitOptions& options,
                                             const std::vector<Member>& members) {
  keys::TrustDirectory directory;
  directory.set_county(options.preset);
  core::Micros from = options.now - kClockSkewAllowance;
  core::Micros until = options.now + options.valid_days * kMicrosPerDay;
  for (const Member& member : members) {
    std::filesystem::path keys_dir = options.dir / member.home / "keys";
    STAFETT_RETURN_IF_ERROR(EnsureFolder(options.dir / member.home, 0755));
    STAFETT_RETURN_IF_ERROR(EnsureFolder(keys_dir, 0700));
    core::Result<keys::KeySet> key_set = keys::GenerateKeySet(member.principal.id, from, until);
    if (!key_set.ok()) return key_set.status();
    STAFETT_RETURN_IF_ERROR(keys::WriteKeySet(*key_set, keys_dir));
    STAFETT_RETURN_IF_ERROR(directory.AddPrincipal(member.principal, *key_set));
  }
  return directory;
}

nlohmann::ordered_json Manifest(const CountyInitReport& report) {
  nlohmann::ordered_json agents = nlohmann::ordered_json::array();
  for (const CountyAgent& agent : report.agents) {
    std::string home = "agents/" + agent.id;
    agents.push_back({{"id", agent.id},
                      {"kind", agent.kind},
                      {"config", home + "/agent.toml"},
                      {"outbox", home + "/outbox"},
                      {"inbox", home + "/inbox"},
                      {"http", agent.http},
                      {"http_token_file", home + "/http.token"}});
  }
  nlohmann::ordered_json manifest;
  manifest["broker"] = {
      {"config", "broker/broker.toml"}, {"zmq", report.broker_zmq}, {"http", report.broker_http}};
  manifest["agents"] = agents;
  manifest["auditor"] = {{"config", "auditor/auditor.toml"}};
  manifest["operator"] = {{"config", "operator/operator.toml"}};
  return manifest;
}

// The configs and working folders of every process.
Status WriteConfigs(const std::filesystem::path& dir, const CountyInitReport& report) {
  BrokerAddresses broker{report.broker_zmq, report.broker_http};
  STAFETT_RETURN_IF_ERROR(WriteText(dir / "broker" / "broker.toml", BrokerToml(broker)));
  STAFETT_RETURN_IF_ERROR(MakeFolders(dir / "broker", {"data"}));
  for (const CountyAgent& agent : report.agents) {
    std::filesystem::path home = dir / "agents" / agent.id;
    STAFETT_RETURN_IF_ERROR(
        WriteText(home / "agent.toml", AgentToml(agent.id, broker, agent.http)));
    // The bearer token of the agent's local API: 32 random bytes in hex, owner-only.
    STAFETT_RETURN_IF_ERROR(
        keys::WriteNewFile(home / "http.token", core::ToHex(core::RandomBytes(32)) + "\n", 0600));
    STAFETT_RETURN_IF_ERROR(MakeFolders(home, {"outbox", "inbox", "data"}));
  }
  STAFETT_RETURN_IF_ERROR(
      WriteText(dir / "auditor" / "auditor.toml", AuditorToml("auditor", broker)));
  STAFETT_RETURN_IF_ERROR(MakeFolders(dir / "auditor", {"state"}));
  return WriteText(dir / "operator" / "operator.toml", OperatorToml("operator", broker));
}

}  // namespace

Status CheckFreshFolder(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::file_status status = std::filesystem::symlink_status(dir, error);
  if (status.type() == std::filesystem::file_type::not_found) return Status::Ok();
  if (status.type() != std::filesystem::file_type::directory) {
    return Status(Code::kConfigInvalid, dir.string() + ": exists and is not a folder");
  }
  if (!std::filesystem::is_empty(dir, error) || error) {
    return Status(Code::kConfigInvalid,
                  dir.string() + ": not empty; county init writes only into a new or empty folder");
  }
  return Status::Ok();
}

core::Result<CountyInitReport> InitCounty(const CountyInitOptions& options) {
  std::optional<std::vector<EndpointSpec>> endpoints = PresetEndpoints(options.preset);
  if (!endpoints) {
    return Status(Code::kConfigInvalid,
                  "unknown preset \"" + options.preset + "\" (three or sormland)");
  }
  int last_port = options.base_port + kAgentPortOffset + static_cast<int>(endpoints->size()) - 1;
  if (options.base_port < 1 || last_port > 65535) {
    return Status(Code::kConfigInvalid, "--base-port " + std::to_string(options.base_port) +
                                            ": the preset needs ports up to base + " +
                                            std::to_string(last_port - options.base_port) +
                                            ", below 65536");
  }
  if (options.valid_days < 1)
    return Status(Code::kConfigInvalid, "--valid-days must be at least 1");
  STAFETT_RETURN_IF_ERROR(CheckFreshFolder(options.dir));
  STAFETT_RETURN_IF_ERROR(EnsureFolder(options.dir, 0755));

  CountyInitReport report;
  report.broker_zmq = "tcp://127.0.0.1:" + std::to_string(options.base_port);
  report.broker_http = "127.0.0.1:" + std::to_string(options.base_port + 1);
  for (size_t i = 0; i < endpoints->size(); ++i) {
    int port = options.base_port + kAgentPortOffset + static_cast<int>(i);
    report.agents.push_back(
        {(*endpoints)[i].id, (*endpoints)[i].kind, "127.0.0.1:" + std::to_string(port)});
  }

  core::Result<keys::TrustDirectory> directory = WriteKeys(options, Members(*endpoints));
  if (!directory.ok()) return directory.status();
  STAFETT_RETURN_IF_ERROR(EnsureFolder(options.dir / "trust", 0755));
  STAFETT_RETURN_IF_ERROR(directory->Save(options.dir / "trust" / "directory.json"));
  STAFETT_RETURN_IF_ERROR(EnsureFolder(options.dir / "county", 0700));
  STAFETT_RETURN_IF_ERROR(keys::WritePseudonymKeyFile(options.dir / "county" / "pseudonym.key",
                                                      core::PseudonymKey::Generate()));
  STAFETT_RETURN_IF_ERROR(WriteConfigs(options.dir, report));
  STAFETT_RETURN_IF_ERROR(WriteText(options.dir / "county.json", Manifest(report).dump(2) + "\n"));
  return report;
}

}  // namespace stafett::tools
