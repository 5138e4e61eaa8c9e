// Journal: RocksDB with key prefixes m/ (outgoing records), e/ (envelopes), p/ (pending index),
// s/ (source key → id), c/ (consents), r/ (received ids). Every write is synced.
#include "journal.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {

constexpr std::string_view kOutgoing = "m/";
constexpr std::string_view kEnvelope = "e/";
constexpr std::string_view kPending = "p/";
constexpr std::string_view kSource = "s/";
constexpr std::string_view kConsent = "c/";
constexpr std::string_view kReceived = "r/";

std::string Key(std::string_view prefix, std::string_view id) {
  return std::string(prefix) + std::string(id);
}

Status FromRocks(const rocksdb::Status& status, const std::string& what) {
  if (status.ok()) return Status::Ok();
  if (status.IsNoSpace()) return Status(Code::kStorageFull, what + ": " + status.ToString());
  if (status.IsCorruption()) return Status(Code::kCorruption, what + ": " + status.ToString());
  return Status(Code::kIoError, what + ": " + status.ToString());
}

// RocksDB's own warnings and errors go to the agent's log instead of a LOG file in data_dir:
// on a full disk that file fails too, and Debian's RocksDB asserts (and the agent dies) on the
// next line written to a file whose write failed. Nothing of a document is in these lines.
class JournalLogger : public rocksdb::Logger {
 public:
  JournalLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list arguments) override {
    char line[512];
    std::vsnprintf(line, sizeof line, format, arguments);
    std::string text(line);
    for (char& c : text) {
      if (c == '"' || c == '\n') c = '\'';
    }
    spdlog::warn("event=journal_storage_engine message=\"{}\"", text);
  }
};

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

std::string BigEndian64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

}  // namespace

std::string SourceKey(std::string_view name_key, const std::string& file_name,
                      std::string_view content) {
  std::string input = file_name;
  input.push_back('\0');
  input += core::Sha256(content);
  return core::ToHex(core::Blake2b256(input, name_key));
}

std::string OutboxNameKey(std::string_view pseudonym_key) {
  return core::Blake2b256("stafett agent outbox file names v1", pseudonym_key);
}

std::string EncodeEnvelope(const core::Envelope& envelope) {
  std::string out = BigEndian64(envelope.header_bytes.size());
  out += envelope.header_bytes;
  out += BigEndian64(envelope.signature.size());
  out += envelope.signature;
  out += envelope.payload;
  return out;
}

std::optional<core::Envelope> DecodeEnvelope(std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  uint64_t header_size = ReadBigEndian64(bytes.substr(0, 8));
  if (header_size > bytes.size() - 8 || bytes.size() - 8 - header_size < 8) return std::nullopt;
  uint64_t signature_size = ReadBigEndian64(bytes.substr(8 + header_size, 8));
  if (signature_size > bytes.size() - 16 - header_size) return std::nullopt;
  core::Envelope envelope;
  envelope.header_bytes = std::string(bytes.substr(8, header_size));
  envelope.signature = std::string(bytes.substr(16 + header_size, signature_size));
  envelope.payload = std::string(bytes.substr(16 + header_size + signature_size));
  return envelope;
}

Journal::Journal(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
Journal::~Journal() = default;

core::Result<std::unique_ptr<Journal>> Journal::Open(const std::filesystem::path& folder) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_open_files = 256;
  options.keep_log_file_num = 4;
  // After a write failed for want of space RocksDB would retry on its own in the background,
  // and its retry touches the write-ahead log that failed (an assertion in Debian's build
  // stops the agent). The agent resumes it itself once there is room (Storage::Check).
  options.max_bgerror_resume_count = 0;
  options.info_log = std::make_shared<JournalLogger>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, folder.string(), &raw);
  if (!opened.ok()) return FromRocks(opened, "journal " + folder.string());
  std::unique_ptr<Journal> journal(new Journal(std::unique_ptr<rocksdb::DB>(raw)));
  journal->pending_ = journal->PendingIds().size();
  return journal;
}

core::Result<std::optional<std::string>> Journal::Get(const std::string& key) {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return FromRocks(status, "journal read");
  return std::optional<std::string>(std::move(value));
}

Status Journal::Observed(Status status) {
  if (observer_) observer_(status);
  return status;
}

Status Journal::Put(const std::string& key, const std::string& value) {
  return Observed(FromRocks(db_->Put(Synced(), key, value), "journal write"));
}

Status Journal::Resume() { return FromRocks(db_->Resume(), "journal resume"); }

core::Result<std::optional<nlohmann::json>> Journal::GetOutgoing(const std::string& message_id) {
  core::Result<std::optional<std::string>> stored = Get(Key(kOutgoing, message_id));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<nlohmann::json>();
  nlohmann::json record = nlohmann::json::parse(**stored, nullptr, false);
  if (!record.is_object()) return Status(Code::kCorruption, "journal record " + message_id);
  return std::optional<nlohmann::json>(std::move(record));
}

