// Broker: the store-and-forward core. One thread (the broker loop) owns the ROUTER socket and
// is the only writer to the store: it drains whatever peers sent, has the signatures checked
// (on a small worker pool: pure functions of the frames and the trust directory), handles each
// command, in the order received, into one pending cycle, commits the cycle as one fsynced
// store transaction (group commit, on the commit thread; meanwhile the loop receives and checks the
// next commands but stages nothing), then sends the replies and deliveries that the commit
// made true. Nothing is acknowledged before its commit.
// Threads: the broker loop (this class), the verify pool (WorkerPool), the commit thread
// (CommitThread), the ZAP handler (ZapAuthenticator), the HTTP server (reads Metrics only).
// Thread-safety: Run() on one thread; Metrics are thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "audit_log.h"
#include "broker_config.h"
#include "commit_thread.h"
#include "metrics.h"
#include "query_ops.h"
#include "recent_messages.h"
#include "siem_feed.h"
#include "stafett/core/clock.h"
#include "stafett/core/delivery_machine.h"
#include "stafett/core/envelope.h"
#include "stafett/core/protocol.h"
#include "stafett/core/records/consent_record.h"
#include "stafett/core/records/message_state.h"
#include "stafett/core/records/queue_entry.h"
#include "stafett/core/rules.h"
#include "stafett/core/token_bucket.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"
#include "stafett/store/broker_store.h"
#include "verify_pool.h"
#include "zap_authenticator.h"

namespace stafett::broker {

// An authenticated peer as the loop sees one message from it.
struct Peer {
  std::string routing_id;  // ROUTER's id for the connection
  std::string id;          // the principal, from ZAP's User-Id
  keys::Role role;
};

// One command as received, with what the verify pool found before the loop handles it.
struct Received {
  Peer peer;
  std::vector<std::string> frames;
  bool oversized = false;
  std::optional<core::Result<core::protocol::Message>> decoded;
  std::optional<core::Envelope> envelope;  // PUBLISH from an endpoint
  std::optional<PublishCheck> publish;     // PUBLISH from an endpoint
  std::optional<ReceiptCheck> receipt;     // DELIVERED from an endpoint, when its digest was found
};

// What a connected endpoint's agent has in flight.
struct InFlight {
  core::Micros sent_at = 0;
  int attempt = 0;
};

// An endpoint's session: the connection whose HELLO came last (newest HELLO wins,
// docs/PROTOCOL.md "Session"). Only that connection is delivered to and keeps it alive.
struct Session {
  std::string routing_id;
  bool connected = false;
  core::Micros last_seen = 0;
  size_t window = 64;
  std::map<uint64_t, InFlight> in_flight;  // queue seq → delivery
  uint64_t cursor = 0;                     // highest queue seq sent in this session
  // Connections a newer HELLO took the session from while they were still open, newest last
  // (at most kMaxReplacedConnections): answered SESSION_REPLACED whenever they speak.
  std::deque<std::string> replaced_routing_ids;
  uint64_t replaced = 0;         // such takeovers since the broker started
  core::Micros replaced_at = 0;  // the last one
};

// The writes of one group commit and what to do once they are durable (or have failed).
struct Cycle {
  store::BrokerTransaction transaction;
  size_t events = 0;
  struct Reply {
    std::string routing_id;
    std::vector<std::string> on_success, on_failure;
  };
  std::vector<Reply> replies;
  std::vector<std::function<void()>> on_commit;
  std::unordered_map<std::string, core::MessageState> messages;      // overlay of message states
  std::unordered_map<std::string, core::ConsentRecord> consents;     // overlay of consents
  std::set<std::pair<std::string, uint64_t>> removed_queue_entries;  // (endpoint, queue seq)
  std::set<std::string> wake;     // endpoints with new queue entries
  std::set<std::string> retired;  // message states this cycle deletes (retention)
  std::optional<core::CompactRange> audit_mark;
  uint64_t queue_seq_mark = 0;
  bool empty() const { return events == 0; }
};

// A message whose state the retention removed (docs/PRIVACY.md), as its `accepted` audit record
// tells it: enough for the rules that name it (`ref`), for dedup of its id, and for `track`.
struct RetiredMessage {
  uint64_t seq = 0;  // the acceptance's audit position
  std::string time;  // the acceptance's time, RFC 3339
  std::string type, from, subject, consent_id;
  std::vector<std::string> to;
};

class Broker {
 public:
  // Opens the RocksDB store in config.data_dir, or serves from STORE when one is given (tests:
  // the in-memory and fault-injecting stores).
  static core::Result<std::unique_ptr<Broker>> Create(
      const BrokerConfig& config, const core::Clock& clock,
      std::unique_ptr<store::BrokerStore> store = nullptr);
  ~Broker();

