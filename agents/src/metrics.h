// Metrics: the agent's counters and gauges, rendered in the Prometheus text format for
// GET /metrics. Thread-safety: every member is atomic or guarded; safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace stafett::agent {

class Metrics {
 public:
  std::atomic<uint64_t> submitted{0};          // documents taken into the pipeline
  std::atomic<uint64_t> refused_locally{0};    // refused before anything was sent
  std::atomic<uint64_t> accepted{0};           // ACCEPTED by the broker
  std::atomic<uint64_t> send_failures{0};      // final refusals by the broker
  std::atomic<uint64_t> publishes_sent{0};     // PUBLISH frames sent, resends included
  std::atomic<uint64_t> inbox_writes{0};       // inbox files written (messages and receipts)
  std::atomic<uint64_t> inbox_duplicates{0};   // redeliveries acknowledged without writing
  std::atomic<uint64_t> reconnects{0};         // new sessions after the first
  std::atomic<uint64_t> sessions_replaced{0};  // sessions the broker gave to a newer HELLO
  std::atomic<uint64_t> receipts{0};           // RECEIPTs handled
  std::atomic<uint64_t> receipts_invalid{0};   // delivered RECEIPTs whose signature failed
  std::atomic<bool> connected{false};          // a WELCOMEd session is up

  // Deliveries this agent rejected, by code.
  void CountRejected(const std::string& code);
  // Files and records the retention removed (docs/PRIVACY.md), by what: sent_file,
  // rejected_file, outgoing_record, received_record, inbox_file.
  void CountRetention(const std::string& what, uint64_t count);
  // GAUGE() is read at render time (the outbox backlog lives in the journal).
  void SetBacklogSource(std::function<uint64_t()> gauge);

  std::string Render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> rejected_;
  std::map<std::string, uint64_t> retention_{{"inbox_file", 0},
                                             {"outgoing_record", 0},
                                             {"received_record", 0},
                                             {"rejected_file", 0},
                                             {"sent_file", 0}};
  std::function<uint64_t()> backlog_;
};

}  // namespace stafett::agent