Status Journal::AddOutgoing(const nlohmann::json& record, const core::Envelope& envelope,
                            const std::string& source_key) {
  std::string id = record.value("message_id", "");
  bool pending = record.value("state", "") == kStatePending;
  std::lock_guard<std::mutex> lock(mutex_);
  rocksdb::WriteBatch batch;
  batch.Put(Key(kOutgoing, id), record.dump());
  batch.Put(Key(kEnvelope, id), EncodeEnvelope(envelope));
  if (pending) batch.Put(Key(kPending, id), "");
  if (!source_key.empty()) batch.Put(Key(kSource, source_key), id);
  STAFETT_RETURN_IF_ERROR(Observed(FromRocks(db_->Write(Synced(), &batch), "journal write")));
  if (pending) ++pending_;
  return Status::Ok();
}

Status Journal::UpdateOutgoing(const std::string& message_id,
                               const std::function<bool(nlohmann::json&)>& change) {
  std::lock_guard<std::mutex> lock(mutex_);
  core::Result<std::optional<nlohmann::json>> loaded = GetOutgoing(message_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return Status(Code::kNotFound, "no journal record " + message_id);
  nlohmann::json record = std::move(**loaded);
  bool was_pending = record.value("state", "") == kStatePending;
  if (!change(record)) return Status::Ok();
  bool is_pending = record.value("state", "") == kStatePending;
  rocksdb::WriteBatch batch;
  batch.Put(Key(kOutgoing, message_id), record.dump());
  if (was_pending && !is_pending) batch.Delete(Key(kPending, message_id));
  if (!was_pending && is_pending) batch.Put(Key(kPending, message_id), "");
  STAFETT_RETURN_IF_ERROR(Observed(FromRocks(db_->Write(Synced(), &batch), "journal write")));
  if (was_pending && !is_pending) --pending_;
  if (!was_pending && is_pending) ++pending_;
  return Status::Ok();
}

core::Result<std::optional<core::Envelope>> Journal::GetEnvelope(const std::string& message_id) {
  core::Result<std::optional<std::string>> stored = Get(Key(kEnvelope, message_id));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<core::Envelope>();
  std::optional<core::Envelope> envelope = DecodeEnvelope(**stored);
  if (!envelope) return Status(Code::kCorruption, "journal envelope " + message_id);
  return envelope;
}

core::Result<std::optional<std::string>> Journal::FindBySource(const std::string& source_key) {
  return Get(Key(kSource, source_key));
}

Status Journal::PutSource(const std::string& source_key, const std::string& message_id) {
  return Put(Key(kSource, source_key), message_id);
}

std::vector<std::string> Journal::PendingIds() {
  std::vector<std::pair<int64_t, std::string>> found;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(kPending)); it->Valid() && it->key().starts_with(kPending);
       it->Next()) {
    std::string id = it->key().ToString().substr(kPending.size());
    core::Result<std::optional<nlohmann::json>> record = GetOutgoing(id);
    int64_t created = record.ok() && record->has_value() ? (**record).value("created_at", 0) : 0;
    found.emplace_back(created, id);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (auto& [created, id] : found) ids.push_back(std::move(id));
  return ids;
}

core::Result<std::optional<nlohmann::json>> Journal::GetConsent(const std::string& consent_id) {
  core::Result<std::optional<std::string>> stored = Get(Key(kConsent, consent_id));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<nlohmann::json>();
  nlohmann::json consent = nlohmann::json::parse(**stored, nullptr, false);
  if (!consent.is_object()) return Status(Code::kCorruption, "journal consent " + consent_id);
  return std::optional<nlohmann::json>(std::move(consent));
}

Status Journal::PutConsent(const std::string& consent_id, const nlohmann::json& consent) {
  std::lock_guard<std::mutex> lock(consent_mutex_);
  core::Result<std::optional<nlohmann::json>> known = GetConsent(consent_id);
  if (known.ok() && known->has_value() && (**known).value("revoked", false) &&
      !consent.value("revoked", false)) {
    // A grant seen again (a redelivery after a lost journal, a resend's ACCEPTED) after the
    // revocation was learned, e.g. from the broker's index: the revocation stands.
    nlohmann::json kept = consent;
    kept["revoked"] = true;
    return Put(Key(kConsent, consent_id), kept.dump());
  }
  return Put(Key(kConsent, consent_id), consent.dump());
}

core::Result<bool> Journal::WasReceived(const std::string& message_id) {
  core::Result<std::optional<std::string>> stored = Get(Key(kReceived, message_id));
  if (!stored.ok()) return stored.status();
  return stored->has_value();
}

Status Journal::MarkReceived(const std::string& message_id, const nlohmann::json& what) {
  return Put(Key(kReceived, message_id), what.dump());
}

}  // namespace stafett::agent
