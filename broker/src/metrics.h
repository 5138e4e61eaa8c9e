// Metrics: the broker's counters, gauges and histograms, rendered in Prometheus text format
// (names stafett_*, units in names, _total for counters). Labels carry endpoint ids, types and
// codes only — never a pseudonym, message id or anything personal.
// Thread-safety: every method is safe to call from any thread (one mutex; updates are rare
// relative to the work they describe).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace stafett::broker {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void Observe(double value);
  void Render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct EndpointGauges {
  bool connected = false;
  uint64_t queue_depth = 0;
  double oldest_undelivered_seconds = 0;
  double last_seen_seconds = 0;  // Unix time; 0 = never
};

class Metrics {
 public:
  Metrics();

  // Counters with labels: {type} or {code} or {endpoint}.
  void CountAccepted(const std::string& type);
  void CountRefused(const std::string& code);
  void CountDelivered(const std::string& endpoint, const std::string& type);
  void CountExpired(const std::string& endpoint);
  void CountWithheld(const std::string& endpoint, const std::string& code);
  void CountProtocolError(const std::string& reason);
  void CountRateLimited(const std::string& endpoint);
  // A HELLO took ENDPOINT's session from a connection that was still open.
  void CountSessionReplaced(const std::string& endpoint);
  void CountAuthFailure();
  void SetAuthFailures(uint64_t total);
  // Stored data that failed an integrity check or did not decode (Store::ReportCorruption).
  void SetStorageCorruptions(uint64_t total);
  // stafett_store_space_bytes{space}: the store's approximate bytes per key space.
  void SetSpaceBytes(std::map<std::string, uint64_t> bytes);
  void CountRedelivery();
  // Records the retention removed (docs/PRIVACY.md), by what: message_state, dead_letter.
  void CountRetention(const std::string& what, uint64_t count);
  // A group commit the store refused, by code (IO_ERROR: a failed write or fsync).
  void CountCommitError(const std::string& code);
  // Free bytes where the store keeps its files, and the floor below which new work is refused.
  void SetStorageSpace(uint64_t free_bytes, uint64_t min_free_bytes);
  // Seconds since the latest signed tree head, and audit records it does not cover yet.
  void SetTreeHead(double age_seconds, uint64_t unsigned_records);

  void ObserveCommit(double seconds, size_t events);
  void ObserveDeliveryLatency(double seconds);

  void SetEndpoints(std::map<std::string, EndpointGauges> gauges);
  void SetAuditSize(uint64_t size);
  // The SIEM feed (docs/SIEM.md): records confirmed by the collector, and committed records not
  // yet confirmed. Rendered once the feed reported.
  void SetSiem(uint64_t sent_total, uint64_t lag);
  void SetStorageFull(bool full);
  void SetReady(bool ready);
  bool ready() const;
  bool storage_full() const;

  std::string Render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> accepted_, refused_, protocol_errors_, rate_limited_;
  std::map<std::pair<std::string, std::string>, uint64_t> delivered_, withheld_;
  std::map<std::string, uint64_t> expired_, sessions_replaced_;
  std::map<std::string, uint64_t> commit_errors_;
  // Both kinds from 0, so that increase() sees the first removal.
  std::map<std::string, uint64_t> retention_{{"dead_letter", 0}, {"message_state", 0}};
  uint64_t free_bytes_ = 0, min_free_bytes_ = 0, unsigned_records_ = 0;
  bool space_known_ = false, head_known_ = false;
  double head_age_seconds_ = 0;
  std::map<std::string, uint64_t> space_bytes_;
  uint64_t auth_failures_ = 0, redeliveries_ = 0, audit_size_ = 0, storage_corruptions_ = 0;
  bool storage_full_ = false, ready_ = false;
  bool siem_enabled_ = false;
  uint64_t siem_sent_ = 0, siem_lag_ = 0;
  Histogram commit_seconds_, commit_events_, delivery_seconds_;
  std::map<std::string, EndpointGauges> endpoints_;
};

}  // namespace stafett::broker
