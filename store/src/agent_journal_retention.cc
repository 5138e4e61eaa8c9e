// AgentJournal's retention verbs: visiting the outgoing, source and received records, and
// removing the finished ones (docs/PRIVACY.md, "At the agents"). The keys: agent_journal_keys.h.
#include <utility>

#include "agent_journal_keys.h"
#include "stafett/core/records/stored_envelope.h"
#include "stafett/store/agent_journal.h"

namespace stafett::store {

using core::Result;
using core::Status;
using namespace journal_keys;  // NOLINT(google-build-using-namespace): the keys

Status AgentJournal::ForEachOutgoing(const OutgoingVisitor& visit) {
  return Scan(kOutgoing, [&](std::string_view, std::string_view value) {
    Result<core::OutgoingRecord> record = core::DecodeOutgoingRecord(value);
    return !record.ok() || visit(*record);
  });
}

Status AgentJournal::ForEachSource(const SourceVisitor& visit) {
  return Scan(kSource, [&](std::string_view key, std::string_view value) {
    Result<core::SourceEntry> entry = core::DecodeSourceEntry(value);
    return !entry.ok() || visit(key.substr(kSource.size()), *entry);
  });
}

Status AgentJournal::ForEachReceived(const ReceivedVisitor& visit) {
  return Scan(kReceived, [&](std::string_view key, std::string_view value) {
    Result<core::ReceivedRecord> record = core::DecodeReceivedRecord(value);
    return !record.ok() || visit(key.substr(kReceived.size()), *record);
  });
}

Result<bool> AgentJournal::RemoveOutgoing(std::string_view message_id,
                                          const OutgoingRule& removable,
                                          const std::vector<std::string>& source_keys) {
  std::lock_guard lock(mutex_);  // the mutex of AddOutgoing/UpdateOutgoing
  Result<std::optional<core::OutgoingRecord>> loaded = GetOutgoing(message_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return false;
  const core::OutgoingRecord& record = **loaded;
  if (record.state == core::OutgoingState::kPending || !removable(record)) return false;
  std::vector<Write> writes;
  writes.push_back({Key(kOutgoing, message_id), std::nullopt});
  writes.push_back({Key(kEnvelope, message_id), std::nullopt});
  for (const std::string& source_key : source_keys) {
    // Only an entry that still names this message: the same file may since name another.
    Result<std::optional<core::SourceEntry>> entry = FindBySource(source_key);
    if (!entry.ok()) return entry.status();
    if (entry->has_value() && (**entry).message_id == message_id) {
      writes.push_back({Key(kSource, source_key), std::nullopt});
    }
  }
  STAFETT_RETURN_IF_ERROR(ApplyObserved(writes));
  return true;
}

Status AgentJournal::RemoveReceived(std::string_view message_id) {
  return ApplyObserved({{Key(kReceived, message_id), std::nullopt}});
}

}  // namespace stafett::store
