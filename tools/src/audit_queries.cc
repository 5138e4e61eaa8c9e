// Shared auditor-side logic for the CLI and the console.
#include "audit_queries.h"

#include <optional>

#include "stafett/core/clock.h"
#include "stafett/core/personnummer.h"
#include "stafett/core/pseudonym.h"
#include "stafett/keys/key_set.h"

namespace stafett::tools {

core::Result<std::string> PseudonymOf(const ClientConfig& config, const std::string& personnummer) {
  core::Result<core::Personnummer> number =
      core::ParsePersonnummer(personnummer, core::SystemClock::Instance().Now());
  if (!number.ok()) return number.status();
  core::Result<core::PseudonymKey> key = keys::LoadPseudonymKeyFile(config.pseudonym_key);
  if (!key.ok()) return key.status();
  return core::Pseudonymise(*key, *number);
}

core::Result<CheckedTrail> QueryCheckedTrail(BrokerClient& client, const TrailFilter& filter) {
  std::optional<core::Micros> from, to;
  if (!filter.from.empty() && !(from = core::ParseRfc3339(filter.from))) {
    return core::Status(core::Code::kSchemaInvalid, "from must be an RFC 3339 time");
  }
  if (!filter.to.empty() && !(to = core::ParseRfc3339(filter.to))) {
    return core::Status(core::Code::kSchemaInvalid, "to must be an RFC 3339 time");
  }
  nlohmann::json extra = nlohmann::json::object();
  if (from) extra["from"] = filter.from;
  if (to) extra["to"] = filter.to;
  bool by_subject = !filter.subject.empty();
  core::Result<VerifiedTrail> trail = FetchVerifiedTrail(
      client, by_subject ? 's' : 'e', by_subject ? filter.subject : filter.endpoint, extra);
  if (!trail.ok()) return trail.status();
  CheckedTrail checked;
  checked.head = trail->head;
  for (nlohmann::json& record : trail->records) {
    std::optional<core::Micros> time = core::ParseRfc3339(record.value("time", ""));
    if (!time || (from && *time < *from) || (to && *time > *to)) continue;
    uint64_t seq = record.value("seq", uint64_t{0});
    checked.records.push_back({seq, std::move(record)});
  }
  return checked;
}

}  // namespace stafett::tools
