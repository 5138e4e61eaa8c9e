// stafett_product_bench: Stafett at product level. Documents are dropped into the sender
// agent's outbox the documented way and travel through the real agents and broker until the
// recipient agent's inbox file appears. Given a sandbox (`stafett county init DIR`) whose broker
// and the two agents run, it records one consent (sender → recipient, purpose support) and waits
// for it in the recipient's inbox, then runs one of:
//   accept   --county DIR --count N --window W   recipient agent offline (the consent is waited
//                                                 for in outbox/sent): at most W dropped and not
//                                                 yet accepted; msg/s to the last acceptance
//   e2e      --county DIR --count N --window W   at most W dropped and not yet in the inbox;
//                                                 msg/s from the first drop to the last arrival
//   latency  --county DIR --rate R --seconds S    drops on a fixed schedule; each latency is from
//                                                 the message's scheduled drop time to the inotify
//                                                 event of its inbox file (no coordinated omission)
// More flags: --sender ID (flen.school), --recipient ID (flen.social), --reason-bytes B (2048),
// --prefix P, --max-seconds T (600: the run stops and says so), --ready-seconds T (60: consent).
// Arrivals are inbox/<id>.json renamed into place (IN_MOVED_TO; IN_CLOSE_WRITE is watched too);
// outbox/sent gives accept latency, outbox/rejected/<name>.error.json a refusal. Receipts in
// the sender's inbox are not counted. One JSON line on stdout, shaped like stafett_bench's.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "bench_stats.h"
#include "folder_watcher.h"
#include "sandbox.h"

namespace stafett::bench {
namespace {

struct Run {
  std::string mode;
  std::filesystem::path county;
  std::string sender = "flen.school";
  std::string recipient = "flen.social";
  std::string prefix = "p";
  uint64_t count = 0;
  uint64_t window = 256;
  double rate = 1000;
  size_t reason_bytes = 2048;
  double max_seconds = 600;
  double ready_seconds = 60;
};

// The folders FolderWatcher watches, in this order.
enum Folder : size_t { kInbox = 0, kSent = 1, kRejected = 2 };

// RUN_ID-<index, seven digits>: zero-padded so that the names sort in drop order, as the agent's
// outbox scan (at start, every rescan_seconds and after an inotify overflow) takes them.
std::string MessageId(const std::string& run_id, uint64_t index) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%07llu", static_cast<unsigned long long>(index));
  return run_id + "-" + digits;
}

// The index of NAME if it is RUN_ID-<digits>SUFFIX.
std::optional<uint64_t> IndexOf(const std::string& name, const std::string& run_id,
                                std::string_view suffix) {
  if (name.size() <= run_id.size() + 1 + suffix.size() || name.rfind(run_id + "-", 0) != 0 ||
      !name.ends_with(suffix)) {
    return std::nullopt;
  }
  std::string digits =
      name.substr(run_id.size() + 1, name.size() - run_id.size() - 1 - suffix.size());
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

// What the watcher thread learns about the run's messages; the dropper waits on `changed`.
class Tracker {
 public:
  Tracker(uint64_t count, bool accept_only, std::string run_id, const SandboxPaths& paths)
      : scheduled(count),
        accept_only_(accept_only),
        run_id_(std::move(run_id)),
        paths_(paths),
        arrived_(count),
        accepted_(count),
        refused_(count) {
    end_to_end_.Reserve(count);
    accept_latency_.Reserve(count);
  }

  std::vector<std::atomic<int64_t>> scheduled;  // index → drop time (scheduled, in latency mode)
  std::atomic<uint64_t> arrivals{0}, acceptances{0}, refusals{0}, overflows{0};
  std::atomic<int64_t> last_arrival_at{0}, last_acceptance_at{0};

  // Messages whose run is over: in the inbox (accepted, in accept mode) or refused.
  uint64_t Done() const { return (accept_only_ ? acceptances : arrivals) + refusals; }

  // Waits until Done() reaches DONE or until MILLIS have passed.
  void WaitFor(uint64_t done, int64_t millis) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(millis), [&] { return Done() >= done; });
  }

  // Watcher thread.
  void OnName(size_t folder, const std::string& name, int64_t at) {
    if (folder == kInbox) {
      std::optional<uint64_t> index = IndexOf(name, run_id_, ".json");
      if (!index || *index >= arrived_.size() || arrived_[*index].exchange(true)) return;
      end_to_end_.Add(at - scheduled[*index].load());
      last_arrival_at = at;
      ++arrivals;
      Notify();
    } else if (folder == kSent) {
      std::optional<uint64_t> index = IndexOf(name, run_id_, ".json");
      if (!index || *index >= accepted_.size() || accepted_[*index].exchange(true)) return;
      accept_latency_.Add(at - scheduled[*index].load());
      last_acceptance_at = at;
      ++acceptances;
      if (accept_only_) Notify();
    } else if (folder == kRejected) {
      std::optional<uint64_t> index = IndexOf(name, run_id_, ".json.error.json");
      if (!index || *index >= refused_.size() || refused_[*index].exchange(true)) return;
      if (last_refusal_.empty()) {
        std::ifstream file(paths_.rejected / name);
        last_refusal_.assign(std::istreambuf_iterator<char>(file), {});
      }
      ++refusals;
      Notify();
    }
  }

