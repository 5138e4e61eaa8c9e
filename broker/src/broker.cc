// Broker: construction, binding and the loop (receive, handle, group commit, reply, deliver).
#include "broker.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "stafett/core/encoding.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

constexpr size_t kMaxFrames = 16;  // no command has more; more is a protocol error
constexpr core::Micros kTimerInterval = 200'000;

}  // namespace

Broker::Broker(const BrokerConfig& config, const core::Clock& clock)
    : config_(config), clock_(clock), context_(1) {}

Broker::~Broker() {
  router_.reset();
  if (zap_) zap_->Stop();
  zap_.reset();
  context_.shutdown();
}

core::Result<std::unique_ptr<Broker>> Broker::Create(const BrokerConfig& config,
                                                     const core::Clock& clock) {
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
  core::Result<std::unique_ptr<Store>> store =
      Store::Open(config.data_dir, Store::Options{.sync = config.fsync});
  if (!store.ok()) return store.status();
  broker->store_ = std::move(store).value();
  const keys::KeySet& current = broker->key_sets_.front();
  core::Result<std::unique_ptr<AuditLog>> audit =
      AuditLog::Open(*broker->store_, current.signing, current.key_id);
  if (!audit.ok()) return audit.status();
  broker->audit_ = std::move(audit).value();
  STAFETT_RETURN_IF_ERROR(broker->RecoverCounters());
  broker->cycle_.audit_mark = broker->audit_->Mark();
  broker->cycle_.queue_seq_mark = broker->queue_seq_;
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
  STAFETT_RETURN_IF_ERROR(zap_->Start());
  try {
    router_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
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
  spdlog::info("event=broker_started bind={} audit_size={} queued={}", config_.zmq_bind,
               audit_->size(), [this] {
                 uint64_t total = 0;
                 for (const auto& [id, depth] : queue_depth_) total += depth;
                 return total;
               }());
  metrics_.SetReady(true);
  // Deliver what survived a restart as soon as agents say hello.
  zmq::pollitem_t item{router_->handle(), 0, ZMQ_POLLIN, 0};
  while (!stop.load()) {
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(cycle_.empty() ? 100 : 0));
    } catch (const zmq::error_t& error) {
      if (error.num() != EINTR) spdlog::error("event=poll_failed error=\"{}\"", error.what());
      continue;
    }
    ReceiveAvailable(static_cast<size_t>(config_.max_batch));
    core::Micros now = clock_.Now();
    if (now - last_timers_at_ >= kTimerInterval || now < last_timers_at_) {
      RunTimers(now);
      last_timers_at_ = now;
    }
    if (!cycle_.empty()) {
      Status committed = CommitCycle();
      if (!committed.ok()) spdlog::error("event=commit_failed error=\"{}\"", committed.ToString());
    }
  }
  if (!cycle_.empty()) CommitCycle().ok();
  metrics_.SetReady(false);
  spdlog::info("event=broker_stopping audit_size={}", audit_->size());
  return Status::Ok();
}

void Broker::ReceiveAvailable(size_t max_messages) {
  for (size_t n = 0; n < max_messages; ++n) {
    std::vector<std::string> frames;
    std::string routing_id, user_id;
    bool oversized = false;
    try {
      zmq::message_t part;
      if (!router_->recv(part, zmq::recv_flags::dontwait)) return;
      routing_id = part.to_string();
      while (part.more()) {
        if (!router_->recv(part, zmq::recv_flags::none)) break;
        if (user_id.empty()) {
          const char* user = part.gets("User-Id");
          if (user != nullptr) user_id = user;
        }
        if (frames.size() < kMaxFrames) {
          frames.push_back(part.to_string());
        } else {
          oversized = true;
        }
      }
    } catch (const zmq::error_t& error) {
      if (error.num() == EAGAIN) return;
      spdlog::warn("event=receive_failed error=\"{}\"", error.what());
      return;
    }
    const keys::Principal* principal = directory_.Find(user_id);
    if (principal == nullptr) {
      metrics_.CountProtocolError("unauthenticated");
      continue;  // cannot happen with ZAP in place; never serve an unnamed peer
    }
    Peer peer{routing_id, principal->id, principal->role};
    if (oversized) {
      metrics_.CountProtocolError("too_many_frames");
      SendError(peer, Code::kProtocolError, "too many frames");
      continue;
    }
    HandleFrames(peer, std::move(frames));
  }
}

