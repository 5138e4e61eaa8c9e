// Metrics: Prometheus text exposition of the agent's counters.
#include "metrics.h"

#include <sstream>

namespace stafett::agent {

void Metrics::CountRejected(const std::string& code) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++rejected_[code];
}

void Metrics::CountRetention(const std::string& what, uint64_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  retention_[what] += count;
}

void Metrics::SetBacklogSource(std::function<uint64_t()> gauge) {
  std::lock_guard<std::mutex> lock(mutex_);
  backlog_ = std::move(gauge);
}

std::string Metrics::Render() const {
  std::ostringstream out;
  auto counter = [&](const char* name, const char* help, uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n"
        << name << ' ' << value << '\n';
  };
  uint64_t backlog = 0;
  std::map<std::string, uint64_t> rejected, retention;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (backlog_) backlog = backlog_();
    rejected = rejected_;
    retention = retention_;
  }
  out << "# HELP stafett_agent_outbox_backlog Messages journalled but not yet accepted by the "
         "broker.\n# TYPE stafett_agent_outbox_backlog gauge\nstafett_agent_outbox_backlog "
      << backlog << '\n';
  out << "# HELP stafett_agent_connected 1 while a session with the broker is up.\n"
         "# TYPE stafett_agent_connected gauge\nstafett_agent_connected "
      << (connected.load() ? 1 : 0) << '\n';
  counter("stafett_agent_submitted_total", "Documents taken into the send pipeline.",
          submitted.load());
  counter("stafett_agent_refused_locally_total", "Documents refused before sending.",
          refused_locally.load());
  counter("stafett_agent_accepted_total", "Messages accepted by the broker.", accepted.load());
  counter("stafett_agent_send_failures_total", "Messages finally refused by the broker.",
          send_failures.load());
  counter("stafett_agent_publishes_total", "PUBLISH commands sent, resends included.",
          publishes_sent.load());
  counter("stafett_agent_inbox_writes_total", "Files written to the inbox.", inbox_writes.load());
  counter("stafett_agent_inbox_duplicates_total",
          "Redeliveries acknowledged without writing again.", inbox_duplicates.load());
  counter("stafett_agent_receipts_total", "Delivery receipts received.", receipts.load());
  counter("stafett_agent_receipts_invalid_total",
          "Delivered receipts refused: the recipient's signature did not verify.",
          receipts_invalid.load());
  counter("stafett_agent_reconnects_total", "Sessions with the broker after the first.",
          reconnects.load());
  counter("stafett_agent_sessions_replaced_total",
          "Sessions the broker gave to a newer HELLO with this endpoint's key (SESSION_REPLACED).",
          sessions_replaced.load());
  out << "# HELP stafett_agent_rejected_total Deliveries this agent refused, by code.\n"
         "# TYPE stafett_agent_rejected_total counter\n";
  for (const auto& [code, count] : rejected) {
    out << "stafett_agent_rejected_total{code=\"" << code << "\"} " << count << '\n';
  }
  out << "# HELP stafett_agent_retention_removed_total Files and journal records the retention "
         "removed, by what.\n# TYPE stafett_agent_retention_removed_total counter\n";
  for (const auto& [what, count] : retention) {
    out << "stafett_agent_retention_removed_total{what=\"" << what << "\"} " << count << '\n';
  }
  return out.str();
}

}  // namespace stafett::agent