  // Watcher thread: events were lost; whatever is in the folders now counts as seen now.
  void OnOverflow(int64_t at) {
    ++overflows;
    const std::filesystem::path folders[] = {paths_.recipient_inbox, paths_.sent, paths_.rejected};
    for (size_t folder = 0; folder < 3; ++folder) {
      std::error_code error;
      for (const auto& entry : std::filesystem::directory_iterator(folders[folder], error)) {
        OnName(folder, entry.path().filename().string(), at);
      }
    }
  }

  // After the watcher has stopped.
  nlohmann::json EndToEndSummary() { return end_to_end_.Summary(); }
  nlohmann::json AcceptSummary() { return accept_latency_.Summary(); }
  const std::string& last_refusal() const { return last_refusal_; }

 private:
  void Notify() {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }

  const bool accept_only_;
  const std::string run_id_;
  const SandboxPaths paths_;
  std::vector<std::atomic<bool>> arrived_, accepted_, refused_;
  LatencySamples end_to_end_, accept_latency_;  // watcher thread only
  std::string last_refusal_;                    // watcher thread only
  std::mutex mutex_;
  std::condition_variable changed_;
};

// Drops the consent and waits for it in the recipient's inbox (accept mode: until the broker has
// accepted it). Returns "" or what went wrong.
std::string RecordConsent(const Run& run, const SandboxPaths& paths, const std::string& run_id,
                          const std::string& consent_id) {
  std::string message_id = run_id + "-consent";
  std::string error;
  std::string document = ConsentDocument(message_id, consent_id, run.sender, run.recipient,
                                         std::chrono::system_clock::now());
  if (!DropDocument(paths.outbox, message_id + ".json", document, &error)) return error;
  const std::filesystem::path arrived =
      (run.mode == "accept" ? paths.sent : paths.recipient_inbox) / (message_id + ".json");
  const std::filesystem::path refused = paths.rejected / (message_id + ".json.error.json");
  int64_t deadline = NowNanos() + static_cast<int64_t>(run.ready_seconds * 1e9);
  while (NowNanos() < deadline) {
    std::error_code ignored;
    if (std::filesystem::exists(arrived, ignored)) return "";
    if (std::filesystem::exists(refused, ignored)) {
      std::ifstream file(refused);
      return "consent refused: " + std::string(std::istreambuf_iterator<char>(file), {});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "the consent did not reach " + arrived.string() + " within " +
         std::to_string(run.ready_seconds) + " s (are the broker and both agents running?)";
}

int RunFlow(const Run& run) {
  std::string error;
  std::optional<SandboxPaths> paths = LoadSandbox(run.county, run.sender, run.recipient, &error);
  if (!paths) {
    std::fprintf(stderr, "stafett_product_bench: %s\n", error.c_str());
    return 1;
  }
  nlohmann::json result = {{"system", "stafett_product"}, {"mode", run.mode},
                           {"count", run.count},          {"reason_bytes", run.reason_bytes},
                           {"sender", run.sender},        {"recipient", run.recipient}};
  const bool latency = run.mode == "latency";
  if (latency) {
    result["rate"] = run.rate;
  } else {
    result["window"] = run.window;
  }
  const std::string run_id =
      run.prefix + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
  const std::string consent_id = run_id + "-consent";
  int64_t consent_start = NowNanos();
  error = RecordConsent(run, *paths, run_id, consent_id);
  if (!error.empty()) {
    result["error"] = error;
    PrintResult(result);
    return 1;
  }
  result["consent_seconds"] = static_cast<double>(NowNanos() - consent_start) / 1e9;

  // The documents before the clock starts: the run measures the product, not JSON building.
  std::vector<std::string> documents;
  documents.reserve(run.count);
  for (uint64_t i = 0; i < run.count; ++i) {
    documents.push_back(
        SupportRequestDocument(MessageId(run_id, i), consent_id, run.recipient, run.reason_bytes));
  }
  if (!documents.empty()) result["document_bytes"] = documents.front().size();

  const bool accept_only = run.mode == "accept";
  Tracker tracker(run.count, accept_only, run_id, *paths);
  FolderWatcher watcher(
      {paths->recipient_inbox, paths->sent, paths->rejected},
      [&](size_t folder, const std::string& name, int64_t at) { tracker.OnName(folder, name, at); },
      [&](int64_t at) { tracker.OnOverflow(at); });
  if (!watcher.Start(&error)) {
    std::fprintf(stderr, "stafett_product_bench: %s\n", error.c_str());
    return 1;
  }

  const int64_t start = NowNanos();
  const int64_t deadline = start + static_cast<int64_t>(run.max_seconds * 1e9);
  Schedule schedule(start + 1'000'000, run.rate);
  int64_t first_drop = 0, max_drop_lag = 0;
  uint64_t dropped = 0;
  bool timed_out = false;
  while (dropped < run.count && error.empty()) {
    int64_t now = NowNanos();
    if (now > deadline) {
      timed_out = true;
      break;
    }
    if (latency) {
      int64_t at = schedule.At(dropped);
      if (at > now) std::this_thread::sleep_for(std::chrono::nanoseconds(at - now));
      tracker.scheduled[dropped] = at;
    } else {
      if (dropped - tracker.Done() >= run.window) {
        tracker.WaitFor(dropped - run.window + 1, 100);
        continue;
      }
      tracker.scheduled[dropped] = now;
    }
    const std::string name = MessageId(run_id, dropped) + ".json";
    if (!DropDocument(paths->outbox, name, documents[dropped], &error)) break;
    if (dropped == 0) first_drop = tracker.scheduled[0];
    max_drop_lag = std::max(max_drop_lag, NowNanos() - tracker.scheduled[dropped].load());
    ++dropped;
  }
  while (error.empty() && tracker.Done() < dropped) {
    if (NowNanos() > deadline) {
      timed_out = true;
      break;
    }
    tracker.WaitFor(dropped, 100);
  }
  watcher.Stop();

  uint64_t finished = accept_only ? tracker.acceptances : tracker.arrivals;
  double seconds =
      static_cast<double>((accept_only ? tracker.last_acceptance_at : tracker.last_arrival_at) -
                          first_drop) /
      1e9;
  result["published"] = dropped;
  result["accepted"] = tracker.acceptances.load();
  result["refused"] = tracker.refusals.load();
  if (finished > 0) {
    result["seconds"] = seconds;
    result["msgs_per_sec"] = static_cast<double>(finished) / seconds;
  }
  result["accept_latency"] = tracker.AcceptSummary();
  if (!accept_only) {
    result["consumed"] = tracker.arrivals.load();
    result["e2e_latency"] = tracker.EndToEndSummary();
  }
  if (latency) result["max_drop_lag_us"] = static_cast<double>(max_drop_lag) / 1000.0;
  result["inotify_overflows"] = tracker.overflows.load();
  result["failures"] = tracker.refusals.load();
  if (!tracker.last_refusal().empty()) result["last_refusal"] = tracker.last_refusal();
  if (!error.empty()) result["error"] = error;
  if (timed_out) {
    result["error"] = "timed out after " + std::to_string(run.max_seconds) + " s with " +
                      std::to_string(finished) + " of " + std::to_string(run.count) +
                      (accept_only ? " accepted" : " in the inbox");
  }
  PrintResult(result);
  return result.contains("error") || tracker.refusals > 0 ? 1 : 0;
}

}  // namespace
}  // namespace stafett::bench

