// Broker ingress: receiving commands from the ROUTER socket (the publish rate limit drops floods
// unread), checking them on the verify pool, and handing each, in the order received, to its
// handler: publish.cc (accepting), dispatcher.cc (sessions and acknowledgements),
// query_service.cc (questions).
#include <spdlog/spdlog.h>

#include "broker.h"
#include "stafett/core/frames.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

constexpr size_t kMaxFrames = 16;  // no command has more; more is a protocol error

}  // namespace

size_t Broker::ReceiveAvailable(size_t max_messages, std::vector<Received>* out) {
  size_t received = 0;
  for (size_t n = 0; n < max_messages; ++n) {
    std::vector<std::string> frames;
    std::string routing_id, user_id;
    const keys::Principal* principal = nullptr;
    bool oversized = false;
    bool over_rate = false;  // a PUBLISH over the endpoint's limit: the rest is drained unread
    try {
      zmq::message_t part;
      if (!router_->recv(part, zmq::recv_flags::dontwait)) return received;
      routing_id = part.to_string();
      while (part.more()) {
        if (!router_->recv(part, zmq::recv_flags::none)) break;
        if (principal == nullptr) {
          const char* user = part.gets("User-Id");
          if (user != nullptr) principal = directory_.Find(user);
        }
        if (over_rate) continue;
        if (frames.size() < kMaxFrames) {
          frames.push_back(part.to_string());
        } else {
          oversized = true;
        }
        // A flooding endpoint costs a token check per publish: no copy of the envelope, no
        // parsing, no signature check, no answer beyond one a second.
        over_rate = frames.size() == 2 &&
                    frames[1] == protocol::CommandName(protocol::Command::kPublish) &&
                    principal != nullptr && principal->role == keys::Role::kEndpoint &&
                    !TakePublishToken(principal->id);
      }
    } catch (const zmq::error_t& error) {
      if (error.num() == EAGAIN) return received;
      spdlog::warn("event=receive_failed error=\"{}\"", error.what());
      return received;
    }
    if (principal == nullptr) {
      metrics_.CountProtocolError("unauthenticated");
      continue;  // cannot happen with ZAP in place; never serve an unnamed peer
    }
    Peer peer{routing_id, principal->id, principal->role};
    if (over_rate) {
      DropOverRate(peer, clock_.Now());
      continue;
    }
    Received item;
    item.peer = std::move(peer);
    item.frames = std::move(frames);
    item.oversized = oversized;
    out->push_back(std::move(item));
    ++received;
  }
  return received;
}

void Broker::Precheck(std::vector<Received>* items, size_t from) {
  if (from >= items->size()) return;
  // Reads only: the frames, the immutable trust directory and committed message states (for a
  // receipt's digest; from recent_messages_, which only the loop writes, in FinishCommit, never
  // while this fork-join runs). Nothing here touches the cycle, the sessions or the metrics.
  std::function<void(size_t)> check = [this, items, from](size_t index) {
    Received& item = (*items)[from + index];
    if (item.oversized) return;
    try {
      item.decoded.emplace(protocol::Decode(item.frames));
      if (!item.decoded->ok() || item.peer.role != keys::Role::kEndpoint) return;
      protocol::Message& message = **item.decoded;
      if (message.command == protocol::Command::kPublish && message.arguments.size() >= 3) {
        item.envelope.emplace(core::Envelope{std::move(message.arguments[0]),
                                             std::move(message.arguments[1]),
                                             std::move(message.arguments[2])});
        item.publish.emplace(CheckPublish(directory_, item.peer.id, *item.envelope,
                                          static_cast<size_t>(config_.max_message_bytes)));
      } else if (message.command == protocol::Command::kDelivered) {
        core::Result<protocol::DeliveredFrame> frame = protocol::ParseDelivered(message);
        if (!frame.ok()) return;  // the loop answers it
        // A message's payload digest never changes: a recent state has it without a store read.
        std::string digest;
        if (const core::MessageState* recent = recent_messages_.Find(frame->message_id)) {
          digest = recent->payload_digest;
        } else {
          core::Result<std::optional<core::MessageState>> state =
              store_->GetMessageState(frame->message_id);
          if (!state.ok() || !state->has_value()) return;  // the loop checks it
          digest = std::move((*state)->payload_digest);
        }
        bool ok = CheckReceipt(directory_, item.peer.id, frame->message_id, frame->receipt_key,
                               frame->receipt_signature, digest);
        item.receipt.emplace(ReceiptCheck{std::move(digest), ok});
      }
    } catch (const std::exception&) {
      // Malformed fields: leave the checks to the loop, which answers as it always has.
      item.publish.reset();
      item.receipt.reset();
    }
  };
  verify_pool_->ParallelFor(items->size() - from, check);
}

void Broker::HandleReceived(Received& item) {
  const Peer& peer = item.peer;
  if (item.oversized) {
    metrics_.CountProtocolError("too_many_frames");
    SendError(peer, Code::kProtocolError, "too many frames");
    return;
  }
  if (!item.decoded) item.decoded.emplace(protocol::Decode(item.frames));
  core::Result<protocol::Message>& decoded = *item.decoded;
  if (!decoded.ok()) {
    metrics_.CountProtocolError("malformed");
    spdlog::warn("event=protocol_error peer={} error=\"{}\"", peer.id, decoded.status().message());
    SendError(peer, Code::kProtocolError, decoded.status().message());
    return;
  }
  protocol::Message& message = *decoded;
  if (peer.role == keys::Role::kEndpoint) {
    // Only the session's own connection keeps it alive: heartbeats from a replaced one must
    // not make an endpoint look served while its deliveries go elsewhere.
    Session& session = sessions_[peer.id];
    if (session.routing_id == peer.routing_id) {
      session.last_seen = clock_.Now();
      session.connected = true;
    } else if (OnReplacedConnection(peer, message)) {
      return;
    }
  }
  bool endpoint = peer.role == keys::Role::kEndpoint;
  switch (message.command) {
    case protocol::Command::kHello:
      HandleHello(peer, message);
      return;
    case protocol::Command::kHeartbeat:
      Send(peer.routing_id, protocol::EncodeHeartbeat());
      return;
    case protocol::Command::kQuery:
      if (!cycle_.empty()) {
        // Answered once the commands received before it are durable, so that it sees them
        // (queue depths, message states and the audit size change only at a commit).
        deferred_queries_.emplace_back(peer, std::move(message));
        return;
      }
      HandleQuery(peer, message);
      return;
    case protocol::Command::kPublish:
      if (endpoint) {
        if (!item.publish) {
          // Not checked on the pool (it threw): check here.
          if (!item.envelope) {
            item.envelope.emplace(core::Envelope{std::move(message.arguments[0]),
                                                 std::move(message.arguments[1]),
                                                 std::move(message.arguments[2])});
          }
          item.publish.emplace(CheckPublish(directory_, peer.id, *item.envelope,
                                            static_cast<size_t>(config_.max_message_bytes)));
        }
        return HandlePublish(peer, *item.envelope, *item.publish);
      }
      break;
    case protocol::Command::kDelivered:
      if (endpoint) return HandleDelivered(peer, message, item.receipt ? &*item.receipt : nullptr);
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

}  // namespace stafett::broker
