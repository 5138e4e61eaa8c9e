// `stafett audit trail | verify | export | prove`: the auditor's tools. Personnummer are
// pseudonymised here, on the auditor's machine, with the county key; the broker never sees them.
#include "audit_commands.h"

#include <cstdio>
#include <iostream>

#include "audit_queries.h"
#include "audit_verifier.h"
#include "broker_client.h"
#include "fhir_audit.h"
#include "stafett/core/clock.h"
#include "stafett/core/encoding.h"
#include "table.h"

namespace stafett::tools {
namespace {

using core::Code;
using core::Status;

struct AuditOptions {
  std::string config, subject_pnr, subject, endpoint, from, to, format = "json";
  uint64_t seq = 0;
};

int Report(const Status& status) {
  std::fprintf(stderr, "stafett: %s\n", status.ToString().c_str());
  return 1;
}

core::Result<std::pair<ClientConfig, std::unique_ptr<BrokerClient>>> Open(const std::string& path) {
  core::Result<ClientConfig> config = LoadClientConfig(path, "auditor");
  if (!config.ok()) return config.status();
  core::Result<std::unique_ptr<BrokerClient>> client = BrokerClient::Connect(*config);
  if (!client.ok()) return client.status();
  return std::make_pair(*config, std::move(client).value());
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Joined(const nlohmann::json& list) {
  std::string out;
  if (!list.is_array()) return list.is_string() ? list.get<std::string>() : "";
  for (const auto& item : list) {
    if (!out.empty()) out += " ";
    out += item.get<std::string>();
  }
  return out;
}

int RunTrail(const AuditOptions& options) {
  // Checked here, like export's, before the broker is contacted.
  if (!options.from.empty() && !core::ParseRfc3339(options.from)) {
    return Report(Status(Code::kSchemaInvalid, "--from must be an RFC 3339 time"));
  }
  if (!options.to.empty() && !core::ParseRfc3339(options.to)) {
    return Report(Status(Code::kSchemaInvalid, "--to must be an RFC 3339 time"));
  }
  auto opened = Open(options.config);
  if (!opened.ok()) return Report(opened.status());
  auto& [config, client] = *opened;
  char kind = 's';
  std::string id;
  if (!options.subject_pnr.empty()) {
    core::Result<std::string> pseudonym = PseudonymOf(config, options.subject_pnr);
    if (!pseudonym.ok()) return Report(pseudonym.status());
    id = *pseudonym;
  } else if (!options.subject.empty()) {
    id = options.subject;
  } else {
    kind = 'e';
    id = options.endpoint;
  }
  // The whole trail, every page, checked complete under one signed head; then the time filter.
  nlohmann::json extra = nlohmann::json::object();
  if (!options.from.empty()) extra["from"] = options.from;
  if (!options.to.empty()) extra["to"] = options.to;
  core::Result<VerifiedTrail> trail = FetchVerifiedTrail(*client, kind, id, extra);
  if (!trail.ok()) {
    if (trail.status().code() != Code::kCorruption &&
        trail.status().code() != Code::kBadSignature) {
      return Report(trail.status());
    }
    std::fprintf(stderr, "stafett: audit trail verification FAILED: %s\n",
                 trail.status().message().c_str());
    return 1;
  }
  std::optional<core::Micros> from = core::ParseRfc3339(options.from);
  std::optional<core::Micros> to = core::ParseRfc3339(options.to);
  nlohmann::json records = nlohmann::json::array();
  for (nlohmann::json& record : trail->records) {
    std::optional<core::Micros> time = core::ParseRfc3339(record.value("time", ""));
    if (!time || (from && *time < *from) || (to && *time > *to)) continue;
    records.push_back(std::move(record));
  }
  static const std::vector<std::string> kFields = {"seq",  "time", "event",   "message_id", "type",
                                                   "from", "to",   "subject", "consent_id", "code"};
  if (options.format == "json") {
    for (const nlohmann::json& record : records) std::cout << record.dump() << "\n";
  } else if (options.format == "csv") {
    std::string line;
    for (const std::string& field : kFields) line += (line.empty() ? "" : ",") + field;
    std::cout << line << "\n";
    for (const nlohmann::json& record : records) {
      line.clear();
      for (size_t i = 0; i < kFields.size(); ++i) {
        const nlohmann::json& value = record.contains(kFields[i]) ? record[kFields[i]] : nullptr;
        std::string text = value.is_number() ? value.dump() : Joined(value);
        line += (i == 0 ? "" : ",") + CsvField(text);
      }
      std::cout << line << "\n";
    }
  } else {
    Table table({"SEQ", "TIME", "EVENT", "MESSAGE", "TYPE", "FROM", "TO", "CONSENT", "CODE"});
    for (const nlohmann::json& record : records) {
      table.Add({record["seq"].dump(), record.value("time", ""), record.value("event", ""),
                 record.value("message_id", ""), record.value("type", ""), record.value("from", ""),
                 Joined(record["to"]), record.value("consent_id", ""), record.value("code", "")});
    }
    std::cout << table.Render();
  }
  return 0;
}

int RunVerify(const AuditOptions& options) {
  auto opened = Open(options.config);
  if (!opened.ok()) return Report(opened.status());
  auto& [config, client] = *opened;
  if (config.state_dir.empty())
    return Report(Status(Code::kConfigInvalid, "auditor.state_dir is not set"));
  core::Result<VerifyReport> report = VerifyLog(*client, config.state_dir);
  if (!report.ok()) {
    std::fprintf(stderr, "stafett: audit log verification FAILED: %s\n",
                 report.status().message().c_str());
    return 1;
  }
  std::printf("audit log verified: tree size %llu, %llu records checked against the signed head",
              static_cast<unsigned long long>(report->tree_size),
              static_cast<unsigned long long>(report->records_checked));
  if (report->previous_size) {
    std::printf("; consistent with the head seen before (size %llu)",
                static_cast<unsigned long long>(*report->previous_size));
  }
  std::printf("\n");
  return 0;
}

int RunExport(const AuditOptions& options) {
  auto opened = Open(options.config);
  if (!opened.ok()) return Report(opened.status());
  auto& client = opened->second;
  core::Result<nlohmann::json> answer = client->Query({{"op", "head"}});
  if (!answer.ok()) return Report(answer.status());
  core::Result<TreeHead> head = CheckSignedHead((*answer)["head"], client->directory());
  if (!head.ok()) return Report(head.status());
  std::optional<core::Micros> from, to;
  if (!options.from.empty() && !(from = core::ParseRfc3339(options.from))) {
    return Report(Status(Code::kSchemaInvalid, "--from must be an RFC 3339 time"));
  }
  if (!options.to.empty() && !(to = core::ParseRfc3339(options.to))) {
    return Report(Status(Code::kSchemaInvalid, "--to must be an RFC 3339 time"));
  }
  std::string root = core::HashToHex(head->root);
  const bool fhir = options.format == "fhir";
  std::vector<nlohmann::json> events;
  Status mapped;
  Status streamed = ForEachRecordWithProof(
      *client, *head, [&](uint64_t seq, const std::string& leaf, const nlohmann::json& proof) {
        nlohmann::json record = nlohmann::json::parse(leaf);
        std::optional<core::Micros> time = core::ParseRfc3339(record.value("time", ""));
        if ((from && time && *time < *from) || (to && time && *time > *to)) return;
        if (fhir) {
          FhirLogPosition position{seq, leaf, {}, head->tree_size, root};
          for (const nlohmann::json& hash : proof)
            position.proof.push_back(hash.get<std::string>());
          core::Result<std::vector<nlohmann::json>> mapped_events = FhirAuditEvents(position);
          if (!mapped_events.ok()) {
            if (mapped.ok()) mapped = mapped_events.status();
            return;
          }
          for (nlohmann::json& event : *mapped_events) events.push_back(std::move(event));
          return;
        }
        nlohmann::json line = {{"seq", seq},
                               {"record", record},
                               {"leaf", core::ToBase64(leaf)},
                               {"proof", proof},
                               {"tree_size", head->tree_size},
                               {"root", root}};
        std::cout << line.dump() << "\n";
      });
  if (!streamed.ok()) return Report(streamed);
  if (!mapped.ok()) return Report(mapped);
  if (fhir) {
    std::cout << FhirAuditBundle(std::move(events), head->json, head->timestamp, head->tree_size,
                                 root)
                     .dump(1)
              << "\n";
    return 0;
  }
  std::cout << nlohmann::json({{"signed_head", head->json}}).dump() << "\n";
  return 0;
}

int RunProve(const AuditOptions& options) {
  auto opened = Open(options.config);
  if (!opened.ok()) return Report(opened.status());
  auto& client = opened->second;
  core::Result<nlohmann::json> answer = client->Query({{"op", "head"}});
  if (!answer.ok()) return Report(answer.status());
  core::Result<TreeHead> head = CheckSignedHead((*answer)["head"], client->directory());
  if (!head.ok()) return Report(head.status());
  if (options.seq >= head->tree_size) {
    return Report(Status(Code::kNotFound, "no record at that position under the signed head"));
  }
  core::Result<nlohmann::json> records =
      client->Query({{"op", "records"}, {"from_seq", options.seq}, {"count", 1}});
  if (!records.ok()) return Report(records.status());
  core::Result<nlohmann::json> proof =
      client->Query({{"op", "inclusion"}, {"seq", options.seq}, {"tree_size", head->tree_size}});
  if (!proof.ok()) return Report(proof.status());
  std::string leaf = core::FromBase64((*records)["records"][0].value("leaf", "")).value_or("");
  nlohmann::json out = {{"seq", options.seq},
                        {"record", nlohmann::json::parse(leaf, nullptr, false)},
                        {"leaf", core::ToBase64(leaf)},
                        {"leaf_hash", core::HashToHex(core::LeafHash(leaf))},
                        {"proof", (*proof)["proof"]},
                        {"tree_size", head->tree_size},
                        {"root", core::HashToHex(head->root)},
                        {"signed_head", head->json}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

void AddAuditCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<AuditOptions>();
  CLI::App* audit = app.add_subcommand("audit", "Consent trails, verification, export, proofs");
  audit->require_subcommand(1);

  CLI::App* trail = audit->add_subcommand("trail", "A child's, an endpoint's or a span's trail");
  trail->add_option("--config", options->config, "auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  auto* by_pnr = trail->add_option("--subject-pnr", options->subject_pnr,
                                   "the child's personnummer (pseudonymised locally)");
  auto* by_subject = trail->add_option("--subject", options->subject, "the child's pseudonym");
  auto* by_endpoint = trail->add_option("--endpoint", options->endpoint, "an endpoint id");
  by_pnr->excludes(by_subject)->excludes(by_endpoint);
  by_subject->excludes(by_endpoint);
  trail->add_option("--from", options->from, "RFC 3339 start");
  trail->add_option("--to", options->to, "RFC 3339 end");
  trail->add_option("--format", options->format, "json (lines), csv or table")
      ->check(CLI::IsMember({"json", "csv", "table"}));
  trail->callback([=] {
    if (options->subject_pnr.empty() && options->subject.empty() && options->endpoint.empty()) {
      throw CLI::ValidationError("one of --subject-pnr, --subject or --endpoint is required");
    }
    *exit_code = RunTrail(*options);
  });

  CLI::App* verify = audit->add_subcommand("verify", "Verify the log against the signed tree head");
  verify->add_option("--config", options->config, "auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  verify->callback([=] { *exit_code = RunVerify(*options); });

  CLI::App* exporter =
      audit->add_subcommand("export", "JSON Lines (or a FHIR Bundle) with inclusion proofs");
  exporter->add_option("--config", options->config, "auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  exporter->add_option("--from", options->from, "RFC 3339 start");
  exporter->add_option("--to", options->to, "RFC 3339 end");
  exporter
      ->add_option("--format", options->format,
                   "json (lines, the default) or fhir (an R4 Bundle of AuditEvents)")
      ->check(CLI::IsMember({"json", "fhir"}));
  exporter->callback([=] { *exit_code = RunExport(*options); });

  CLI::App* prove = audit->add_subcommand("prove", "One record's inclusion proof");
  prove->add_option("--config", options->config, "auditor.toml")
      ->required()
      ->check(CLI::ExistingFile);
  prove->add_option("--seq", options->seq, "the record's position")->required();
  prove->callback([=] { *exit_code = RunProve(*options); });
}

}  // namespace stafett::tools