  // Binds and serves until STOP becomes true; finishes the cycle in flight, then returns.
  core::Status Run(const std::atomic<bool>& stop);

  Metrics& metrics() { return metrics_; }
  store::BrokerStore& store() { return *store_; }

 private:
  Broker(const BrokerConfig& config, const core::Clock& clock);

  // broker.cc: the loop.
  core::Status Bind();

  // ingress.cc: receiving, checking and handing out commands.
  // Receives up to MAX_MESSAGES commands without waiting, appending them to OUT.
  size_t ReceiveAvailable(size_t max_messages, std::vector<Received>* out);
  // Decodes and checks signatures of (*ITEMS)[FROM…] on the verify pool (reads only).
  void Precheck(std::vector<Received>* items, size_t from);
  void HandleReceived(Received& item);

  // commit_cycle.cc: the group commit and what it makes true.
  // Commits the pending cycle and waits (stop, or the sequential loop).
  core::Status CommitCycle();
  // The pending cycle becomes the one being committed; a new cycle begins.
  void SealCycle();
  // Replies, deliveries and counters once the sealed cycle's commit has STATUS.
  core::Status FinishCommit(core::Status status, double seconds);

  // broker.cc: timers, sending, gauges.
  void RunTimers(core::Micros now);
  // False only when ROUTING_ID's connection is gone (EHOSTUNREACH); a full pipe (EAGAIN) drops
  // the frames but the connection is there.
  bool Send(const std::string& routing_id, std::vector<std::string> frames);
  void SendError(const Peer& peer, core::Code code, const std::string& message);
  void PublishGauges(core::Micros now);
  void BeginCycleIfNeeded();

  // publish.cc: accepting a message.
  void HandlePublish(const Peer& peer, const core::Envelope& envelope, const PublishCheck& check);
  // The facts the rules decide on; an error when stored state could not be read.
  core::Result<core::RouteFacts> BuildRouteFacts(const core::Header& header, core::Micros now);
  void Accept(const Peer& peer, const core::Envelope& envelope, const core::Header& header,
              core::Micros now);
  // Takes one of ENDPOINT's publish tokens; false when it has none left (rate limited).
  bool TakePublishToken(const std::string& endpoint);
  // A PUBLISH over the limit is dropped where it is received, unread: counted, and answered
  // (REFUSED UNAVAILABLE, without a message id) at most once a second per endpoint.
  void DropOverRate(const Peer& peer, core::Micros now);
  void Refuse(const Peer& peer, const std::string& message_id, const core::Status& status,
              const core::Header* header, core::Micros now);