int main(int argc, char** argv) {
  using namespace stafett::bench;
  const std::string mode = argc < 2 ? "" : argv[1];
  if (mode != "accept" && mode != "e2e" && mode != "latency") {
    std::fprintf(stderr,
                 "usage: stafett_product_bench accept|e2e --county DIR --count N --window W\n"
                 "       stafett_product_bench latency --county DIR --rate R --seconds S\n");
    return 2;
  }
  Flags flags(argc, argv, 2);
  Run run;
  run.mode = argv[1];
  run.county = flags.Get("county");
  run.sender = flags.Get("sender", run.sender);
  run.recipient = flags.Get("recipient", run.recipient);
  run.prefix = flags.Get("prefix", run.prefix);
  run.window = static_cast<uint64_t>(flags.Int("window", 256));
  run.rate = flags.Double("rate", 1000);
  run.count = static_cast<uint64_t>(flags.Int("count", 2000));
  run.reason_bytes = static_cast<size_t>(flags.Int("reason-bytes", 2048));
  run.max_seconds = flags.Double("max-seconds", 600);
  run.ready_seconds = flags.Double("ready-seconds", 60);
  if (run.mode == "latency") {
    run.count = static_cast<uint64_t>(run.rate * flags.Double("seconds", 10));
  }
  if (run.county.empty() || run.count == 0 || run.window == 0 || run.rate <= 0) {
    std::fprintf(stderr, "stafett_product_bench: --county, a positive count, window and rate\n");
    return 2;
  }
  return RunFlow(run);
}
