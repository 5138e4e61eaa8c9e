// bench_rabbitmq: the workload through RabbitMQ with its official C client (rabbitmq-c).
// Durable queue (quorum or classic), persistent messages (delivery_mode 2), publisher confirms,
// manual consumer acks with a prefetch (basic.qos) equal to the Stafett credit window.
// Publisher and consumer have a connection and a thread each (rabbitmq-c connections are not
// shared between threads).
//   bench_rabbitmq accept|e2e|latency --port P --queue-type quorum|classic --count N --window W
//                  --credit C [--rate R --seconds S]
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <atomic>
#include <thread>

#include "bench_stats.h"

namespace stafett::bench {
namespace {

struct Run {
  std::string mode, queue_type = "quorum";
  int port = 5672;
  uint64_t count = 10000, window = 256;
  int credit = 128;
  double rate = 1000;
  double max_seconds = 600;  // a run that has not finished by then stops and says so
  std::string queue() const { return "bench-" + queue_type; }
};

struct Shared {
  explicit Shared(uint64_t count) : scheduled(count), delivered(count) {}
  std::vector<std::atomic<int64_t>> scheduled;
  std::vector<std::atomic<bool>> delivered;
  std::atomic<uint64_t> consumed{0};
  std::atomic<bool> stop{false}, consumer_ready{false};
  std::atomic<uint64_t> failures{0};
  LatencySamples end_to_end;
  int64_t last_consumed_at = 0;
};

bool Check(amqp_rpc_reply_t reply, const char* what) {
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return true;
  std::fprintf(stderr, "rabbitmq: %s failed (reply type %d)\n", what, reply.reply_type);
  return false;
}

amqp_connection_state_t Connect(int port) {
  amqp_connection_state_t connection = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(connection);
  if (socket == nullptr || amqp_socket_open(socket, "127.0.0.1", port) != AMQP_STATUS_OK) {
    return nullptr;
  }
  if (!Check(amqp_login(connection, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"),
             "login")) {
    return nullptr;
  }
  amqp_channel_open(connection, 1);
  if (!Check(amqp_get_rpc_reply(connection), "channel.open")) return nullptr;
  return connection;
}

void Close(amqp_connection_state_t connection) {
  amqp_channel_close(connection, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(connection, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(connection);
}

// Deletes and declares the queue: durable, of the given type, nothing left from an earlier run.
bool DeclareQueue(amqp_connection_state_t connection, const Run& run) {
  amqp_queue_delete(connection, 1, amqp_cstring_bytes(run.queue().c_str()), 0, 0);
  if (!Check(amqp_get_rpc_reply(connection), "queue.delete")) return false;
  amqp_table_entry_t entry;
  entry.key = amqp_cstring_bytes("x-queue-type");
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = amqp_cstring_bytes(run.queue_type.c_str());
  amqp_table_t arguments = {1, &entry};
  amqp_queue_declare(connection, 1, amqp_cstring_bytes(run.queue().c_str()), 0, 1, 0, 0, arguments);
  return Check(amqp_get_rpc_reply(connection), "queue.declare");
}

void RunConsumer(const Run& run, Shared& shared) {
  amqp_connection_state_t connection = Connect(run.port);
  if (connection == nullptr) {
    shared.failures++;
    shared.consumer_ready = true;
    return;
  }
  amqp_basic_qos(connection, 1, 0, static_cast<uint16_t>(run.credit), 0);
  amqp_basic_consume(connection, 1, amqp_cstring_bytes(run.queue().c_str()), amqp_empty_bytes, 0, 0,
                     0, amqp_empty_table);
  if (!Check(amqp_get_rpc_reply(connection), "basic.consume")) shared.failures++;
  shared.consumer_ready = true;
  while (!shared.stop && shared.consumed < run.count) {
    amqp_maybe_release_buffers(connection);
    amqp_envelope_t envelope;
    timeval timeout{0, 100'000};
    amqp_rpc_reply_t reply = amqp_consume_message(connection, &envelope, &timeout, 0);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) continue;
    uint64_t index = PayloadIndex(envelope.message.body.bytes, envelope.message.body.len);
    amqp_basic_ack(connection, 1, envelope.delivery_tag, 0);
    amqp_destroy_envelope(&envelope);
    if (index >= run.count || shared.delivered[index].exchange(true)) continue;
    int64_t now = NowNanos();
    shared.end_to_end.Add(now - shared.scheduled[index].load());
    shared.last_consumed_at = now;
    shared.consumed++;
  }
  Close(connection);
}

nlohmann::json RunPublisher(const Run& run, Shared& shared) {
  amqp_connection_state_t connection = Connect(run.port);
  if (connection == nullptr) return {{"error", "connect"}};
  amqp_confirm_select(connection, 1);
  if (!Check(amqp_get_rpc_reply(connection), "confirm.select")) return {{"error", "confirm"}};
  const bool latency = run.mode == "latency";
  const bool end_to_end = run.mode != "accept";
  amqp_basic_properties_t properties;
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.delivery_mode = 2;  // persistent
  LatencySamples accept_latency;
  uint64_t published = 0, confirmed = 0, nacked = 0;
  int64_t start = NowNanos(), last_confirmed_at = start;
  Schedule schedule(start + 1'000'000, run.rate);
  auto finished = [&] {
    return end_to_end ? shared.consumed >= run.count : confirmed + nacked >= run.count;
  };
  const int64_t deadline = start + static_cast<int64_t>(run.max_seconds * 1e9);
  bool timed_out = false;
  while (!shared.stop && !finished()) {
    int64_t now = NowNanos();
    if (now > deadline) {
      timed_out = true;
      break;
    }
    while (published < run.count) {
      uint64_t in_flight =
          end_to_end ? published - shared.consumed : published - confirmed - nacked;
      if (latency ? schedule.At(published) > now : in_flight >= run.window) break;
      std::string body = MakePayload(published);
      shared.scheduled[published] = latency ? schedule.At(published) : NowNanos();
      amqp_bytes_t bytes{body.size(), body.data()};
      if (amqp_basic_publish(connection, 1, amqp_empty_bytes,
                             amqp_cstring_bytes(run.queue().c_str()), 0, 0, &properties,
                             bytes) != AMQP_STATUS_OK) {
        return {{"error", "publish"}};
      }
      ++published;
      now = NowNanos();
    }
    int64_t wait_us = 50'000;
    if (latency && published < run.count) {
      wait_us = std::max<int64_t>(0, (schedule.At(published) - now) / 1000);
    }
    timeval timeout{static_cast<time_t>(wait_us / 1'000'000),
                    static_cast<suseconds_t>(wait_us % 1'000'000)};
    amqp_frame_t frame;
    // Delivery tags are 1-based publish counts on this channel; "multiple" confirms up to one.
    while (amqp_simple_wait_frame_noblock(connection, &frame, &timeout) == AMQP_STATUS_OK) {
      timeout = {0, 0};
      if (frame.frame_type != AMQP_FRAME_METHOD) continue;
      uint64_t tag = 0;
      bool multiple = false, ack = true;
      if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        auto* decoded = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
        tag = decoded->delivery_tag;
        multiple = decoded->multiple;
      } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
        auto* decoded = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
        tag = decoded->delivery_tag;
        multiple = decoded->multiple;
        ack = false;
      } else {
        continue;
      }
      uint64_t done = confirmed + nacked;
      uint64_t first = multiple ? done + 1 : tag;
      int64_t at = NowNanos();
      for (uint64_t t = first; t <= tag; ++t) {
        if (ack) {
          ++confirmed;
          accept_latency.Add(at - shared.scheduled[t - 1].load());
        } else {
          ++nacked;
        }
      }
      last_confirmed_at = at;
      if (latency && published < run.count && schedule.At(published) <= NowNanos()) break;
    }
  }
  int64_t end = end_to_end ? shared.last_consumed_at : last_confirmed_at;
  double seconds = static_cast<double>(end - start) / 1e9;
  Close(connection);
  nlohmann::json out = {{"published", published},
                        {"accepted", confirmed},
                        {"refused", nacked},
                        {"seconds", seconds},
                        {"msgs_per_sec", static_cast<double>(run.count) / seconds},
                        {"accept_latency", accept_latency.Summary()}};
  if (timed_out) out["error"] = "timed out after " + std::to_string(run.max_seconds) + " s";
  return out;
}

}  // namespace
}  // namespace stafett::bench

int main(int argc, char** argv) {
  using namespace stafett::bench;
  if (argc < 2) return 2;
  Flags flags(argc, argv, 2);
  Run run;
  run.mode = argv[1];
  run.port = static_cast<int>(flags.Int("port", 5672));
  run.queue_type = flags.Get("queue-type", "quorum");
  run.window = static_cast<uint64_t>(flags.Int("window", 256));
  run.credit = static_cast<int>(flags.Int("credit", 128));
  run.rate = flags.Double("rate", 1000);
  run.count = static_cast<uint64_t>(flags.Int("count", 10000));
  run.max_seconds = flags.Double("max-seconds", 600);
  if (run.mode == "latency")
    run.count = static_cast<uint64_t>(run.rate * flags.Double("seconds", 10));
  {
    amqp_connection_state_t setup = Connect(run.port);
    if (setup == nullptr || !DeclareQueue(setup, run)) return 1;
    Close(setup);
  }
  Shared shared(run.count);
  shared.end_to_end.Reserve(run.count);
  std::thread consumer;
  if (run.mode != "accept") {
    consumer = std::thread([&] { RunConsumer(run, shared); });
    while (!shared.consumer_ready) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  nlohmann::json result = RunPublisher(run, shared);
  shared.stop = true;
  if (consumer.joinable()) consumer.join();
  result["system"] = "rabbitmq_" + run.queue_type;
  result["mode"] = run.mode;
  result["count"] = run.count;
  result["window"] = run.window;
  result["credit"] = run.credit;
  if (run.mode == "latency") result["rate"] = run.rate;
  if (run.mode != "accept") {
    result["consumed"] = shared.consumed.load();
    result["e2e_latency"] = shared.end_to_end.Summary();
  }
  result["failures"] = shared.failures.load();
  PrintResult(result);
  return shared.failures == 0 && !result.contains("error") ? 0 : 1;
}
