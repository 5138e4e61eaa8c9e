// Broker: construction, binding, the loop (ingress.cc receives and hands out, commit_cycle.cc
// commits and answers), its timers, and sending.
#include "broker.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "siem_feed.h"
#include "stafett/core/encoding.h"
#include "stafett/core/frames.h"
#include "stafett/store/rocksdb_broker_store.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

constexpr core::Micros kTimerInterval = 200'000;

// Tuning knobs for A/B measurements (docs/DESIGN.md, "Performance"); the defaults are what the
// measurements favoured.
long EnvOr(const char* name, long fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  long parsed = std::strtol(value, &end, 10);
  return end != nullptr && *end == '\0' ? parsed : fallback;
}

}  // namespace

Broker::Broker(const BrokerConfig& config, const core::Clock& clock)
    : config_(config), clock_(clock), context_(1) {}

Broker::~Broker() {
  siem_.reset();  // stops the feed while the audit log it reads is open
  router_.reset();
  // First the context: the ZAP handler's poll then returns at once (ETERM) rather than at its
  // next 100 ms timeout, which every broker restart waited for.
  context_.shutdown();
  if (zap_) zap_->Stop();
  zap_.reset();
}

core::Result<std::unique_ptr<Broker>> Broker::Create(const BrokerConfig& config,
                                                     const core::Clock& clock,
                                                     std::unique_ptr<store::BrokerStore> store) {
  // spdlog's registry is a static built on first use inside libspdlog, under a guard that
  // ThreadSanitizer cannot see: build it here, on the creating thread, before this broker's
  // threads (loop, ZAP, commit, verifiers) log, so every one of them happens after it.
  spdlog::default_logger_raw();
  std::unique_ptr<Broker> broker(new Broker(config, clock));
  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(config.trust_directory);
  if (!directory.ok()) return directory.status();
  broker->directory_ = std::move(directory).value();
  core::Result<std::vector<keys::KeySet>> key_sets = keys::LoadKeyDir(config.keys_dir);
  if (!key_sets.ok()) return key_sets.status();
  if (key_sets->empty()) {
    return Status(Code::kKeyInvalid, config.keys_dir.string() + ": no broker key set found");
  }
  broker->key_sets_ = std::move(key_sets).value();
  const keys::Principal* self = broker->directory_.Find(broker->key_sets_.front().principal);
  if (self == nullptr || self->role != keys::Role::kBroker) {
    return Status(
        Code::kKeyInvalid,
        config.keys_dir.string() + ": the key set is not the broker's in the trust directory");
  }
  if (store == nullptr) {
    core::Result<std::unique_ptr<store::BrokerStore>> opened = store::OpenRocksDbBrokerStore(
        config.data_dir, store::RocksDbStoreOptions{.sync = config.fsync});
    if (!opened.ok()) return opened.status();
    store = std::move(opened).value();
  }
  broker->store_ = std::move(store);
  const keys::KeySet& current = broker->key_sets_.front();
  core::Result<std::unique_ptr<AuditLog>> audit =
      AuditLog::Open(*broker->store_, current.signing, current.key_id);
  if (!audit.ok()) return audit.status();
  broker->audit_ = std::move(audit).value();
  STAFETT_RETURN_IF_ERROR(broker->RecoverCounters());
  if (!config.siem_address.empty()) {
    core::Result<std::unique_ptr<SiemFeed>> siem =
        SiemFeed::Start(SiemOptionsFor(config), SiemRecordSource(*broker->audit_), clock,
                        core::SystemRandom::Instance(), &broker->metrics_);
    if (!siem.ok()) return siem.status();
    (*siem)->Committed(broker->audit_->size());
    broker->siem_ = std::move(siem).value();
  }
  broker->cycle_.audit_mark = broker->audit_->Mark();
  broker->cycle_.queue_seq_mark = broker->queue_seq_;
  // Signature checks: the loop and VERIFY_THREADS workers (default: one per further core, at
  // most 3). Commits: on a thread of their own unless STAFETT_BROKER_COMMIT_THREAD=0.
  long cores = static_cast<long>(std::max(1u, std::thread::hardware_concurrency()));
  long verify_threads = std::clamp(EnvOr("STAFETT_BROKER_VERIFY_THREADS", cores - 1), 0L, 16L);
  broker->verify_pool_ = std::make_unique<WorkerPool>(static_cast<size_t>(verify_threads));
  if (EnvOr("STAFETT_BROKER_COMMIT_THREAD", 1) != 0) {
    broker->commit_thread_ = std::make_unique<CommitThread>(*broker->store_, broker->clock_);
  }
  return broker;
}

