// verify-inbox: the offline check of an inbox document's signed header.
#include "verify_inbox.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli_errors.h"
#include "stafett/core/config.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"

namespace stafett::tools {

using core::Code;
using core::Status;

namespace {

std::string Text(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string()
             ? object[key].get<std::string>()
             : std::string();
}

// The trust directory named by an agent's or an auditor's config.
core::Result<std::filesystem::path> TrustDirectoryOf(const std::string& config_path) {
  core::Result<core::Config> config = core::Config::Load(config_path);
  if (!config.ok()) return config.status();
  for (const char* section : {"agent", "auditor", "operator"}) {
    std::string key = std::string(section) + ".trust_directory";
    if (config->Has(key)) return config->GetPath(key, std::nullopt);
  }
  return Status(Code::kConfigInvalid,
                config_path + ": no trust_directory in [agent], [auditor] or [operator]");
}

int RunVerifyInbox(const std::string& file, const std::string& config_path) {
  core::Result<std::filesystem::path> directory_file = TrustDirectoryOf(config_path);
  if (!directory_file.ok()) return ReportFailure(directory_file.status());
  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(*directory_file);
  if (!directory.ok()) return ReportFailure(directory.status());
  std::ifstream in(file, std::ios::binary);
  if (!in) return ReportFailure(Status(Code::kNotFound, file + ": cannot read the file"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
  if (!document.is_object()) {
    return ReportFailure(Status(Code::kSchemaInvalid, file + ": not a JSON document"));
  }
  Status verified = VerifyInboxDocument(document, *directory);
  if (!verified.ok()) {
    return ReportFailure(Status(verified.code(), file + ": " + verified.message()));
  }
  std::printf(
      "ok: %s from %s, signed by key %s, audit seq %s\n", Text(document, "message_id").c_str(),
      Text(document, "from").c_str(), Text(document["stafett"], "key_id").c_str(),
      document["stafett"].contains("seq") ? document["stafett"]["seq"].dump().c_str() : "-");
  return 0;
}

}  // namespace

Status VerifyInboxDocument(const nlohmann::json& document, const keys::TrustDirectory& directory) {
  if (!document.contains("stafett") || !document["stafett"].is_object()) {
    return Status(Code::kSchemaInvalid, "no \"stafett\" object (delivered before it was added?)");
  }
  const nlohmann::json& proof = document["stafett"];
  std::optional<std::string> header_bytes = core::FromBase64(Text(proof, "header"));
  std::optional<std::string> signature = core::FromBase64(Text(proof, "signature"));
  if (!header_bytes || !signature) {
    return Status(Code::kSchemaInvalid, "stafett.header or stafett.signature is not base64");
  }
  core::Result<core::Header> header = core::ParseHeader(*header_bytes);
  if (!header.ok()) return Status(Code::kSchemaInvalid, "the signed header does not parse");
  if (header->sender_key_id != Text(proof, "key_id")) {
    return Status(Code::kSchemaInvalid, "stafett.key_id is not the header's sender key");
  }
  const keys::PublicKeys* key = directory.KeyById(header->from, header->sender_key_id);
  if (key == nullptr) {
    return Status(Code::kUnknownKey, "the sender's key " + header->sender_key_id + " of " +
                                         header->from + " is not in the trust directory");
  }
  if (!core::Verify(key->signing, core::HeaderSigningInput(*header_bytes), *signature)) {
    return Status(Code::kBadSignature, "the sender's signature over the header does not verify");
  }
  std::vector<std::string> to;
  if (document.contains("to") && document["to"].is_array()) {
    for (const nlohmann::json& id : document["to"])
      to.push_back(id.is_string() ? id.get<std::string>() : "");
  }
  const nlohmann::json subject = document.value("subject", nlohmann::json::object());
  struct Fact {
    const char* name;
    bool same;
  };
  for (const Fact& fact :
       {Fact{"message_id", header->message_id == Text(document, "message_id")},
        Fact{"type", header->type == Text(document, "type")},
        Fact{"from", header->from == Text(document, "from")}, Fact{"to", header->to == to},
        Fact{"consent_id", header->consent_id == Text(document, "consent_id")},
        Fact{"subject.pseudonym", header->subject == Text(subject, "pseudonym")}}) {
    if (!fact.same) {
      return Status(Code::kBadSignature,
                    std::string("the document's ") + fact.name + " is not the signed header's");
    }
  }
  return Status::Ok();
}

void AddVerifyInboxCommand(CLI::App& app, int* exit_code) {
  auto file = std::make_shared<std::string>();
  auto config = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "verify-inbox", "Check a delivered inbox document's signed header against the directory");
  command->add_option("FILE", *file, "inbox/<message_id>.json")->required();
  command->add_option("--config", *config, "agent.toml or auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  command->callback([=] { *exit_code = RunVerifyInbox(*file, *config); });
}

}  // namespace stafett::tools
