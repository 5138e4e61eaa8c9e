// Raw ZeroMQ: sender DEALER → ROUTER → recipient DEALER, ack back recipient → ROUTER → sender,
// 2 KiB messages, a window in flight, over TCP loopback; plain and CURVE. No disk, no crypto
// beyond CURVE's: the ceiling for any broker built on these sockets on this machine.
#include <array>
#include <thread>
#include <zmq.hpp>

#include "bench_stats.h"
#include "limits.h"

namespace stafett::bench {
namespace {

struct CurveKeys {
  std::array<char, 41> server_public{}, server_secret{}, client_public{}, client_secret{};
};

void Secure(zmq::socket_t& socket, const CurveKeys* keys, bool server) {
  if (keys == nullptr) return;
  if (server) {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, std::string(keys->server_secret.data(), 40));
  } else {
    socket.set(zmq::sockopt::curve_serverkey, std::string(keys->server_public.data(), 40));
    socket.set(zmq::sockopt::curve_publickey, std::string(keys->client_public.data(), 40));
    socket.set(zmq::sockopt::curve_secretkey, std::string(keys->client_secret.data(), 40));
  }
}

double RoundTrips(int count, int window, const CurveKeys* keys) {
  zmq::context_t context(2);
  zmq::socket_t router(context, zmq::socket_type::router);
  Secure(router, keys, true);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  std::string address = router.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};

  std::thread relay([&] {
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    // Both peers say "hello" first; the sender gets "go" once the router knows them both (a
    // ROUTER drops what it is asked to send to a peer it has not heard from yet).
    bool heard_sender = false, heard_recipient = false, started = false;
    while (!stop) {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(50)) == 0) continue;
      zmq::message_t from, body;
      while (router.recv(from, zmq::recv_flags::dontwait)) {
        (void)router.recv(body, zmq::recv_flags::none);
        if (!started) {
          (from.to_string() == "s" ? heard_sender : heard_recipient) = true;
          if (heard_sender && heard_recipient) {
            router.send(zmq::str_buffer("s"), zmq::send_flags::sndmore);
            router.send(zmq::str_buffer("go"), zmq::send_flags::none);
            started = true;
          }
          continue;
        }
        std::string to = from.to_string() == "s" ? "r" : "s";
        router.send(zmq::buffer(to), zmq::send_flags::sndmore);
        router.send(body, zmq::send_flags::none);
      }
    }
  });
  std::thread recipient([&] {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    Secure(socket, keys, false);
    socket.set(zmq::sockopt::routing_id, "r");
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(address);
    socket.send(zmq::str_buffer("hello"), zmq::send_flags::none);  // announce to the router
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    while (!stop) {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(50)) == 0) continue;
      zmq::message_t body;
      while (socket.recv(body, zmq::recv_flags::dontwait)) {
        socket.send(zmq::buffer(body.data(), 8), zmq::send_flags::none);
      }
    }
  });

  zmq::socket_t sender(context, zmq::socket_type::dealer);
  Secure(sender, keys, false);
  sender.set(zmq::sockopt::routing_id, "s");
  sender.set(zmq::sockopt::linger, 0);
  sender.connect(address);
  zmq::pollitem_t item{sender.handle(), 0, ZMQ_POLLIN, 0};
  std::string payload(2048, 'z');
  sender.send(zmq::str_buffer("hello"), zmq::send_flags::none);
  if (zmq::poll(&item, 1, std::chrono::milliseconds(10000)) == 0) {
    stop = true;
    relay.join();
    recipient.join();
    return 0;
  }
  zmq::message_t go;
  (void)sender.recv(go, zmq::recv_flags::none);
  int sent = 0, acked = 0;
  int64_t start = NowNanos();
  while (acked < count) {
    while (sent < count && sent - acked < window) {
      sender.send(zmq::buffer(payload), zmq::send_flags::none);
      ++sent;
    }
    if (zmq::poll(&item, 1, std::chrono::milliseconds(1000)) == 0) break;
    zmq::message_t ack;
    while (sender.recv(ack, zmq::recv_flags::dontwait)) ++acked;
  }
  double rate = acked / (static_cast<double>(NowNanos() - start) / 1e9);
  stop = true;
  relay.join();
  recipient.join();
  return rate;
}

}  // namespace

nlohmann::json MeasureZmq(int count, int window) {
  CurveKeys keys;
  zmq_curve_keypair(keys.server_public.data(), keys.server_secret.data());
  zmq_curve_keypair(keys.client_public.data(), keys.client_secret.data());
  return {{"plain_roundtrips_per_sec", RoundTrips(count, window, nullptr)},
          {"curve_roundtrips_per_sec", RoundTrips(count, window, &keys)},
          {"window", window},
          {"message_bytes", 2048}};
}

}  // namespace stafett::bench
