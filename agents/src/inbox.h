// Inbox: the receiving side — verify a delivered envelope against the directory, decrypt it
// with the key set its wrapped key names, validate the body and that it agrees with the signed
// header, check the route and consent again (core::CheckRoute) against this agent's consent table,
// write inbox/<message_id>.json
// atomically, and only then produce the signed DELIVERED. Receipts become delivery_receipt
// documents. Thread-safety: called on the connection thread only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent_config.h"
#include "connection.h"
#include "file_system.h"
#include "inbox_files.h"
#include "metrics.h"
#include "stafett/core/clock.h"
#include "stafett/core/pseudonym.h"
#include "stafett/store/agent_journal.h"
#include "trust.h"

namespace stafett::agent {

class ConsentSync;
class Storage;

class Inbox {
 public:
  Inbox(const AgentConfig& config, const Trust& trust, const core::PseudonymKey& pseudonym_key,
        store::AgentJournal& journal, Metrics& metrics, const core::Clock& clock,
        FileSystem& files = PosixFileSystem());

  core::Status Prepare() const;
  // Until SYNC is settled a delivery under a consent this agent does not know is left
  // unanswered (the broker delivers it again) rather than rejected CONSENT_REQUIRED.
  void set_consent_sync(ConsentSync* sync) { consent_sync_ = sync; }
  // Told the outcome of inbox writes (a full disk).
  void set_storage(Storage* storage) { storage_ = storage; }
  // DELIVERED or REJECTED for one DELIVER; nullopt when the inbox could not be written now.
  std::optional<ConnectionHandler::Reply> Deliver(const nlohmann::json& meta,
                                                  const core::Envelope& envelope);
  // Writes inbox/receipt-<message_id>-<recipient>.json; true once durable (or already there,
  // or collected in the burst).
  bool WriteReceipt(const nlohmann::json& receipt);
  // Group commit (InboxFiles::BeginBurst): the burst's inbox files are collected, then written
  // durably together and their ids recorded in the journal's batch by FinishBurst.
  void BeginBurst();
  core::Status FinishBurst();

 private:
  ConnectionHandler::Reply Reject(const nlohmann::json& meta, const std::string& message_id,
                                  const core::Status& why);
  ConnectionHandler::Reply Delivered(const nlohmann::json& meta, const core::Header& header);
  // The body against the header.
  core::Status CheckAgainstHeader(const core::Header& header, const nlohmann::json& body);
  // core::CheckRoute — the broker's one rules check — again, on the signed header, the
  // directory's kinds and the consent as this agent's journal knows it. Only `ref` is taken as
  // the broker checked it (the agent keeps no index of earlier messages). A journal that cannot
  // be read gives kIoError (the delivery is left unanswered).
  core::Status CheckRoute(const core::Header& header);
  void LearnConsent(const core::Header& header);
  // DOCUMENT as the inbox file holds it: itself ([inbox] format "stafett") or its FHIR bundle.
  core::Result<std::string> InboxText(const nlohmann::json& document) const;

  const AgentConfig& config_;
  const Trust& trust_;
  const core::PseudonymKey& pseudonym_key_;
  store::AgentJournal& journal_;
  InboxFiles files_;  // the inbox folder: file first, journal second
  Metrics& metrics_;
  const core::Clock& clock_;
  ConsentSync* consent_sync_ = nullptr;
  Storage* storage_ = nullptr;
};

}  // namespace stafett::agent
