// Journal: the agent's durable memory in RocksDB (data_dir), every write synced. It holds each
// outgoing message (state, source files, the sealed envelope so a resend is byte-identical),
// the index of source file + content digest → message id, the consents this agent knows, and
// the ids already written to the inbox. Layout and states: docs/AGENT.md.
// Thread-safety: all methods are safe to call from any thread; Update() serialises
// read-modify-write of one record under the journal's mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stafett/core/envelope.h"
#include "stafett/core/status.h"

namespace rocksdb {
class DB;
}

namespace stafett::agent {

// Outgoing states. kPending is the only one that is (re)sent.
inline constexpr std::string_view kStatePending = "pending";
inline constexpr std::string_view kStateAccepted = "accepted";
inline constexpr std::string_view kStateRefused = "refused";

class Journal {
 public:
  static core::Result<std::unique_ptr<Journal>> Open(const std::filesystem::path& folder);
  ~Journal();

  // The record of an outgoing message: {"message_id","state","type","to","code"?,"message"?,
  // "digest","recipients":{id: status},"created_at"}. Outbox file names are never stored.
  core::Result<std::optional<nlohmann::json>> GetOutgoing(const std::string& message_id);
  // Writes a new outgoing record with its envelope and (if not empty) its source key, one
  // synced batch. The record is pending when its state is kStatePending.
  core::Status AddOutgoing(const nlohmann::json& record, const core::Envelope& envelope,
                           const std::string& source_key);
  // Read-modify-write of an outgoing record under the mutex; CHANGE returns false to leave it.
  // Keeps the pending index in step with "state". kNotFound if there is no such record.
  core::Status UpdateOutgoing(const std::string& message_id,
                              const std::function<bool(nlohmann::json&)>& change);
  core::Result<std::optional<core::Envelope>> GetEnvelope(const std::string& message_id);
  // The message id recorded for SOURCE_KEY (keyed hash of outbox name + content), if any.
  core::Result<std::optional<std::string>> FindBySource(const std::string& source_key);
  // Records SOURCE_KEY → MESSAGE_ID alone (a document refused before it got an envelope).
  core::Status PutSource(const std::string& source_key, const std::string& message_id);
  // Message ids in state pending, oldest first.
  std::vector<std::string> PendingIds();
  size_t pending_count() const { return pending_.load(); }

  // Consents known to this agent (from consent_granted it sent or received, or from the
  // broker's consent index after a restart: ConsentSync), by consent id. A consent stored as
  // revoked stays revoked whatever is put later (revocation is final).
  core::Result<std::optional<nlohmann::json>> GetConsent(const std::string& consent_id);
  core::Status PutConsent(const std::string& consent_id, const nlohmann::json& consent);

  // Incoming message ids already written to the inbox.
  core::Result<bool> WasReceived(const std::string& message_id);
  core::Status MarkReceived(const std::string& message_id, const nlohmann::json& what);

  // Called with the outcome of every write (ok, or the error): how the agent learns that its
  // disk is full (kStorageFull) and that it takes writes again. Set before any thread writes.
  void set_write_observer(std::function<void(const core::Status&)> observer) {
    observer_ = std::move(observer);
  }
  // After a failed write RocksDB refuses every further one; once space is back this makes it
  // write again (rocksdb::DB::Resume). Ok if it was not stopped.
  core::Status Resume();

 private:
  explicit Journal(std::unique_ptr<rocksdb::DB> db);
  core::Result<std::optional<std::string>> Get(const std::string& key);
  core::Status Put(const std::string& key, const std::string& value);
  core::Status Observed(core::Status status);

  std::unique_ptr<rocksdb::DB> db_;
  std::mutex mutex_;          // serialises UpdateOutgoing/AddOutgoing
  std::mutex consent_mutex_;  // serialises PutConsent's read-modify-write
  std::atomic<size_t> pending_{0};
  std::function<void(const core::Status&)> observer_;
};

// Identifies one file drop without keeping its name (integrators put names and numbers in
// file names): hex keyed BLAKE2b-256 over the name and the SHA-256 of the content. NAME_KEY is
// a secret of this agent (OutboxNameKey), so the name cannot be guessed back from the hash.
std::string SourceKey(std::string_view name_key, const std::string& file_name,
                      std::string_view content);
// The key SourceKey uses, derived from the agent's pseudonym key (another purpose, another key).
std::string OutboxNameKey(std::string_view pseudonym_key);

// The envelope as stored: be64 header size, header, be64 signature size, signature, payload.
std::string EncodeEnvelope(const core::Envelope& envelope);
std::optional<core::Envelope> DecodeEnvelope(std::string_view bytes);

}  // namespace stafett::agent
