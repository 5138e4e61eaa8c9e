// stafett_bench: the Stafett protocol-level bench client. Two agents in one process, each on its
// own thread and socket: the sender (flen.school) seals and publishes 2 KiB referrals and
// acknowledges receipts; the recipient (flen.social) verifies, opens and answers each delivery
// with a signed receipt. Modes:
//   county   --dir D                                   write key sets and trust directory
//   accept   --county D --broker URL --count N --window W [--prefix P]
//            publish → ACCEPTED throughput, recipient offline (its queue grows)
//   e2e      ... --count N --window W --credit C       publish → deliver → DELIVERED throughput
//            [--ttl-seconds S: each message expires S after its sending; default 7 days]
//   latency  ... --rate R --seconds S --credit C       end-to-end latency at a fixed offered rate
//   recover  ... --t0-unix-ns T [--count N]            after a restart: time to WELCOME and first
//            DELIVER for the recipient (T = when the broker was started), then drains N
// One JSON line on stdout per run.
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench_agent.h"
#include "bench_stats.h"

namespace stafett::bench {
namespace {

using core::protocol::Command;

struct Run {
  std::string mode;
  std::string endpoint;
  std::filesystem::path county;
  std::string prefix = "m";
  uint64_t count = 0;
  uint64_t window = 256;
  int credit = 128;
  double rate = 1000;
  double max_seconds = 600;             // a run that has not finished by then stops and says so
  int64_t ttl_seconds = 7 * 24 * 3600;  // each message's expiry after its sending
};

// State shared by the two agent threads of one run.
struct Shared {
  explicit Shared(uint64_t count) : scheduled(count), delivered(count) {}
  std::vector<std::atomic<int64_t>> scheduled;  // index → send time (scheduled, in latency mode)
  std::vector<std::atomic<bool>> delivered;
  std::atomic<uint64_t> consumed{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failures{0};
  LatencySamples end_to_end;  // recipient thread only
  int64_t last_consumed_at = 0;
};

uint64_t IndexOf(const std::string& message_id) {
  size_t dash = message_id.rfind('-');
  return std::stoull(message_id.substr(dash + 1));
}

void RunRecipient(zmq::context_t& context, const Run& run, const CountyView& county,
                  Shared& shared) {
  BenchAgent agent(context, run.endpoint, county, kRecipient);
  if (!agent.Hello(run.credit, std::chrono::seconds(30))) {
    std::fprintf(stderr, "recipient: no WELCOME\n");
    shared.failures++;
    shared.stop = true;
    return;
  }
  while (!shared.stop && shared.consumed < run.count) {
    std::optional<core::protocol::Message> message = agent.Receive(100);
    if (!message || message->command != Command::kDeliver) continue;
    core::Result<std::string> id = agent.AcceptDelivery(*message);
    if (!id.ok()) {
      std::fprintf(stderr, "recipient: %s\n", id.status().ToString().c_str());
      shared.failures++;
      continue;
    }
    if (id->rfind(run.prefix + "-", 0) != 0) continue;  // left over from another run
    uint64_t index = IndexOf(*id);
    if (index >= run.count || shared.delivered[index].exchange(true)) continue;  // redelivery
    int64_t now = NowNanos();
    shared.end_to_end.Add(now - shared.scheduled[index].load());
    shared.last_consumed_at = now;
    shared.consumed++;
  }
}

// The sender: publishes on schedule (latency) or within a window, handles ACCEPTED and
// RECEIPT. Returns the result fields it owns.
nlohmann::json RunSender(zmq::context_t& context, const Run& run, const CountyView& county,
                         Shared& shared) {
  BenchAgent agent(context, run.endpoint, county, kSender);
  if (!agent.Hello(run.credit, std::chrono::seconds(30))) {
    shared.failures++;
    return {{"error", "sender: no WELCOME"}};
  }
  const bool latency = run.mode == "latency";
  const bool end_to_end = run.mode != "accept";
  LatencySamples accept_latency;
  accept_latency.Reserve(run.count);
  uint64_t published = 0, accepted = 0, refused = 0;
  int64_t start = NowNanos();
  Schedule schedule(start + 1'000'000, run.rate);
  int64_t last_accepted_at = start;
  std::string last_refusal;
  auto finished = [&] {
    return end_to_end ? shared.consumed >= run.count : accepted + refused >= run.count;
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
          end_to_end ? published - shared.consumed : published - accepted - refused;
      if (latency ? schedule.At(published) > now : in_flight >= run.window) break;
      core::Result<core::Envelope> envelope = agent.SealReferral(
          run.prefix + "-" + std::to_string(published), run.ttl_seconds * 1'000'000);
      if (!envelope.ok()) return {{"error", envelope.status().ToString()}};
      shared.scheduled[published] = latency ? schedule.At(published) : NowNanos();
      agent.Publish(*envelope);
      ++published;
      now = NowNanos();
    }
    int wait_ms = 50;
    if (latency && published < run.count) {
      wait_ms = static_cast<int>(std::max<int64_t>(0, (schedule.At(published) - now) / 1'000'000));
    }
    for (std::optional<core::protocol::Message> message = agent.Receive(wait_ms); message;
         message = agent.Receive(0)) {
      if (message->command == Command::kAccepted) {
        uint64_t index = IndexOf(message->object.value("message_id", "x-0"));
        int64_t at = NowNanos();
        if (index < run.count) accept_latency.Add(at - shared.scheduled[index].load());
        ++accepted;
        last_accepted_at = at;
      } else if (message->command == Command::kRefused) {
        ++refused;
        last_refusal = message->object.dump();
      } else if (message->command == Command::kReceipt) {
        agent.AcknowledgeReceipt(*message);
      } else if (message->command == Command::kError) {
        std::fprintf(stderr, "sender: ERROR %s\n", message->object.dump().c_str());
      }
      if (latency && published < run.count && schedule.At(published) <= NowNanos()) break;
    }
  }
  int64_t end = end_to_end ? shared.last_consumed_at : last_accepted_at;
  double seconds = static_cast<double>(end - start) / 1e9;
  nlohmann::json out = {{"published", published},
                        {"accepted", accepted},
                        {"refused", refused},
                        {"seconds", seconds},
                        {"msgs_per_sec", static_cast<double>(run.count) / seconds},
                        {"accept_latency", accept_latency.Summary()}};
  if (!last_refusal.empty()) out["last_refusal"] = last_refusal;
  if (timed_out) out["error"] = "timed out after " + std::to_string(run.max_seconds) + " s";
  // Acknowledge the receipts still coming so that the broker's queues end empty.
  if (end_to_end) {
    for (int i = 0; i < 20; ++i) {
      std::optional<core::protocol::Message> message = agent.Receive(50);
      if (message && message->command == Command::kReceipt) agent.AcknowledgeReceipt(*message);
    }
  }
  return out;
}

int RunFlow(const Run& run) {
  core::Result<CountyView> sender = LoadCounty(run.county, kSender);
  core::Result<CountyView> recipient = LoadCounty(run.county, kRecipient);
  if (!sender.ok() || !recipient.ok()) {
    std::fprintf(stderr, "county: %s %s\n", sender.status().ToString().c_str(),
                 recipient.status().ToString().c_str());
    return 1;
  }
  zmq::context_t context(2);
  Shared shared(run.count);
  shared.end_to_end.Reserve(run.count);
  std::thread recipient_thread;
  if (run.mode != "accept") {
    recipient_thread = std::thread([&] { RunRecipient(context, run, *recipient, shared); });
  }
  nlohmann::json result = RunSender(context, run, *sender, shared);
  shared.stop = true;
  if (recipient_thread.joinable()) recipient_thread.join();
  result["system"] = "stafett";
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

// After a SIGKILL and restart: when does the recipient get WELCOME and its first DELIVER,
// and how fast does the backlog drain?
int RunRecover(const Run& run, int64_t t0_unix_nanos) {
  core::Result<CountyView> recipient = LoadCounty(run.county, kRecipient);
  if (!recipient.ok()) return 1;
  auto unix_nanos = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  zmq::context_t context(1);
  BenchAgent agent(context, run.endpoint, *recipient, kRecipient);
  nlohmann::json result = {{"system", "stafett"}, {"mode", "recover"}};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  bool welcomed = false;
  while (!welcomed && std::chrono::steady_clock::now() < deadline) {
    agent.Send(Command::kHello, {nlohmann::json({{"credit", run.credit}}).dump()});
    for (int i = 0; i < 5 && !welcomed; ++i) {
      std::optional<core::protocol::Message> message = agent.Receive(20);
      welcomed = message && message->command == Command::kWelcome;
    }
  }
  result["welcome_after_start_s"] = static_cast<double>(unix_nanos() - t0_unix_nanos) / 1e9;
  uint64_t drained = 0;
  int64_t drain_start = NowNanos(), last = drain_start;
  while (drained < run.count) {
    std::optional<core::protocol::Message> message = agent.Receive(5000);
    if (!message) break;
    if (message->command != Command::kDeliver) continue;
    if (drained == 0) {
      result["first_deliver_after_start_s"] =
          static_cast<double>(unix_nanos() - t0_unix_nanos) / 1e9;
    }
    if (agent.AcceptDelivery(*message).ok()) ++drained;
    last = NowNanos();
  }
  result["drained"] = drained;
  if (drained > 0) {
    result["drain_msgs_per_sec"] =
        static_cast<double>(drained) / (static_cast<double>(last - drain_start) / 1e9);
  }
  PrintResult(result);
  return welcomed ? 0 : 1;
}

}  // namespace
}  // namespace stafett::bench

int main(int argc, char** argv) {
  using namespace stafett::bench;
  if (argc < 2) {
    std::fprintf(stderr, "usage: stafett_bench county|accept|e2e|latency|recover --flags\n");
    return 2;
  }
  Flags flags(argc, argv, 2);
  Run run;
  run.mode = argv[1];
  if (run.mode == "county") {
    stafett::core::Status written = WriteCounty(flags.Get("dir"));
    if (!written.ok()) std::fprintf(stderr, "county: %s\n", written.ToString().c_str());
    return written.ok() ? 0 : 1;
  }
  run.endpoint = flags.Get("broker");
  run.county = flags.Get("county");
  run.prefix = flags.Get("prefix", "m");
  run.window = static_cast<uint64_t>(flags.Int("window", 256));
  run.credit = static_cast<int>(flags.Int("credit", 128));
  run.rate = flags.Double("rate", 1000);
  run.count = static_cast<uint64_t>(flags.Int("count", 10000));
  run.max_seconds = flags.Double("max-seconds", 600);
  run.ttl_seconds = flags.Int("ttl-seconds", run.ttl_seconds);
  if (run.mode == "latency") {
    run.count = static_cast<uint64_t>(run.rate * flags.Double("seconds", 10));
  }
  if (run.mode == "recover") return RunRecover(run, flags.Int("t0-unix-ns", 0));
  if (run.mode != "accept" && run.mode != "e2e" && run.mode != "latency") return 2;
  return RunFlow(run);
}