  // dispatcher.cc: sessions, delivery, acknowledgements (expiry.cc: expiry and withholding).
  void HandleHello(const Peer& peer, const core::protocol::Message& message);
  // PEER's HELLO takes SESSION over from another connection: the old one, if still open, is
  // told SESSION_REPLACED, logged and counted.
  void ReplaceSession(const Peer& peer, Session& session);
  // True when PEER speaks on a connection whose session a newer HELLO took over; everything
  // but HELLO and the answers to deliveries it already received is then refused.
  bool OnReplacedConnection(const Peer& peer, const core::protocol::Message& message);
  // PRECHECK: the receipt's signature checked on the pool, if it was.
  void HandleDelivered(const Peer& peer, const core::protocol::Message& message,
                       const ReceiptCheck* precheck);
  void HandleRejected(const Peer& peer, const core::protocol::Message& message);
  // The message a DELIVERED or REJECTED (COMMAND) for DELIVERY names, when that delivery is
  // still queued for PEER: nullopt for a repeat, or after PROTOCOL_ERROR (counted under METRIC)
  // when the delivery holds another message or a receipt.
  std::optional<core::MessageState> AnsweredMessage(const Peer& peer, uint64_t delivery,
                                                    const std::string& message_id,
                                                    std::string_view command,
                                                    std::string_view metric);
  void HandleAck(const Peer& peer, const core::protocol::Message& message);
  void Dispatch(const std::string& endpoint, core::Micros now);
  void Redeliver(core::Micros now);
  void ExpireDue(core::Micros now);
  // Retention: removes the finished MESSAGE_ID's state and dead letters (its expiry-index key
  // DUE) when the sender has acknowledged every receipt; otherwise looks again a grace period
  // later. Returns whether it removed them, counting its dead letters into DEAD_LETTERS.
  bool Retire(const std::string& message_id, const core::MessageState& state, core::Micros due,
              core::Micros now, uint64_t* dead_letters);
  // The oldest entry in ENDPOINT's queue, if any (committed state).
  std::optional<core::QueueEntry> OldestQueueEntry(const std::string& endpoint);
  void WithholdUnderConsent(const std::string& consent_id, core::Code code, core::Micros now);
  // Ends delivery of MESSAGE_ID to RECIPIENT with OUTCOME (delivered, withheld, expired or
  // rejected: core/delivery_machine.h), doing the actions the machine names for it. A
  // delivered outcome carries the recipient's receipt (key id, raw signature).
  void FinishRecipient(const std::string& message_id, core::MessageState& state,
                       const std::string& recipient, core::delivery::State outcome, core::Code code,
                       core::Micros now, std::string receipt_key = "",
                       std::string receipt_signature = "");
  uint64_t EnqueueEntry(const std::string& endpoint, const core::QueueEntry& entry);
  // The committed queue entry, unless this cycle removed it; nullopt when absent or unreadable.
  std::optional<core::QueueEntry> PendingQueueEntry(const std::string& endpoint,
                                                    uint64_t queue_seq);
  void RemoveQueueEntry(const std::string& endpoint, uint64_t queue_seq);

  // state.cc: reads through the cycle's overlay.
  core::Result<std::optional<core::MessageState>> LoadMessage(const std::string& message_id);
  void StoreMessage(const std::string& message_id, core::MessageState state);
  // Visits the audit records of MESSAGE_ID's trail in log order, each read and parsed (an
  // object with an `event`); a record missing or not JSON stops it with CORRUPTION.
  core::Status ScanMessageRecords(
      const std::string& message_id,
      const std::function<bool(uint64_t seq, const nlohmann::json& record)>& visit);
  // For a message id without a state: its acceptance from the audit log, if it was ever
  // accepted (its state since removed by the retention); nullopt for an id never accepted.
  core::Result<std::optional<RetiredMessage>> FindRetired(const std::string& message_id);
  core::Result<std::optional<core::ConsentRecord>> LoadConsentRecord(const std::string& consent_id);
  core::Result<std::optional<core::ConsentFacts>> LoadConsent(const std::string& consent_id);
  void StoreConsent(core::ConsentRecord record);
  uint64_t AppendAudit(core::Micros now, const AuditRecord& record);
  core::Status RecoverCounters();

