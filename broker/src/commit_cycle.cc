// Broker commit cycle: the pending cycle sealed and committed as one store transaction (group
// commit, on the commit thread or the loop), then the replies, deliveries and counters that the
// commit made true — or, when it failed, the refusals and the rollback of what is in memory.
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker.h"
#include "siem_feed.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

core::Status Broker::CommitCycle() {
  SealCycle();
  core::MonotonicTime started = clock_.MonotonicNow();
  Status status = store_->Commit(committing_.transaction);
  double seconds = std::chrono::duration<double>(clock_.MonotonicNow() - started).count();
  return FinishCommit(std::move(status), seconds);
}

void Broker::SealCycle() {
  audit_->StageMap(&cycle_.transaction);
  if (queue_seq_ != cycle_.queue_seq_mark) {
    // Queue seqs are never reused, even after the entries holding the largest ones are gone.
    cycle_.transaction.PutQueueSeq(queue_seq_);
  }
  committing_ = std::move(cycle_);
  cycle_ = Cycle();
}

core::Status Broker::FinishCommit(core::Status status, double seconds) {
  Cycle done = std::move(committing_);
  committing_ = Cycle();
  if (!status.ok()) {
    // Nothing of the cycle is durable: the in-memory frontier and counters go back.
    if (done.audit_mark) audit_->Restore(*done.audit_mark);
    queue_seq_ = done.queue_seq_mark;
  }
  // The next cycle starts here, before the deliveries below can stage into it.
  cycle_.audit_mark = audit_->Mark();
  cycle_.queue_seq_mark = queue_seq_;
  if (status.ok()) {
    metrics_.ObserveCommit(seconds, done.events);
    for (auto& [message_id, state] : done.messages)
      recent_messages_.Put(message_id, std::move(state));
    if (siem_) siem_->Committed(audit_->size());
    for (Cycle::Reply& reply : done.replies) {
      if (!reply.on_success.empty()) Send(reply.routing_id, std::move(reply.on_success));
    }
    for (auto& action : done.on_commit) action();
    core::Micros now = clock_.Now();
    for (const std::string& endpoint : done.wake) Dispatch(endpoint, now);
  } else {
    // Counted for status and /metrics (an IO_ERROR, a failed write or fsync above all, also
    // stops the broker below: the count is seen until the restart).
    std::string code(core::CodeName(status.code()));
    ++commit_errors_[code];
    metrics_.CountCommitError(code);
    storage_full_ = storage_full_ || status.code() == Code::kStorageFull;
    metrics_.SetStorageFull(storage_full_);
    for (Cycle::Reply& reply : done.replies) {
      if (!reply.on_failure.empty()) Send(reply.routing_id, std::move(reply.on_failure));
    }
    // RocksDB stops writing after a failed write or sync. A full disk it can resume from once
    // space returns; after any other I/O error (a failed fsync above all: the kernel may have
    // dropped the pages, so what RocksDB holds in memory can no longer be trusted) it stays
    // read-only. Then stop: the supervisor restarts the broker (deploy/systemd:
    // Restart=on-failure), whose recovery reads back exactly what reached the disk. Nothing of
    // this cycle was acknowledged; senders retry under the same message ids (deduplicated).
    Status resumed = store_->Resume();
    if (status.code() != Code::kStorageFull || !resumed.ok()) {
      spdlog::critical("event=storage_failed action=exit error=\"{}\" resume=\"{}\"",
                       status.message(), resumed.ToString());
      storage_failed_ = true;
    }
  }
  std::vector<std::pair<Peer, protocol::Message>> queries = std::move(deferred_queries_);
  deferred_queries_.clear();
  for (auto& [peer, message] : queries) HandleQuery(peer, message);
  return status;
}

}  // namespace stafett::broker
