// bench_nats: the workload through NATS JetStream with its official C client (nats.c).
// Stream with file storage and work-queue retention; asynchronous publishes with JetStream
// acks (the publisher's confirm); a durable pull consumer with explicit acks and max_ack_pending
// equal to the Stafett credit window. Note: JetStream 2.9 acknowledges a publish once the
// message is written to its file, and fsyncs on a timer (sync_interval, default 2 minutes), not
// per message: its figures are not durable against power loss in the way the others are.
//   bench_nats accept|e2e|latency --port P --count N --window W --credit C [--rate R --seconds S]
#include <nats/nats.h>

#include <atomic>
#include <thread>

#include "bench_stats.h"

namespace stafett::bench {
namespace {

constexpr const char* kStream = "BENCH";
constexpr const char* kSubject = "bench.referrals";
constexpr const char* kDurable = "bench-recipient";

struct Run {
  std::string mode;
  int port = 4222;
  uint64_t count = 10000, window = 256;
  int credit = 128;
  double rate = 1000;
  double max_seconds = 600;  // a run that has not finished by then stops and says so
};

struct Shared {
  explicit Shared(uint64_t count) : scheduled(count), delivered(count) {}
  std::vector<std::atomic<int64_t>> scheduled;
  std::vector<std::atomic<bool>> delivered;
  std::atomic<uint64_t> consumed{0}, accepted{0}, refused{0};
  std::atomic<int64_t> last_accepted_at{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failures{0};
  LatencySamples end_to_end;      // consumer thread only
  LatencySamples accept_latency;  // ack-handler thread only
  int64_t last_consumed_at = 0;
};

void OnPublishAck(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr*, void* closure) {
  auto* shared = static_cast<Shared*>(closure);
  int64_t now = NowNanos();
  if (ack != nullptr) {
    uint64_t index = PayloadIndex(natsMsg_GetData(message), natsMsg_GetDataLength(message));
    if (index < shared->scheduled.size()) {
      shared->accept_latency.Add(now - shared->scheduled[index].load());
    }
    shared->accepted++;
  } else {
    shared->refused++;
  }
  shared->last_accepted_at = now;
  natsMsg_Destroy(message);
}

bool Fail(natsStatus status, const char* what) {
  if (status == NATS_OK) return false;
  std::fprintf(stderr, "nats: %s: %s\n", what, natsStatus_GetText(status));
  return true;
}

void RunConsumer(const Run& run, jsCtx* js, Shared& shared) {
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Config.AckPolicy = js_AckExplicit;
  options.Config.MaxAckPending = run.credit;
  natsSubscription* subscription = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  if (Fail(js_PullSubscribe(&subscription, js, kSubject, kDurable, nullptr, &options, &error),
           "pull subscribe")) {
    shared.failures++;
    return;
  }
  while (!shared.stop && shared.consumed < run.count) {
    natsMsgList list{};
    natsStatus status = natsSubscription_Fetch(&list, subscription, run.credit, 100, &error);
    if (status != NATS_OK) continue;  // timeout: nothing to fetch yet
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* message = list.Msgs[i];
      uint64_t index = PayloadIndex(natsMsg_GetData(message), natsMsg_GetDataLength(message));
      natsMsg_Ack(message, nullptr);
      if (index >= run.count || shared.delivered[index].exchange(true)) continue;
      int64_t now = NowNanos();
      shared.end_to_end.Add(now - shared.scheduled[index].load());
      shared.last_consumed_at = now;
      shared.consumed++;
    }
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Destroy(subscription);
}

nlohmann::json RunPublisher(const Run& run, jsCtx* js, Shared& shared) {
  const bool latency = run.mode == "latency";
  const bool end_to_end = run.mode != "accept";
  uint64_t published = 0;
  int64_t start = NowNanos();
  Schedule schedule(start + 1'000'000, run.rate);
  auto finished = [&] {
    return end_to_end ? shared.consumed >= run.count
                      : shared.accepted + shared.refused >= run.count;
  };
  const int64_t deadline = start + static_cast<int64_t>(run.max_seconds * 1e9);
  bool timed_out = false;
  while (!shared.stop && !finished()) {
    int64_t now = NowNanos();
    if (now > deadline) {
      timed_out = true;
      break;
    }
    bool sent = false;
    while (published < run.count) {
      uint64_t done = end_to_end ? shared.consumed.load() : shared.accepted + shared.refused;
      if (latency ? schedule.At(published) > now : published - done >= run.window) break;
      std::string body = MakePayload(published);
      shared.scheduled[published] = latency ? schedule.At(published) : NowNanos();
      if (Fail(js_PublishAsync(js, kSubject, body.data(), static_cast<int>(body.size()), nullptr),
               "publish")) {
        return {{"error", "publish"}};
      }
      ++published;
      sent = true;
      now = NowNanos();
    }
    if (!sent) {
      // The acks arrive on the client's own threads; wait briefly for them (or the schedule).
      int64_t wait = 20'000;
      if (latency && published < run.count) {
        wait = std::min<int64_t>(wait, std::max<int64_t>(0, schedule.At(published) - now));
      }
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
  }
  int64_t end = end_to_end ? shared.last_consumed_at : shared.last_accepted_at.load();
  double seconds = static_cast<double>(end - start) / 1e9;
  nlohmann::json out = {{"published", published},
                        {"accepted", shared.accepted.load()},
                        {"refused", shared.refused.load()},
                        {"seconds", seconds},
                        {"msgs_per_sec", static_cast<double>(run.count) / seconds}};
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
  run.port = static_cast<int>(flags.Int("port", 4222));
  run.window = static_cast<uint64_t>(flags.Int("window", 256));
  run.credit = static_cast<int>(flags.Int("credit", 128));
  run.rate = flags.Double("rate", 1000);
  run.count = static_cast<uint64_t>(flags.Int("count", 10000));
  run.max_seconds = flags.Double("max-seconds", 600);
  if (run.mode == "latency")
    run.count = static_cast<uint64_t>(run.rate * flags.Double("seconds", 10));
  Shared shared(run.count);
  shared.end_to_end.Reserve(run.count);
  shared.accept_latency.Reserve(run.count);

  natsConnection* connection = nullptr;
  std::string url = "nats://127.0.0.1:" + std::to_string(run.port);
  if (Fail(natsConnection_ConnectTo(&connection, url.c_str()), "connect")) return 1;
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending =
      static_cast<int64_t>(run.mode == "latency" ? 100000 : run.window);
  options.PublishAsync.AckHandler = OnPublishAck;
  options.PublishAsync.AckHandlerClosure = &shared;
  jsCtx* js = nullptr;
  if (Fail(natsConnection_JetStream(&js, connection, &options), "jetstream")) return 1;

  jsErrCode error = static_cast<jsErrCode>(0);
  js_DeleteStream(js, kStream, nullptr, &error);  // nothing left from an earlier run
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = kStream;
  const char* subjects[] = {kSubject};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_WorkQueuePolicy;
  jsStreamInfo* info = nullptr;
  if (Fail(js_AddStream(&info, js, &config, nullptr, &error), "add stream")) return 1;
  jsStreamInfo_Destroy(info);

  std::thread consumer;
  if (run.mode != "accept") consumer = std::thread([&] { RunConsumer(run, js, shared); });
  nlohmann::json result = RunPublisher(run, js, shared);
  jsPubOptions complete;
  jsPubOptions_Init(&complete);
  complete.MaxWait = 10000;
  js_PublishAsyncComplete(js, &complete);
  shared.stop = true;
  if (consumer.joinable()) consumer.join();
  result["accept_latency"] = shared.accept_latency.Summary();
  result["system"] = "nats_jetstream";
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
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  PrintResult(result);
  return shared.failures == 0 && !result.contains("error") ? 0 : 1;
}
