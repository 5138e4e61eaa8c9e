// AgentJournal: the journal's verbs and rules over its implementation's byte-level primitives.
// Keys (docs/STORAGE.md, "The agent journal"): `format`, m/<message id> OutgoingRecord,
// e/<message id> StoredEnvelope, p/<message id> "" while pending, s/<source key> SourceEntry,
// c/<consent id> ConsentRecord, r/<message id> ReceivedRecord.
#include "stafett/store/agent_journal.h"

#include <algorithm>
#include <utility>

#include "agent_journal_keys.h"
#include "stafett/core/records/stored_envelope.h"

namespace stafett::store {

using core::Code;
using core::Result;
using core::Status;
using namespace journal_keys;  // NOLINT(google-build-using-namespace): the keys

namespace {

bool IsPending(const core::OutgoingRecord& record) {
  return record.state == core::OutgoingState::kPending;
}

template <typename T, typename Decode>
Result<std::optional<T>> ReadRecord(const Result<std::optional<std::string>>& stored,
                                    Decode decode) {
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<T>();
  Result<T> decoded = decode(**stored);
  if (!decoded.ok()) return decoded.status();
  return std::optional<T>(std::move(decoded).value());
}

}  // namespace

Status AgentJournal::Observed(Status status) {
  if (observer_) observer_(status);
  return status;
}

Status AgentJournal::ApplyObserved(const std::vector<Write>& writes) {
  if (!in_batch()) return Observed(Apply(writes));
  for (const Write& write : writes) {
    batch_.push_back(write);
    batch_view_[write.key] = write.value;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> AgentJournal::ReadVisible(std::string_view key) {
  if (in_batch()) {
    auto found = batch_view_.find(key);
    if (found != batch_view_.end()) return found->second;
  }
  return Read(key);
}

void AgentJournal::BeginBatch() {
  mutex_.lock();
  consent_mutex_.lock();
  batch_owner_ = std::this_thread::get_id();
}

void AgentJournal::EndBatch() {
  batch_.clear();
  batch_view_.clear();
  batch_owner_ = std::thread::id();
  consent_mutex_.unlock();
  mutex_.unlock();
}

Status AgentJournal::CommitBatch() {
  Status applied = batch_.empty() ? Status::Ok() : Observed(Apply(batch_));
  bool failed = !applied.ok();
  EndBatch();
  if (failed) pending_ = PendingIds().size();
  return applied;
}

void AgentJournal::AbortBatch() {
  bool wrote = !batch_.empty();
  EndBatch();
  if (wrote) pending_ = PendingIds().size();
}

Status AgentJournal::Initialise(std::string_view where) {
  Result<std::optional<std::string>> stored = Read(kFormat);
  if (!stored.ok()) return stored.status();
  bool has_data = stored->has_value();
  for (std::string_view prefix : kPrefixes) {
    if (has_data) break;
    STAFETT_RETURN_IF_ERROR(Scan(prefix, [&](std::string_view, std::string_view) {
      has_data = true;
      return false;
    }));
  }
  // A journal of an earlier build (JSON records, no `format`) has data and is refused.
  STAFETT_RETURN_IF_ERROR(
      core::CheckStoreFormat(core::StoreKind::kAgentJournal, *stored, has_data, where));
  if (!stored->has_value()) {
    STAFETT_RETURN_IF_ERROR(
        OverwriteStoreFormat(core::CurrentStoreFormat(core::StoreKind::kAgentJournal)));
  }
  pending_ = PendingIds().size();
  return Status::Ok();
}

Status AgentJournal::OverwriteStoreFormat(const core::StoreFormat& format) {
  Result<std::string> encoded = core::EncodeStoreFormat(format);
  if (!encoded.ok()) return encoded.status();
  return Apply({{std::string(kFormat), std::move(encoded).value()}});
}

Result<std::optional<core::OutgoingRecord>> AgentJournal::GetOutgoing(std::string_view message_id) {
  return ReadRecord<core::OutgoingRecord>(ReadVisible(Key(kOutgoing, message_id)),
                                          core::DecodeOutgoingRecord);
}

Status AgentJournal::AddOutgoing(const core::OutgoingRecord& record, const core::Envelope& envelope,
                                 std::string_view source_key) {
  Result<std::string> encoded = core::EncodeOutgoingRecord(record);
  if (!encoded.ok()) return encoded.status();
  Result<std::string> sealed = core::EncodeStoredEnvelope(envelope);
  if (!sealed.ok()) return sealed.status();
  std::vector<Write> writes;
  writes.push_back({Key(kOutgoing, record.message_id), std::move(encoded).value()});
  writes.push_back({Key(kEnvelope, record.message_id), std::move(sealed).value()});
  bool pending = IsPending(record);
  if (pending) writes.push_back({Key(kPending, record.message_id), std::string()});
  if (!source_key.empty()) {
    Result<std::string> source = core::EncodeSourceEntry({record.message_id});
    if (!source.ok()) return source.status();
    writes.push_back({Key(kSource, source_key), std::move(source).value()});
  }
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  STAFETT_RETURN_IF_ERROR(ApplyObserved(writes));
  if (pending) ++pending_;
  return Status::Ok();
}

Status AgentJournal::UpdateOutgoing(std::string_view message_id, const OutgoingChange& change) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Result<std::optional<core::OutgoingRecord>> loaded = GetOutgoing(message_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    return Status(Code::kNotFound, "no journal record " + std::string(message_id));
  }
  core::OutgoingRecord record = std::move(**loaded);
  bool was_pending = IsPending(record);
  if (!change(record)) return Status::Ok();
  // The record's id is its key: a change may not move it.
  record.message_id = std::string(message_id);
  bool is_pending = IsPending(record);
  Result<std::string> encoded = core::EncodeOutgoingRecord(record);
  if (!encoded.ok()) return encoded.status();
  std::vector<Write> writes;
  writes.push_back({Key(kOutgoing, message_id), std::move(encoded).value()});
  if (was_pending && !is_pending) writes.push_back({Key(kPending, message_id), std::nullopt});
  if (!was_pending && is_pending) writes.push_back({Key(kPending, message_id), std::string()});
  STAFETT_RETURN_IF_ERROR(ApplyObserved(writes));
  if (was_pending && !is_pending) --pending_;
  if (!was_pending && is_pending) ++pending_;
  return Status::Ok();
}

Result<std::optional<core::Envelope>> AgentJournal::GetEnvelope(std::string_view message_id) {
  return ReadRecord<core::Envelope>(ReadVisible(Key(kEnvelope, message_id)),
                                    core::DecodeStoredEnvelope);
}

Result<std::optional<core::SourceEntry>> AgentJournal::FindBySource(std::string_view source_key) {
  return ReadRecord<core::SourceEntry>(ReadVisible(Key(kSource, source_key)),
                                       core::DecodeSourceEntry);
}

Status AgentJournal::PutSource(std::string_view source_key, const core::SourceEntry& entry) {
  Result<std::string> encoded = core::EncodeSourceEntry(entry);
  if (!encoded.ok()) return encoded.status();
  return ApplyObserved({{Key(kSource, source_key), std::move(encoded).value()}});
}

std::vector<std::string> AgentJournal::PendingIds() {
  std::vector<std::string> ids;
  // The ids first, the records after: a visitor may not read the journal.
  Scan(kPending, [&](std::string_view key, std::string_view) {
    ids.emplace_back(key.substr(kPending.size()));
    return true;
  }).ok();
  if (in_batch()) {
    // What this thread's batch added to the pending index or took out of it.
    for (auto at = batch_view_.lower_bound(kPending);
         at != batch_view_.end() && std::string_view(at->first).starts_with(kPending); ++at) {
      std::string id = at->first.substr(kPending.size());
      auto known = std::find(ids.begin(), ids.end(), id);
      if (at->second.has_value() && known == ids.end()) ids.push_back(std::move(id));
      if (!at->second.has_value() && known != ids.end()) ids.erase(known);
    }
  }
  std::vector<std::pair<core::Micros, std::string>> found;
  found.reserve(ids.size());
  for (std::string& id : ids) {
    Result<std::optional<core::OutgoingRecord>> record = GetOutgoing(id);
    core::Micros created = record.ok() && record->has_value() ? (**record).created_at : 0;
    found.emplace_back(created, std::move(id));
  }
  std::sort(found.begin(), found.end());
  ids.clear();
  for (auto& [created, id] : found) ids.push_back(std::move(id));
  return ids;
}

Result<std::optional<core::ConsentRecord>> AgentJournal::GetConsent(std::string_view consent_id) {
  return ReadRecord<core::ConsentRecord>(ReadVisible(Key(kConsent, consent_id)),
                                         core::DecodeConsentRecord);
}

Status AgentJournal::PutConsent(const core::ConsentRecord& consent) {
  std::lock_guard<std::recursive_mutex> lock(consent_mutex_);
  core::ConsentRecord kept = consent;
  Result<std::optional<core::ConsentRecord>> known = GetConsent(consent.facts.consent_id);
  if (known.ok() && known->has_value() && (**known).facts.revoked && !consent.facts.revoked) {
    // A grant seen again (a redelivery after a lost journal, a resend's ACCEPTED) after the
    // revocation was learned, e.g. from the broker's index: the revocation stands.
    kept.facts.revoked = true;
    kept.revocation = (**known).revocation;
  }
  Result<std::string> encoded = core::EncodeConsentRecord(kept);
  if (!encoded.ok()) return encoded.status();
  return ApplyObserved({{Key(kConsent, kept.facts.consent_id), std::move(encoded).value()}});
}

Result<bool> AgentJournal::WasReceived(std::string_view message_id) {
  Result<std::optional<std::string>> stored = ReadVisible(Key(kReceived, message_id));
  if (!stored.ok()) return stored.status();
  return stored->has_value();
}

Result<std::optional<core::ReceivedRecord>> AgentJournal::GetReceived(std::string_view message_id) {
  return ReadRecord<core::ReceivedRecord>(ReadVisible(Key(kReceived, message_id)),
                                          core::DecodeReceivedRecord);
}

Status AgentJournal::MarkReceived(std::string_view message_id,
                                  const core::ReceivedRecord& received) {
  Result<std::string> encoded = core::EncodeReceivedRecord(received);
  if (!encoded.ok()) return encoded.status();
  return ApplyObserved({{Key(kReceived, message_id), std::move(encoded).value()}});
}

}  // namespace stafett::store
