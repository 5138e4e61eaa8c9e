// SiemFeed: every committed audit record, in seq order, to a syslog collector as RFC 5424 over
// TCP with RFC 6587 octet-counting framing (docs/SIEM.md). The durable buffer is the audit log
// itself: the feed keeps only a cursor, the next seq to send, in a small file of the data dir,
// advanced once the collector's TCP stack has acknowledged every byte sent before it. After a
// disconnect or a restart it resends from there: at-least-once, the seq the idempotency key.
// Thread-safety: Committed() and Stop() from any thread; the feed sends on a thread of its own;
// the record source is called on that thread. The Format* functions are pure.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "broker_config.h"
#include "metrics.h"
#include "stafett/core/clock.h"
#include "stafett/core/random.h"
#include "stafett/core/status.h"

struct ssl_st;      // OpenSSL's SSL
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace stafett::broker {

// Facility authpriv (10): security and authorisation messages meant for a restricted log.
inline constexpr int kSiemFacility = 10;
// The SD-ID's enterprise number: 32473 is IANA's number reserved for documentation (RFC 5612).
inline constexpr char kSiemSdId[] = "stafett@32473";

struct SiemHeader {
  std::string hostname = "-";  // RFC 5424 NILVALUE when unknown
  std::string app_name = "stafett-broker";
  std::string procid = "-";
};

// PARAM-VALUE escaping (RFC 5424 section 6.3.3): '"', '\' and ']' get a backslash.
std::string EscapeSdParam(std::string_view value);
// A header field (HOSTNAME, APP-NAME, PROCID): printable US-ASCII without spaces, at most
// MAX_LENGTH characters; anything else becomes '_', an empty value the NILVALUE "-".
std::string SanitizeHeaderField(std::string_view value, size_t max_length);
// One RFC 5424 message for the canonical audit record RECORD_JSON: PRI, VERSION 1, the
// record's time, HEADER, MSGID the event, the structured data [stafett@32473 seq event type from
// to subject code message_id tree_size] and, as MSG, the canonical record itself (whose SHA-256
// leaf hash the audit log's Merkle tree proves). An error if RECORD_JSON is not a record.
core::Result<std::string> FormatSiemMessage(std::string_view record_json, const SiemHeader& header);
// RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG.
std::string FrameOctetCounted(std::string_view message);

class SiemFeed {
 public:
  // The committed canonical record at SEQ; nullopt when there is none.
  using RecordSource = std::function<core::Result<std::optional<std::string>>(uint64_t seq)>;

  struct Options {
    std::string address;                // host:port of the collector
    std::filesystem::path cursor_file;  // the durable cursor (data_dir/siem.cursor)
    SiemHeader header;
    // RFC 5425: TLS (1.2 or newer) to the collector, its certificate checked against CA_FILE
    // and the address's host (a DNS name or an IP address in the certificate's SAN).
    bool tls = false;
    std::filesystem::path ca_file;
    size_t max_batch = 256;  // records written before waiting for their acknowledgement
    std::chrono::milliseconds ack_timeout{10000};  // no acknowledgement by then: reconnect
    // After a reconnect, records confirmed this shortly before the connection was lost are sent
    // again: the collector's kernel acknowledged them, but a collector stopped right then may
    // not have read them from its socket.
    std::chrono::milliseconds replay_window{10000};
  };

  // Reads the cursor (0 if the file does not exist; an error if it does not parse) and starts
  // the thread. Nothing is sent before the first Committed().
  static core::Result<std::unique_ptr<SiemFeed>> Start(Options options, RecordSource source,
                                                       const core::Clock& clock,
                                                       core::RandomSource& random,
                                                       Metrics* metrics);
  ~SiemFeed();  // Stop()
  SiemFeed(const SiemFeed&) = delete;
  SiemFeed& operator=(const SiemFeed&) = delete;

  // The audit log holds AUDIT_SIZE committed records: the feed sends up to there.
  void Committed(uint64_t audit_size);
  // Ends the thread: what was not confirmed is resent by the next start.
  void Stop();

  uint64_t cursor() const { return cursor_.load(); }

 private:
  SiemFeed(Options options, RecordSource source, const core::Clock& clock,
           core::RandomSource& random, Metrics* metrics);
  void Loop();
  // Connects, then sends until stopped or the connection fails.
  void RunConnection(int fd);
  core::Result<int> Connect();
  // The TLS handshake on FD (Options::tls); sets ssl_.
  core::Status StartTls(int fd);
  // Writes all of DATA to FD (through ssl_ when set) by UNTIL.
  core::Status WriteAll(int fd, std::string_view data, core::MonotonicTime until);
  // After FD polled readable on an idle connection: false when the collector closed it.
  bool StillOpen(int fd);
  // Waits up to TIMEOUT for a wake-up (Committed, Stop) or, with FD >= 0, for FD to have
  // something to read or to close. True when FD did.
  bool Wait(int fd, std::chrono::milliseconds timeout);
  core::Status SendBatch(int fd, uint64_t from, uint64_t to);
  core::Status PersistCursor(uint64_t next);
  void UpdateMetrics();  // any thread

  Options options_;
  RecordSource source_;
  const core::Clock& clock_;
  core::RandomSource& random_;
  Metrics* metrics_;
  int wake_fd_ = -1;  // eventfd: Committed and Stop write, the thread polls
  std::atomic<uint64_t> audit_size_{0};
  std::atomic<uint64_t> cursor_{0};  // durable: everything below it was confirmed
  std::atomic<bool> stop_{false};
  uint64_t next_ = 0;  // the next seq to write on the current connection (feed thread only)
  std::atomic<uint64_t> sent_total_{0};
  // Batches confirmed on the current connection, oldest first: (when, first seq).
  std::vector<std::pair<core::MonotonicTime, uint64_t>> confirmed_;
  ssl_ctx_st* tls_context_ = nullptr;  // with Options::tls
  ssl_st* ssl_ = nullptr;              // the current connection's TLS (feed thread only)
  std::mutex stop_mutex_;
  std::thread thread_;
};

class AuditLog;

// The feed's options from broker.toml: [siem] address and app_name, the cursor in the data dir,
// this host's name and the process id in the header.
SiemFeed::Options SiemOptionsFor(const BrokerConfig& config);
// The committed records of AUDIT (AuditLog::RecordAt: reads the store, safe from the feed's
// thread).
SiemFeed::RecordSource SiemRecordSource(const AuditLog& audit);

}  // namespace stafett::broker
