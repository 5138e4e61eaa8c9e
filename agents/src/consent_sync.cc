// ConsentSync: the party_consents pages merged into the journal's consent table.
#include "consent_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "stafett/core/frames.h"
#include "stafett/core/ids.h"
#include "stafett/core/pseudonym.h"

namespace stafett::agent {

using core::Code;
using core::Status;

ConsentSync::ConsentSync(const AgentConfig& config, store::AgentJournal& journal,
                         Connection& connection)
    : config_(config), journal_(journal), connection_(connection) {}

void ConsentSync::Kick() {
  if (synced_.load() || running_) return;
  running_ = true;
  seen_ = learned_ = revoked_ = 0;
  spdlog::info("event=consent_sync_started");
  Ask(nullptr);
}

void ConsentSync::Ask(const nlohmann::json& after) {
  connection_.Query({{"op", "party_consents"}, {"after", after}},
                    [this](const nlohmann::json& result) { OnAnswer(result); });
}

core::Result<bool> ConsentSync::Merge(store::AgentJournal& journal, const std::string& own_id,
                                      const nlohmann::json& row, bool* revoked_now) {
  *revoked_now = false;
  // Learned from the broker's index: no signed event of it was seen here (granted stays empty).
  core::Result<core::ConsentRecord> parsed = core::protocol::ParsePartyConsent(row);
  if (!parsed.ok() || !core::IsValidMessageId(parsed->facts.consent_id) ||
      !core::IsValidPseudonym(parsed->facts.subject) || !core::EncodeConsentRecord(*parsed).ok()) {
    spdlog::warn("event=consent_sync_row_malformed");
    return false;
  }
  core::ConsentRecord& consent = *parsed;
  const std::vector<std::string>& parties = consent.facts.parties;
  // The broker sends only consents we are a party of; one that is not is not ours to keep.
  if (std::find(parties.begin(), parties.end(), own_id) == parties.end()) return false;
  core::Result<std::optional<core::ConsentRecord>> known =
      journal.GetConsent(consent.facts.consent_id);
  if (!known.ok()) return known.status();
  if (known->has_value()) {
    // What the agent learned from a signed consent event stays; only a revocation it missed
    // is taken over (revocation is final).
    core::ConsentRecord learned = **known;
    if (!consent.facts.revoked || learned.facts.revoked) return false;
    learned.facts.revoked = true;
    STAFETT_RETURN_IF_ERROR(journal.PutConsent(learned));
    *revoked_now = true;
    return true;
  }
  STAFETT_RETURN_IF_ERROR(journal.PutConsent(consent));
  return true;
}

void ConsentSync::OnAnswer(const nlohmann::json& result) {
  if (!result.value("ok", false)) {
    std::string code = result.value("code", std::string(core::CodeName(Code::kUnavailable)));
    running_ = false;
    if (core::CodeFromName(code) == Code::kUnavailable) {
      // The session went away: the next one tries again from the start.
      spdlog::info("event=consent_sync_interrupted");
      return;
    }
    // An older broker without the query (PROTOCOL_ERROR) or one refusing it: the agent goes on
    // with the consents it knows, as before, rather than hold deliveries for ever.
    spdlog::warn("event=consent_sync_failed code={} message=\"{}\"", code.substr(0, 32),
                 result.value("message", "").substr(0, 200));
    settled_ = true;
    return;
  }
  const nlohmann::json& consents =
      result.contains("consents") ? result["consents"] : nlohmann::json::array();
  for (const nlohmann::json& row : consents.is_array() ? consents : nlohmann::json::array()) {
    ++seen_;
    bool revoked_now = false;
    core::Result<bool> merged = Merge(journal_, config_.id, row, &revoked_now);
    if (!merged.ok()) {
      spdlog::error("event=consent_sync_failed code={} error=\"{}\"",
                    core::CodeName(merged.status().code()), merged.status().message());
      running_ = false;  // tried again on the next session or the next delivery that waits
      return;
    }
    if (*merged && !revoked_now) ++learned_;
    if (revoked_now) ++revoked_;
  }
  const nlohmann::json next = result.contains("next_cursor") ? result["next_cursor"] : nullptr;
  if (next.is_string() && !next.get<std::string>().empty()) return Ask(next);
  running_ = false;
  synced_ = true;
  settled_ = true;
  spdlog::info("event=consents_synced consents={} learned={} revocations_learned={}", seen_,
               learned_, revoked_);
}

}  // namespace stafett::agent
