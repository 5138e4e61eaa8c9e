// Metrics: counting and Prometheus text rendering.
#include "metrics.h"

#include <cstdio>

namespace stafett::broker {
namespace {

std::string Number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

// Label values are endpoint ids, types and codes: [a-z0-9._-] and upper case; escape anyway.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

// A metric with one series and no labels.
void Single(std::string* out, const char* name, const char* type, const char* help,
            const std::string& value) {
  Header(out, name, type, help);
  *out += std::string(name) + " " + value + "\n";
}

void Labelled(std::string* out, const char* name, const std::map<std::string, uint64_t>& values,
              const char* label) {
  for (const auto& [key, value] : values) {
    *out += std::string(name) + "{" + label + "=\"" + Escape(key) + "\"} " + std::to_string(value) +
            "\n";
  }
}

}  // namespace

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string* out) const {
  uint64_t cumulative = 0;
  std::string prefix = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    *out += name + "_bucket{" + prefix + "le=\"" + Number(bounds_[i]) + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  *out += name + "_bucket{" + prefix + "le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  *out += name + "_sum" + braces + " " + Number(sum_) + "\n";
  *out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : commit_seconds_(
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1}),
      commit_events_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512}),
      delivery_seconds_(
          {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10, 60, 600, 3600, 86400}) {}

void Metrics::CountAccepted(const std::string& type) {
  std::lock_guard lock(mutex_);
  ++accepted_[type];
}
void Metrics::CountRefused(const std::string& code) {
  std::lock_guard lock(mutex_);
  ++refused_[code];
}
void Metrics::CountDelivered(const std::string& endpoint, const std::string& type) {
  std::lock_guard lock(mutex_);
  ++delivered_[{endpoint, type}];
}
void Metrics::CountExpired(const std::string& endpoint) {
  std::lock_guard lock(mutex_);
  ++expired_[endpoint];
}
void Metrics::CountWithheld(const std::string& endpoint, const std::string& code) {
  std::lock_guard lock(mutex_);
  ++withheld_[{endpoint, code}];
}
void Metrics::CountRetention(const std::string& what, uint64_t count) {
  std::lock_guard lock(mutex_);
  retention_[what] += count;
}
void Metrics::CountProtocolError(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++protocol_errors_[reason];
}
void Metrics::CountRateLimited(const std::string& endpoint) {
  std::lock_guard lock(mutex_);
  ++rate_limited_[endpoint];
}
void Metrics::CountSessionReplaced(const std::string& endpoint) {
  std::lock_guard lock(mutex_);
  ++sessions_replaced_[endpoint];
}
void Metrics::CountAuthFailure() {
  std::lock_guard lock(mutex_);
  ++auth_failures_;
}
void Metrics::SetAuthFailures(uint64_t total) {
  std::lock_guard lock(mutex_);
  auth_failures_ = total;
}
void Metrics::SetStorageCorruptions(uint64_t total) {
  std::lock_guard lock(mutex_);
  storage_corruptions_ = total;
}
void Metrics::SetSpaceBytes(std::map<std::string, uint64_t> bytes) {
  std::lock_guard lock(mutex_);
  space_bytes_ = std::move(bytes);
}
void Metrics::CountRedelivery() {
  std::lock_guard lock(mutex_);
  ++redeliveries_;
}
void Metrics::CountCommitError(const std::string& code) {
  std::lock_guard lock(mutex_);
  ++commit_errors_[code];
}
void Metrics::SetStorageSpace(uint64_t free_bytes, uint64_t min_free_bytes) {
  std::lock_guard lock(mutex_);
  space_known_ = true;
  free_bytes_ = free_bytes;
  min_free_bytes_ = min_free_bytes;
}
void Metrics::SetTreeHead(double age_seconds, uint64_t unsigned_records) {
  std::lock_guard lock(mutex_);
  head_known_ = true;
  head_age_seconds_ = age_seconds;
  unsigned_records_ = unsigned_records;
}
void Metrics::ObserveCommit(double seconds, size_t events) {
  std::lock_guard lock(mutex_);
  commit_seconds_.Observe(seconds);
  commit_events_.Observe(static_cast<double>(events));
}
void Metrics::ObserveDeliveryLatency(double seconds) {
  std::lock_guard lock(mutex_);
  delivery_seconds_.Observe(seconds);
}
void Metrics::SetEndpoints(std::map<std::string, EndpointGauges> gauges) {
  std::lock_guard lock(mutex_);
  endpoints_ = std::move(gauges);
}
void Metrics::SetSiem(uint64_t sent_total, uint64_t lag) {
  std::lock_guard lock(mutex_);
  siem_enabled_ = true;
  siem_sent_ = sent_total;
  siem_lag_ = lag;
}

