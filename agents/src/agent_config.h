// AgentConfig: the values of agent.toml (docs/DESIGN.md), loaded with errors that name the file
// and the key. Thread-safety: a loaded AgentConfig is an immutable value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "stafett/core/status.h"

namespace stafett::agent {

struct AgentConfig {
  std::filesystem::path config_file;
  std::string id;          // this endpoint's id, e.g. "flen.school"
  std::string broker_zmq;  // "tcp://127.0.0.1:7700"
  std::string http_bind;   // "127.0.0.1:7710"; empty: no local API
  std::string http_token;  // bearer token for the local API: http_token, or http_token_file's
                           // content; required when http_bind is not loopback
  std::filesystem::path keys_dir;
  std::filesystem::path trust_directory;
  std::filesystem::path pseudonym_key;
  std::filesystem::path outbox;
  std::filesystem::path inbox;
  std::filesystem::path data_dir;  // the journal
  int64_t max_document_bytes = 8 * 1024 * 1024;
  int64_t default_ttl_seconds = 7 * 24 * 3600;
  int64_t credit = 64;                   // deliveries the broker may have in flight to us
  int64_t http_wait_millis = 5000;       // how long POST waits for the broker's answer
  int64_t resend_after_seconds = 15;     // pending publishes are sent again after this
  int64_t reconnect_min_millis = 200;    // first reconnect delay
  int64_t reconnect_max_millis = 10000;  // cap of the exponential backoff
  int64_t rescan_seconds = 30;           // safety rescan of the outbox
  // Backpressure: the outbox watcher takes new files only while fewer messages than this wait
  // for the broker; the rest wait where they lie (durable) and are taken as the backlog drains.
  int64_t max_pending = 10000;
  // Below this many free bytes in data_dir, inbox or outbox the agent takes no new documents
  // (STORAGE_FULL) and /readyz answers 503; 0: no floor (a failed write still counts).
  int64_t min_free_bytes = 64 * 1024 * 1024;
  // What inbox/<message_id>.json holds ([inbox] format): "stafett", the inbox document
  // (CONTRACT.md), or "fhir", the same as a FHIR R4 Bundle (docs/FHIR.md).
  std::string inbox_format = "stafett";
  // Whether receipts become inbox/receipt-<id>-<recipient>.json ([inbox] receipt_files): a
  // local system that polls GET /v1/messages/{id} for the outcome may switch them off; the
  // journal records every receipt either way.
  bool receipt_files = true;
  // [retention] (docs/PRIVACY.md, "At the agents"): outbox/sent/, outbox/rejected/ and the
  // journal's finished records are removed this many days after the hand-over; 0 keeps them.
  int64_t retention_finished_days = 30;
  // Inbox files the local system has left are removed this many days after they were written;
  // 0 (the default): never, the inbox is the local system's.
  int64_t retention_inbox_taken_days = 0;
  std::string log_format = "human";
  std::string log_level = "info";
};

// Reads FILE. Errors: kConfigInvalid naming file and key (an unknown key too; a non-loopback
// http_bind without a token).
core::Result<AgentConfig> LoadAgentConfig(const std::filesystem::path& file);

// Whether HOST:PORT binds to loopback only (127.0.0.0/8, ::1, localhost).
bool IsLoopbackBind(const std::string& bind);
// The token in FILE (trailing whitespace dropped): mode 0600 or stricter, 16 characters or more.
core::Result<std::string> ReadTokenFile(const std::filesystem::path& file);

}  // namespace stafett::agent
