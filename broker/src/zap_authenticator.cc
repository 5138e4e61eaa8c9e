// ZapAuthenticator: RFC 27 request/reply over inproc, answered from the trust directory.
#include "zap_authenticator.h"

#include <spdlog/spdlog.h>

#include <cstring>

namespace stafett::broker {

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, KeyLookup lookup,
                                   const core::Clock& clock)
    : context_(context), lookup_(std::move(lookup)), clock_(clock) {}

ZapAuthenticator::~ZapAuthenticator() { Stop(); }

namespace {

constexpr char kMonitorEndpoint[] = "inproc://stafett.handshakes";

// What a handshake that failed a protocol check was, for the log.
const char* HandshakeFailureReason(uint32_t value) {
  if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) return "not_curve";
  if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) return "wrong_server_key";
  return "handshake_protocol_error";
}

}  // namespace

core::Status ZapAuthenticator::Start(zmq::socket_t* router) {
  try {
    socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::rep);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->bind("inproc://zeromq.zap.01");
    if (router != nullptr) {
      // A NULL client or one that encrypts to another server key fails before ZAP is asked
      // (mechanism mismatch, HELLO that does not decrypt): only the monitor sees it. A ZAP
      // denial is HANDSHAKE_FAILED_AUTH, already counted in Answer, so not watched here; nor is
      // a connection dropped mid-handshake (NO_DETAIL): a port probe is not an auth failure.
      if (zmq_socket_monitor(router->handle(), kMonitorEndpoint,
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
        throw zmq::error_t();
      }
      monitor_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
      monitor_->set(zmq::sockopt::linger, 0);
      monitor_->connect(kMonitorEndpoint);
    }
  } catch (const zmq::error_t& error) {
    return core::Status(core::Code::kUnavailable,
                        std::string("cannot bind the ZAP handler: ") + error.what());
  }
  thread_ = std::thread([this] { Serve(); });
  return core::Status::Ok();
}

void ZapAuthenticator::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  socket_.reset();
  monitor_.reset();
}

void ZapAuthenticator::Serve() {
  zmq::pollitem_t items[2] = {{socket_->handle(), 0, ZMQ_POLLIN, 0},
                              {monitor_ ? monitor_->handle() : nullptr, 0, ZMQ_POLLIN, 0}};
  while (!stopping_) {
    try {
      if (zmq::poll(items, monitor_ ? 2 : 1, std::chrono::milliseconds(100)) == 0) continue;
      if ((items[1].revents & ZMQ_POLLIN) != 0) CountHandshakeFailure();
      if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
      std::vector<zmq::message_t> request;
      zmq::message_t part;
      do {
        if (!socket_->recv(part, zmq::recv_flags::none)) break;
        request.push_back(std::move(part));
      } while (request.back().more());
      std::vector<zmq::message_t> reply = Answer(request);
      for (size_t i = 0; i < reply.size(); ++i) {
        socket_->send(reply[i],
                      i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
    } catch (const zmq::error_t& error) {
      if (error.num() == ETERM) return;
      spdlog::error("event=zap_error error=\"{}\"", error.what());
    }
  }
}

void ZapAuthenticator::CountHandshakeFailure() {
  zmq::message_t event_frame, address_frame;
  if (!monitor_->recv(event_frame, zmq::recv_flags::dontwait)) return;
  if (event_frame.more()) {
    if (!monitor_->recv(address_frame, zmq::recv_flags::none)) return;
  }
  if (event_frame.size() < 6) return;
  uint16_t event = 0;
  uint32_t value = 0;
  std::memcpy(&event, event_frame.data(), sizeof(event));
  std::memcpy(&value, static_cast<const char*>(event_frame.data()) + 2, sizeof(value));
  if (event != ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) return;
  ++denied_;
  spdlog::warn("event=auth_denied reason={} endpoint={}", HandshakeFailureReason(value),
               address_frame.to_string_view());
}

std::vector<zmq::message_t> ZapAuthenticator::Answer(const std::vector<zmq::message_t>& request) {
  // Request: version, request id, domain, address, routing id, mechanism, credentials…
  std::string request_id = request.size() > 1 ? request[1].to_string() : "";
  auto reply = [&](std::string_view code, std::string_view text, std::string_view user) {
    std::vector<zmq::message_t> frames;
    frames.emplace_back(std::string_view("1.0"));
    frames.emplace_back(request_id);
    frames.emplace_back(code);
    frames.emplace_back(text);
    frames.emplace_back(user);
    frames.emplace_back(std::string_view(""));
    return frames;
  };
  if (request.size() < 7 || request[0].to_string_view() != "1.0") {
    ++denied_;
    return reply("500", "malformed ZAP request", "");
  }
  std::string_view address = request[3].to_string_view();
  if (request[5].to_string_view() != "CURVE" || request[6].size() != 32) {
    ++denied_;
    spdlog::warn("event=auth_denied reason=not_curve address={}", address);
    return reply("400", "CURVE required", "");
  }
  std::string principal = lookup_(request[6].to_string_view(), clock_.Now());
  if (principal.empty()) {
    ++denied_;
    spdlog::warn("event=auth_denied reason=unknown_key address={}", address);
    return reply("400", "unknown key", "");
  }
  ++admitted_;
  spdlog::debug("event=auth_admitted principal={} address={}", principal, address);
  return reply("200", "OK", principal);
}

}  // namespace stafett::broker