void Metrics::SetAuditSize(uint64_t size) {
  std::lock_guard lock(mutex_);
  audit_size_ = size;
}
void Metrics::SetStorageFull(bool full) {
  std::lock_guard lock(mutex_);
  storage_full_ = full;
}
void Metrics::SetReady(bool ready) {
  std::lock_guard lock(mutex_);
  ready_ = ready;
}
bool Metrics::ready() const {
  std::lock_guard lock(mutex_);
  return ready_;
}
bool Metrics::storage_full() const {
  std::lock_guard lock(mutex_);
  return storage_full_;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  Header(&out, "stafett_messages_accepted_total", "counter",
         "Messages durably accepted, by message type.");
  Labelled(&out, "stafett_messages_accepted_total", accepted_, "type");
  Header(&out, "stafett_messages_refused_total", "counter", "Messages refused, by error code.");
  Labelled(&out, "stafett_messages_refused_total", refused_, "code");
  Header(&out, "stafett_messages_delivered_total", "counter",
         "Deliveries acknowledged by recipients, by endpoint and type.");
  for (const auto& [key, value] : delivered_) {
    out += "stafett_messages_delivered_total{endpoint=\"" + Escape(key.first) + "\",type=\"" +
           Escape(key.second) + "\"} " + std::to_string(value) + "\n";
  }
  Header(&out, "stafett_messages_expired_total", "counter",
         "Deliveries that expired before being acknowledged, by endpoint.");
  Labelled(&out, "stafett_messages_expired_total", expired_, "endpoint");
  Header(&out, "stafett_messages_withheld_total", "counter",
         "Deliveries withheld (consent revoked or expired, or refused by the recipient).");
  for (const auto& [key, value] : withheld_) {
    out += "stafett_messages_withheld_total{endpoint=\"" + Escape(key.first) + "\",code=\"" +
           Escape(key.second) + "\"} " + std::to_string(value) + "\n";
  }
  Header(&out, "stafett_retention_removed_total", "counter",
         "Records removed by the retention policy (finished messages a grace period after "
         "their expiry), by what: message_state, dead_letter. Each pass is also an audit "
         "record, event retention.");
  Labelled(&out, "stafett_retention_removed_total", retention_, "what");
  Header(&out, "stafett_protocol_errors_total", "counter",
         "Malformed or unexpected frames from authenticated peers, by reason.");
  Labelled(&out, "stafett_protocol_errors_total", protocol_errors_, "reason");
  Header(&out, "stafett_publishes_rate_limited_total", "counter",
         "Publishes over max_publishes_per_second, dropped unread, by endpoint.");
  Labelled(&out, "stafett_publishes_rate_limited_total", rate_limited_, "endpoint");
  Header(&out, "stafett_sessions_replaced_total", "counter",
         "Sessions taken over by a newer HELLO while their connection was still open, by "
         "endpoint: two agents with one endpoint's keys, or a half-open connection.");
  {
    // Every endpoint from 0, so that increase() sees the first takeover too.
    std::map<std::string, uint64_t> replaced = sessions_replaced_;
    for (const auto& [id, gauge] : endpoints_) replaced.try_emplace(id, 0);
    Labelled(&out, "stafett_sessions_replaced_total", replaced, "endpoint");
  }
  Single(&out, "stafett_auth_failures_total", "counter",
         "Handshakes refused: unknown keys, plain-text (NULL) clients, wrong server keys.",
         std::to_string(auth_failures_));
  Single(&out, "stafett_storage_corruption_total", "counter",
         "Stored records that failed an integrity check or did not decode (and a torn WAL tail "
         "dropped at start).",
         std::to_string(storage_corruptions_));
  Header(&out, "stafett_storage_commit_errors_total", "counter",
         "Group commits the store refused since start, by code: STORAGE_FULL (the disk is "
         "full), IO_ERROR (a write or fsync failed; the broker then stops for a restart).");
  {
    // Both codes from 0, so that increase() sees the first error too.
    std::map<std::string, uint64_t> errors = commit_errors_;
    errors.try_emplace("IO_ERROR", 0);
    errors.try_emplace("STORAGE_FULL", 0);
    Labelled(&out, "stafett_storage_commit_errors_total", errors, "code");
  }
  if (space_known_) {
    Single(&out, "stafett_storage_free_bytes", "gauge",
           "Free bytes of the file system holding the broker's data_dir.",
           std::to_string(free_bytes_));
    Single(&out, "stafett_storage_min_free_bytes", "gauge",
           "min_free_bytes: below this much free space the broker refuses new work.",
           std::to_string(min_free_bytes_));
  }
  if (!space_bytes_.empty()) {
    Header(&out, "stafett_store_space_bytes", "gauge",
           "Approximate bytes of each key space of the broker's store (table files and "
           "memtables; deleted keys count until compaction).");
    Labelled(&out, "stafett_store_space_bytes", space_bytes_, "space");
  }
  Single(&out, "stafett_redeliveries_total", "counter", "Deliveries sent again after a timeout.",
         std::to_string(redeliveries_));
  Header(&out, "stafett_batch_commit_seconds", "histogram",
         "Time to commit one group-commit batch with fsync.");
  commit_seconds_.Render("stafett_batch_commit_seconds", "", &out);
  Header(&out, "stafett_batch_events", "histogram", "Events per group-commit batch.");
  commit_events_.Render("stafett_batch_events", "", &out);
  Header(&out, "stafett_delivery_latency_seconds", "histogram",
         "Time from acceptance to the recipient's acknowledgement.");
  delivery_seconds_.Render("stafett_delivery_latency_seconds", "", &out);
  Header(&out, "stafett_queue_depth_messages", "gauge", "Undelivered queue entries per endpoint.");
  for (const auto& [id, gauge] : endpoints_) {
    out += "stafett_queue_depth_messages{endpoint=\"" + Escape(id) + "\"} " +
           std::to_string(gauge.queue_depth) + "\n";
  }
  Header(&out, "stafett_queue_oldest_age_seconds", "gauge",
         "Age of the oldest undelivered queue entry per endpoint.");
  for (const auto& [id, gauge] : endpoints_) {
    out += "stafett_queue_oldest_age_seconds{endpoint=\"" + Escape(id) + "\"} " +
           Number(gauge.oldest_undelivered_seconds) + "\n";
  }
  Header(&out, "stafett_endpoint_connected", "gauge", "1 when the endpoint's agent is connected.");
  uint64_t connected = 0;
  for (const auto& [id, gauge] : endpoints_) {
    connected += gauge.connected ? 1 : 0;
    out += "stafett_endpoint_connected{endpoint=\"" + Escape(id) + "\"} " +
           (gauge.connected ? "1" : "0") + "\n";
  }
  Single(&out, "stafett_agents_connected", "gauge", "Connected agents.", std::to_string(connected));
  Single(&out, "stafett_audit_log_records", "gauge", "Records in the audit log (tree size).",
         std::to_string(audit_size_));
  if (head_known_) {
    Single(&out, "stafett_audit_tree_head_age_seconds", "gauge",
           "Seconds since the broker signed its latest tree head (it signs one every "
           "tree_head_seconds while the log grows, none while it is idle).",
           Number(head_age_seconds_));
    Single(&out, "stafett_audit_unsigned_records", "gauge",
           "Audit records not yet covered by a signed tree head.",
           std::to_string(unsigned_records_));
  }
  if (siem_enabled_) {
    Single(&out, "stafett_siem_records_sent_total", "counter",
           "Audit records the SIEM collector's TCP stack acknowledged (resends included).",
           std::to_string(siem_sent_));
    Single(&out, "stafett_siem_lag_records", "gauge",
           "Committed audit records the SIEM collector has not yet confirmed.",
           std::to_string(siem_lag_));
  }
  Header(&out, "stafett_storage_full", "gauge",
         "1 while the broker refuses new work because storage is short.");
  out += std::string("stafett_storage_full ") + (storage_full_ ? "1" : "0") + "\n";
  return out;
}

}  // namespace stafett::broker