core::Status Broker::Bind() {
  zap_ = std::make_unique<ZapAuthenticator>(
      context_,
      [this](std::string_view raw_key, core::Micros now) -> std::string {
        const keys::Principal* principal = directory_.FindByTransportKey(raw_key, now);
        return principal == nullptr ? std::string() : principal->id;
      },
      clock_);
  try {
    router_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
  } catch (const zmq::error_t& error) {
    return Status(Code::kUnavailable, std::string("cannot create the router: ") + error.what());
  }
  // Before the router binds: the ZAP handler, and its watch on handshakes that fail before it.
  STAFETT_RETURN_IF_ERROR(zap_->Start(router_.get()));
  try {
    const keys::KeySet& current = key_sets_.front();
    router_->set(zmq::sockopt::curve_server, 1);
    router_->set(zmq::sockopt::curve_secretkey,
                 zmq::const_buffer(current.transport.secret_key.data(), 32));
    // ZAP names every peer; the domain makes libzmq consult the handler for every handshake.
    router_->set(zmq::sockopt::zap_domain, "stafett");
    // Frames larger than the biggest envelope we accept are cut off at the transport, before
    // they cost memory: the peer is disconnected.
    router_->set(zmq::sockopt::maxmsgsize, config_.max_message_bytes + 64 * 1024);
    // Sending to a peer that is gone must fail loudly, so the session is marked offline and the
    // entry stays queued, instead of libzmq dropping it silently.
    router_->set(zmq::sockopt::router_mandatory, 1);
    // Heartbeats find half-open TCP connections (laptop lid, firewall) within ~15 s.
    router_->set(zmq::sockopt::heartbeat_ivl, static_cast<int>(config_.heartbeat_seconds * 1000));
    router_->set(zmq::sockopt::heartbeat_timeout,
                 static_cast<int>(config_.heartbeat_seconds * 3000));
    router_->set(zmq::sockopt::heartbeat_ttl, static_cast<int>(config_.heartbeat_seconds * 3000));
    // Bounded queues: the credit window keeps deliveries far below this; the bound protects the
    // broker's memory from a peer that floods or stops reading.
    router_->set(zmq::sockopt::sndhwm, 10000);
    router_->set(zmq::sockopt::rcvhwm, 10000);
    router_->set(zmq::sockopt::linger, 2000);
    router_->bind(config_.zmq_bind);
  } catch (const zmq::error_t& error) {
    return Status(Code::kUnavailable, config_.zmq_bind + ": cannot bind: " + error.what());
  }
  return Status::Ok();
}

core::Status Broker::Run(const std::atomic<bool>& stop) {
  STAFETT_RETURN_IF_ERROR(Bind());
  spdlog::info(
      "event=broker_started bind={} audit_size={} queued={} verify_threads={} "
      "commit_thread={}",
      config_.zmq_bind, audit_->size(),
      [this] {
        uint64_t total = 0;
        for (const auto& [id, depth] : queue_depth_) total += depth;
        return total;
      }(),
      verify_pool_->threads(), commit_thread_ != nullptr);
  metrics_.SetReady(true);
  const size_t max_batch = static_cast<size_t>(std::max<int64_t>(1, config_.max_batch));
  // Deliver what survived a restart as soon as agents say hello.
  zmq::pollitem_t items[2] = {{router_->handle(), 0, ZMQ_POLLIN, 0},
                              {nullptr, commit_thread_ ? commit_thread_->fd() : -1, ZMQ_POLLIN, 0}};
  std::vector<Received> received;  // received and checked, not handled yet
  while (!stop.load() && !storage_failed_) {
    if (received.empty()) {
      try {
        zmq::poll(items, 1, std::chrono::milliseconds(cycle_.empty() ? 100 : 0));
      } catch (const zmq::error_t& error) {
        if (error.num() != EINTR) spdlog::error("event=poll_failed error=\"{}\"", error.what());
        continue;
      }
      ReceiveAvailable(max_batch, &received);
      Precheck(&received, 0);
    }
    // Handled in the order received: per peer (and overall) order is kept.
    for (Received& item : received) HandleReceived(item);
    received.clear();
    core::Micros now = clock_.Now();
    if (now - last_timers_at_ >= kTimerInterval || now < last_timers_at_) {
      RunTimers(now);
      last_timers_at_ = now;
    }
    if (cycle_.empty()) continue;
    if (commit_thread_ == nullptr) {
      Status committed = CommitCycle();
      if (!committed.ok()) spdlog::error("event=commit_failed error=\"{}\"", committed.ToString());
      continue;
    }
    // While cycle N is written and fsynced on the commit thread, receive and check the commands
    // of cycle N+1; stage nothing (every read of state waits for N to be durable or failed).
    SealCycle();
    commit_thread_->Start(&committing_.transaction);
    while (!commit_thread_->Finished()) {
      size_t before = received.size();
      if (before >= max_batch) break;  // a full next cycle: Take() waits for the commit
      ReceiveAvailable(max_batch - before, &received);
      if (received.size() > before) {
        Precheck(&received, before);
        continue;
      }
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(100));  // a command, or the commit done
      } catch (const zmq::error_t& error) {
        if (error.num() != EINTR) spdlog::error("event=poll_failed error=\"{}\"", error.what());
      }
    }
    double seconds = 0;
    Status status = commit_thread_->Take(&seconds);
    Status committed = FinishCommit(std::move(status), seconds);
    if (!committed.ok()) spdlog::error("event=commit_failed error=\"{}\"", committed.ToString());
  }
  if (storage_failed_) {
    metrics_.SetReady(false);
    return Status(Code::kIoError, "the store failed a write or sync; restart to recover");
  }
  for (Received& item : received) HandleReceived(item);
  if (!cycle_.empty()) CommitCycle().ok();
  metrics_.SetReady(false);
  spdlog::info("event=broker_stopping audit_size={}", audit_->size());
  return Status::Ok();
}

