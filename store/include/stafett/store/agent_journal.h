// AgentJournal: the agent's durable memory over the typed journal records (docs/STORAGE.md,
// "Records"; docs/AGENT.md, "The journal"): each outgoing message (core::OutgoingRecord) with
// the sealed envelope a resend repeats byte for byte, the index of file drops (source key →
// core::SourceEntry), the consents the agent knows (core::ConsentRecord) and the ids already
// written to the inbox (core::ReceivedRecord). The verbs and their rules live here, once, over a
// few byte-level primitives each implementation provides (RocksDB, in-memory, fault-injecting),
// so all of them behave alike; tests/store/agent_journal_conformance_test.cc holds them to it.
// Group commit: between BeginBatch() and CommitBatch() (or AbortBatch()) the writes of the
// thread that began the batch are collected — its own reads see them — and CommitBatch() makes
// them durable in one synced write (docs/AGENT.md, "Group commit").
// Thread-safety: every method may be called from any thread. AddOutgoing/UpdateOutgoing are
// serialised under one mutex (a read-modify-write of a record and its pending index), PutConsent
// under another; a batch holds both from BeginBatch to its end, so the other threads' writers
// wait for it, while their readers see the journal as last committed. set_write_observer()
// before any thread writes.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "stafett/core/envelope.h"
#include "stafett/core/records/consent_record.h"
#include "stafett/core/records/outgoing_record.h"
#include "stafett/core/records/received_record.h"
#include "stafett/core/records/source_entry.h"
#include "stafett/core/records/store_format.h"
#include "stafett/core/status.h"

namespace stafett::store {

class AgentJournal {
 public:
  virtual ~AgentJournal() = default;
  AgentJournal(const AgentJournal&) = delete;
  AgentJournal& operator=(const AgentJournal&) = delete;

  // The outgoing record of MESSAGE_ID, if any.
  core::Result<std::optional<core::OutgoingRecord>> GetOutgoing(std::string_view message_id);
  // Writes a new outgoing record with its envelope and (if not empty) its source key, in one
  // synced write. The record is in the pending index while its state is pending.
  core::Status AddOutgoing(const core::OutgoingRecord& record, const core::Envelope& envelope,
                           std::string_view source_key);
  // Read-modify-write of an outgoing record under the mutex; CHANGE returns false to leave it
  // as it was. Keeps the pending index in step with the state. NOT_FOUND without such a record;
  // INTERNAL (nothing written) if the changed record breaks the record's rules.
  using OutgoingChange = std::function<bool(core::OutgoingRecord&)>;
  core::Status UpdateOutgoing(std::string_view message_id, const OutgoingChange& change);
  core::Result<std::optional<core::Envelope>> GetEnvelope(std::string_view message_id);

  // The message given to the file drop SOURCE_KEY (a keyed hash of its name and content), if
  // any, and recording it alone (a document refused before it got an envelope).
  core::Result<std::optional<core::SourceEntry>> FindBySource(std::string_view source_key);
  core::Status PutSource(std::string_view source_key, const core::SourceEntry& entry);

  // Ids of the pending outgoing messages, oldest (created_at, then id) first.
  std::vector<std::string> PendingIds();
  size_t pending_count() const { return pending_.load(); }

  // The consents this agent knows, by consent id (from the consent events it sent and received,
  // or from the broker's index: ConsentSync). A consent stored as revoked stays revoked whatever
  // is put later (revocation is final); the revocation event it had is kept.
  core::Result<std::optional<core::ConsentRecord>> GetConsent(std::string_view consent_id);
  core::Status PutConsent(const core::ConsentRecord& consent);

  // Incoming messages already written to the inbox.
  core::Result<bool> WasReceived(std::string_view message_id);
  core::Result<std::optional<core::ReceivedRecord>> GetReceived(std::string_view message_id);
  core::Status MarkReceived(std::string_view message_id, const core::ReceivedRecord& received);