void Broker::HandleFrames(const Peer& peer, std::vector<std::string> frames) {
  core::Result<protocol::Message> decoded = protocol::Decode(frames);
  if (!decoded.ok()) {
    metrics_.CountProtocolError("malformed");
    spdlog::warn("event=protocol_error peer={} error=\"{}\"", peer.id, decoded.status().message());
    SendError(peer, Code::kProtocolError, decoded.status().message());
    return;
  }
  protocol::Message& message = *decoded;
  if (peer.role == keys::Role::kEndpoint) {
    Session& session = sessions_[peer.id];
    session.last_seen = clock_.Now();
    if (session.routing_id == peer.routing_id) session.connected = true;
  }
  bool endpoint = peer.role == keys::Role::kEndpoint;
  switch (message.command) {
    case protocol::Command::kHello:
      HandleHello(peer, message);
      return;
    case protocol::Command::kHeartbeat:
      Send(peer.routing_id, protocol::Encode(protocol::Command::kHeartbeat, {"{}"}));
      return;
    case protocol::Command::kQuery:
      HandleQuery(peer, message);
      return;
    case protocol::Command::kPublish:
      if (endpoint) return HandlePublish(peer, std::move(message));
      break;
    case protocol::Command::kDelivered:
      if (endpoint) return HandleDelivered(peer, message);
      break;
    case protocol::Command::kRejected:
      if (endpoint) return HandleRejected(peer, message);
      break;
    case protocol::Command::kAck:
      if (endpoint) return HandleAck(peer, message);
      break;
    default:
      metrics_.CountProtocolError("unexpected_command");
      SendError(peer, Code::kProtocolError, "command not accepted by the broker");
      return;
  }
  metrics_.CountProtocolError("forbidden");
  SendError(peer, Code::kForbidden, "this role may not send that command");
}

core::Status Broker::CommitCycle() {
  if (queue_seq_ != cycle_.queue_seq_mark) {
    // Queue seqs are never reused, even after the entries holding the largest ones are gone.
    cycle_.batch.Put(store_->Handle(Family::kMeta), "queue_seq", EncodeBigEndian64(queue_seq_));
  }
  auto started = std::chrono::steady_clock::now();
  Status status = store_->Commit(&cycle_.batch);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Cycle done = std::move(cycle_);
  cycle_ = Cycle();
  if (status.ok()) {
    metrics_.ObserveCommit(seconds, done.events);
    for (Cycle::Reply& reply : done.replies) {
      if (!reply.on_success.empty()) Send(reply.routing_id, std::move(reply.on_success));
    }
    for (auto& action : done.on_commit) action();
    core::Micros now = clock_.Now();
    for (const std::string& endpoint : done.wake) Dispatch(endpoint, now);
  } else {
    storage_full_ = storage_full_ || status.code() == Code::kStorageFull;
    metrics_.SetStorageFull(storage_full_);
    if (done.audit_mark) audit_->Restore(*done.audit_mark);
    queue_seq_ = done.queue_seq_mark;
    for (Cycle::Reply& reply : done.replies) {
      if (!reply.on_failure.empty()) Send(reply.routing_id, std::move(reply.on_failure));
    }
    // RocksDB stops writing after a failed sync; try to resume once space may have returned.
    store_->db()->Resume().PermitUncheckedError();
  }
  cycle_.audit_mark = audit_->Mark();
  cycle_.queue_seq_mark = queue_seq_;
  return status;
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
    audit_->SignHead(&cycle_.batch, now);
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

void Broker::Send(const std::string& routing_id, std::vector<std::string> frames) {
  try {
    router_->send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    for (size_t i = 0; i < frames.size(); ++i) {
      auto flags = zmq::send_flags::dontwait;
      if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
      router_->send(zmq::buffer(frames[i]), flags);
    }
  } catch (const zmq::error_t& error) {
    // EHOSTUNREACH: the peer is gone; EAGAIN: its pipe is full. Either way what we sent stays
    // queued in the store and goes again later.
    for (auto& [id, session] : sessions_) {
      if (session.routing_id == routing_id && error.num() == EHOSTUNREACH) {
        session.connected = false;
      }
    }
  }
}

void Broker::SendError(const Peer& peer, Code code, const std::string& message) {
  nlohmann::json body = {{"code", std::string(core::CodeName(code))}, {"message", message}};
  Send(peer.routing_id, protocol::Encode(protocol::Command::kError, {body.dump()}));
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
      std::string prefix = QueuePrefix(endpoint->id);
      std::unique_ptr<rocksdb::Iterator> it = store_->NewPrefixIterator(Family::kQueues, prefix);
      it->Seek(prefix);
      if (it->Valid() && it->key().starts_with(prefix)) {
        nlohmann::json entry = nlohmann::json::parse(it->value().ToString(), nullptr, false);
        if (entry.is_object() && entry.contains("queued_at")) {
          gauge.oldest_undelivered_seconds =
              static_cast<double>(now - entry["queued_at"].get<int64_t>()) / 1e6;
        }
      }
    }
  }
  metrics_.SetEndpoints(std::move(gauges));
  metrics_.SetAuditSize(audit_->size());
  metrics_.SetAuthFailures(zap_ ? zap_->denied() : 0);
}

}  // namespace stafett::broker