void Broker::RunTimers(core::Micros now) {
  bool short_of_space = config_.min_free_bytes > 0 &&
                        store_->FreeBytes() < static_cast<uint64_t>(config_.min_free_bytes);
  if (short_of_space != storage_full_) {
    spdlog::warn("event={} free_bytes={}", short_of_space ? "storage_full" : "storage_resumed",
                 store_->FreeBytes());
    storage_full_ = short_of_space;
    metrics_.SetStorageFull(storage_full_);
  }
  Redeliver(now);
  ExpireDue(now);
  bool grown = audit_->size() != last_head_size_;
  if (grown && now - last_head_at_ >= config_.tree_head_seconds * 1'000'000) {
    audit_->SignHead(&cycle_.transaction, now);
    ++cycle_.events;
    last_head_at_ = now;
    last_head_size_ = audit_->size();
  }
  for (auto& [id, session] : sessions_) {
    if (session.connected && now - session.last_seen > config_.heartbeat_seconds * 3'000'000) {
      session.connected = false;
      spdlog::info("event=endpoint_offline endpoint={}", id);
    }
  }
  PublishGauges(now);
}

bool Broker::Send(const std::string& routing_id, std::vector<std::string> frames) {
  try {
    // A full pipe (EAGAIN) is an empty result, not an exception: then nothing more of the
    // message may follow, or its next frame would be taken for a routing id.
    if (!router_->send(zmq::buffer(routing_id),
                       zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return true;
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      auto flags = zmq::send_flags::dontwait;
      if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
      router_->send(zmq::buffer(frames[i]), flags);
    }
  } catch (const zmq::error_t& error) {
    // EHOSTUNREACH: the peer is gone; EAGAIN: its pipe is full. Either way what we sent stays
    // queued in the store and goes again later.
    if (error.num() != EHOSTUNREACH) return true;
    for (auto& [id, session] : sessions_) {
      if (session.routing_id == routing_id) session.connected = false;
    }
    return false;
  }
  return true;
}

void Broker::SendError(const Peer& peer, Code code, const std::string& message) {
  Send(peer.routing_id, protocol::Encode(protocol::ErrorFrame{code, message}));
}

void Broker::PublishGauges(core::Micros now) {
  std::map<std::string, EndpointGauges> gauges;
  for (const keys::Principal* endpoint : directory_.Endpoints()) {
    EndpointGauges& gauge = gauges[endpoint->id];
    auto session = sessions_.find(endpoint->id);
    if (session != sessions_.end()) {
      gauge.connected = session->second.connected;
      gauge.last_seen_seconds = static_cast<double>(session->second.last_seen) / 1e6;
    }
    auto depth = queue_depth_.find(endpoint->id);
    gauge.queue_depth = depth == queue_depth_.end() ? 0 : depth->second;
    if (gauge.queue_depth > 0) {
      if (std::optional<core::QueueEntry> oldest = OldestQueueEntry(endpoint->id)) {
        gauge.oldest_undelivered_seconds = static_cast<double>(now - oldest->queued_at) / 1e6;
      }
    }
  }
  metrics_.SetEndpoints(std::move(gauges));
  metrics_.SetAuditSize(audit_->size());
  metrics_.SetAuthFailures(zap_ ? zap_->denied() : 0);
  metrics_.SetStorageCorruptions(store_->corruptions());
  metrics_.SetStorageSpace(store_->FreeBytes(), static_cast<uint64_t>(config_.min_free_bytes));
  std::map<std::string, uint64_t> space_bytes;
  std::array<uint64_t, store::kSpaceCount> sizes = store_->SpaceBytes();
  for (size_t space = 0; space < store::kSpaceCount; ++space) {
    space_bytes[std::string(store::SpaceName(static_cast<store::Space>(space)))] = sizes[space];
  }
  metrics_.SetSpaceBytes(std::move(space_bytes));
  if (last_head_at_ > 0 && last_head_size_ != UINT64_MAX) {
    metrics_.SetTreeHead(static_cast<double>(now - last_head_at_) / 1e6,
                         audit_->size() - std::min(audit_->size(), last_head_size_));
  }
}

}  // namespace stafett::broker