  // Retention (docs/PRIVACY.md, "At the agents"; agents/src/retention.h decides what goes). The
  // ForEach verbs visit the records in key order until VISIT returns false; VISIT must not call
  // back into the journal. A record that does not decode is skipped (it is never removed).
  using OutgoingVisitor = std::function<bool(const core::OutgoingRecord&)>;
  using SourceVisitor = std::function<bool(std::string_view key, const core::SourceEntry&)>;
  using ReceivedVisitor =
      std::function<bool(std::string_view message_id, const core::ReceivedRecord&)>;
  core::Status ForEachOutgoing(const OutgoingVisitor& visit);
  core::Status ForEachSource(const SourceVisitor& visit);
  core::Status ForEachReceived(const ReceivedVisitor& visit);
  // Removes MESSAGE_ID's outgoing record, its envelope and those of SOURCE_KEYS that still name
  // it, in one synced write, if REMOVABLE still holds for the record as it is now (read again
  // under the mutex: a receipt may have come in between). A pending record is never removed,
  // whatever REMOVABLE says. True when removed; false when kept or gone already.
  using OutgoingRule = std::function<bool(const core::OutgoingRecord&)>;
  core::Result<bool> RemoveOutgoing(std::string_view message_id, const OutgoingRule& removable,
                                    const std::vector<std::string>& source_keys);
  // Removes the received record of MESSAGE_ID (ok when there is none).
  core::Status RemoveReceived(std::string_view message_id);

  // Called with the outcome of every record write (ok, or the error): how the agent learns that
  // its disk is full (STORAGE_FULL) and that it takes writes again.
  void set_write_observer(std::function<void(const core::Status&)> observer) {
    observer_ = std::move(observer);
  }
  // After a failed write RocksDB refuses every further one; once space is back this makes it
  // write again. Ok if it was not stopped.
  virtual core::Status Resume() = 0;

  // Starts collecting this thread's writes (not nested). Blocks while another thread's batch
  // or read-modify-write is under way.
  void BeginBatch();
  // Applies the collected writes in one synced write and ends the batch. On an error nothing
  // of the batch is written and the pending count is recounted from the journal.
  core::Status CommitBatch();
  // Drops the collected writes and ends the batch.
  void AbortBatch();
  bool in_batch() const { return batch_owner_.load() == std::this_thread::get_id(); }

  // Replaces the recorded format (docs/STORAGE.md, "Format version"): for tests of the refusal.
  core::Status OverwriteStoreFormat(const core::StoreFormat& format);

 protected:
  AgentJournal() = default;

  // One key's new value, or its deletion (nullopt).
  struct Write {
    std::string key;
    std::optional<std::string> value;
  };
  using EntryVisitor = std::function<bool(std::string_view key, std::string_view value)>;

  // The byte-level primitives. Keys are as docs/STORAGE.md ("The agent journal") lists them.
  virtual core::Result<std::optional<std::string>> Read(std::string_view key) = 0;
  // All of WRITES or none, durable (synced) before it returns ok.
  virtual core::Status Apply(const std::vector<Write>& writes) = 0;
  // Visits the keys starting with PREFIX in key order until VISIT returns false. VISIT must not
  // call back into the journal.
  virtual core::Status Scan(std::string_view prefix, const EntryVisitor& visit) = 0;

  // Checks the recorded format against this build's (writing it into a new, empty journal) and
  // counts the pending messages. Implementations call it once, at open; WHERE names the journal
  // in the error.
  core::Status Initialise(std::string_view where);

 private:
  core::Status Observed(core::Status status);
  // Apply, or collected into this thread's batch.
  core::Status ApplyObserved(const std::vector<Write>& writes);
  // Read, through this thread's batch.
  core::Result<std::optional<std::string>> ReadVisible(std::string_view key);
  void EndBatch();

  // Recursive: a batch holds them while its verbs take them again.
  std::recursive_mutex mutex_;          // serialises AddOutgoing/UpdateOutgoing
  std::recursive_mutex consent_mutex_;  // serialises PutConsent's read-modify-write
  std::atomic<std::thread::id> batch_owner_{};
  std::vector<Write> batch_;  // the batch's writes, in order (owner thread only)
  std::map<std::string, std::optional<std::string>, std::less<>> batch_view_;  // key → last
  std::atomic<size_t> pending_{0};
  std::function<void(const core::Status&)> observer_;
};

}  // namespace stafett::store