  // query_service.cc: operators, auditors and agents asking questions. query_ops.h's table
  // names, for each op, who may ask it and which of the Op handlers below answers it.
  friend const std::vector<QueryOp>& QueryOps();
  void HandleQuery(const Peer& peer, const core::protocol::Message& message);
  std::optional<nlohmann::json> OpStatus(const QueryRequest& request);
  std::optional<nlohmann::json> OpTrack(const QueryRequest& request);
  std::optional<nlohmann::json> OpQueues(const QueryRequest& request);
  std::optional<nlohmann::json> OpTrail(const QueryRequest& request);
  std::optional<nlohmann::json> OpHead(const QueryRequest& request);
  std::optional<nlohmann::json> OpRecords(const QueryRequest& request);
  std::optional<nlohmann::json> OpInclusion(const QueryRequest& request);
  std::optional<nlohmann::json> OpConsistency(const QueryRequest& request);
  std::optional<nlohmann::json> OpConsents(const QueryRequest& request);
  std::optional<nlohmann::json> OpPartyConsents(const QueryRequest& request);
  std::optional<nlohmann::json> OpBackup(const QueryRequest& request);
  nlohmann::json QueryStatus(core::Micros now);
  nlohmann::json QueryTrack(const std::string& message_id);
  // What waits in each endpoint's queue (oldest first) and the deliveries that ended without
  // delivery (newest first), both bounded: metadata only (docs/PROTOCOL.md, "Queries").
  nlohmann::json QueryQueues(const nlohmann::json& query, core::Micros now);
  nlohmann::json QueryTrail(const Peer& peer, const nlohmann::json& query, core::Micros now);
  nlohmann::json QueryConsents(const Peer& peer, const nlohmann::json& query, core::Micros now);
  // Every consent the asking endpoint is a party of, in consent id order, a bounded page at a
  // time (an agent rebuilding its consent table: docs/AGENT.md, "Backing up and recovering").
  nlohmann::json QueryPartyConsents(const Peer& peer, const nlohmann::json& query);

  BrokerConfig config_;
  const core::Clock& clock_;
  Metrics metrics_;
  keys::TrustDirectory directory_;
  std::vector<keys::KeySet> key_sets_;
  std::unique_ptr<store::BrokerStore> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<SiemFeed> siem_;  // null unless [siem] is configured; reads audit_
  zmq::context_t context_;
  std::unique_ptr<ZapAuthenticator> zap_;
  std::unique_ptr<zmq::socket_t> router_;

  // Committed message states kept decoded: enough for every message in flight at the credit
  // windows of a county's endpoints, ~5 MB.
  static constexpr size_t kRecentMessages = 8192;
  Cycle cycle_;
  Cycle committing_;  // sealed, being committed
  RecentMessages recent_messages_{kRecentMessages};
  // Queries received while a cycle was pending, answered after its commit.
  std::vector<std::pair<Peer, core::protocol::Message>> deferred_queries_;
  std::unique_ptr<WorkerPool> verify_pool_;
  std::unique_ptr<CommitThread> commit_thread_;  // null: commit on the loop (sequential)
  uint64_t queue_seq_ = 0;  // last queue seq used (recovered from the queues at start)
  std::unordered_map<std::string, Session> sessions_;           // endpoint id → session
  std::unordered_map<std::string, uint64_t> queue_depth_;       // endpoint id → entries
  std::unordered_map<std::string, uint64_t> oldest_queue_seq_;  // where OldestQueueEntry seeks
  core::Micros last_head_at_ = 0;  // when the latest head was signed (0: none since start)
  uint64_t last_head_size_ = UINT64_MAX;
  core::Micros last_timers_at_ = 0;
  bool storage_full_ = false;
  // Failed commits since start, by code (STORAGE_FULL, IO_ERROR, …): status and metrics.
  std::map<std::string, uint64_t> commit_errors_;
  bool storage_failed_ = false;  // a commit failed and RocksDB cannot resume: Run returns
  struct PublishBudget {
    core::TokenBucket bucket;
    bool limited = false;           // logged once per stretch over the limit
    core::Micros answered_at = -1;  // the last REFUSED sent for a dropped publish
  };
  std::unordered_map<std::string, PublishBudget> publish_budgets_;  // endpoint id → its budget
};

}  // namespace stafett::broker
