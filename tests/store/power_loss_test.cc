// Power loss at the store level: a workload of committed (synced) transactions on the RocksDB
// store over FaultInjectionFileSystem, the power cut at random points — between transactions
// or part way through one — everything not synced dropped, the store reopened, and checked:
// every transaction acknowledged as committed is there entirely, the one in progress at the cut
// is there entirely or not at all, nothing is half applied.
// STAFETT_POWER_LOSSES (default 1000) and STAFETT_POWER_LOSS_SEED (default: from the clock)
// set the run; the seed is printed, so a failure can be replayed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "stafett/store/fault_injection_file_system.h"
#include "support/sandbox_files.h"

// RocksDB allocates a great deal while it opens. ASan's 30-frame allocation stacks and its
// filling of new blocks made a reopen cost several times more; with short stacks and no fill a
// thousand reopens take ~45 s of CPU under ASan, and ASan still checks every access.
extern "C" const char* __asan_default_options() {
  return "malloc_context_size=4:max_malloc_fill_size=0";
}

namespace stafett::store {
namespace {

constexpr int kMessageIds = 16;
constexpr int kEndpoints = 3;
constexpr uint64_t kQueueKeep = 5;  // batch B deletes the queue entry of batch B - kQueueKeep
// Every this many power losses the database starts afresh (after a full check), so that a
// thousand losses cost a thousand small reopens rather than ever larger ones.
constexpr uint64_t kLossesPerDatabase = 50;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

std::string MessageId(uint64_t batch) { return "m-" + std::to_string(batch % kMessageIds); }
std::string Endpoint(uint64_t batch) { return "e.p" + std::to_string(batch % kEndpoints); }
std::string Leaf(uint64_t batch) { return "{\"batch\":" + std::to_string(batch) + "}"; }

core::MessageState StateOf(uint64_t batch) {
  core::MessageState state;
  state.seq = batch;
  state.type = "support_request";
  state.from = "flen.school";
  state.to = {"flen.social"};
  state.accepted_at = static_cast<core::Micros>(batch);
  state.expires_at = static_cast<core::Micros>(batch) + 1000;
  state.payload_digest = std::string(32, static_cast<char>(batch & 0xff));
  state.header_digest = std::string(32, '\x02');
  state.recipients["flen.social"] = core::RecipientDelivery{core::RecipientState::kQueued, batch};
  return state;
}

// What the store must hold: the effect of every batch that took.
struct Model {
  uint64_t batches = 0;                               // batches 0..batches-1 took
  std::map<std::string, uint64_t> message_seq;        // message id → batch of its state
  std::set<std::pair<std::string, uint64_t>> queued;  // (endpoint, seq)

  void Apply(uint64_t batch) {
    message_seq[MessageId(batch)] = batch;
    queued.insert({Endpoint(batch), batch});
    if (batch >= kQueueKeep) queued.erase({Endpoint(batch - kQueueKeep), batch - kQueueKeep});
    batches = batch + 1;
  }
};

// One batch touches five key spaces; any of them missing or stale is a half-applied batch.
BrokerTransaction BatchOf(uint64_t batch) {
  BrokerTransaction txn;
  txn.AppendAuditLeaf(batch, Leaf(batch));
  txn.PutMessageState(MessageId(batch), StateOf(batch));
  txn.PutDedup(MessageId(batch), core::DedupEntry{"flen.school", std::string(32, '\x02'), batch});
  txn.PutQueueEntry(Endpoint(batch), batch,
                    core::QueueEntry{static_cast<core::Micros>(batch),
                                     core::QueuedMessage{"m-" + std::to_string(batch)}});
  if (batch >= kQueueKeep) txn.DeleteQueueEntry(Endpoint(batch - kQueueKeep), batch - kQueueKeep);
  txn.PutQueueSeq(batch);
  return txn;
}

// Checks STORE against MODEL; FULL also reads every audit leaf, else only those from FROM.
void ExpectStoreHolds(const BrokerStore& store, const Model& model, uint64_t from, bool full) {
  ASSERT_EQ(*store.AuditSize(), model.batches);
  if (model.batches > 0) {
    ASSERT_EQ(*store.QueueSeq(), model.batches - 1);
  }
  for (uint64_t batch = full ? 0 : from; batch < model.batches; ++batch) {
    core::Result<std::optional<std::string>> leaf = store.GetAuditLeaf(batch);
    ASSERT_TRUE(leaf.ok() && leaf->has_value()) << "batch " << batch << " lost its audit leaf";
    ASSERT_EQ(**leaf, Leaf(batch));
  }
  for (const auto& [id, batch] : model.message_seq) {
    core::Result<std::optional<core::MessageState>> state = store.GetMessageState(id);
    ASSERT_TRUE(state.ok() && state->has_value()) << id;
    ASSERT_EQ((*state)->seq, batch) << id << ": the state of another batch";
    core::Result<std::optional<core::DedupEntry>> dedup = store.GetDedup(id);
    ASSERT_TRUE(dedup.ok() && dedup->has_value()) << id;
    ASSERT_EQ((*dedup)->seq, batch) << id << ": the dedup entry of another batch";
  }
  std::set<std::pair<std::string, uint64_t>> queued;
  ASSERT_TRUE(store
                  .ScanQueueKeys([&](std::string_view endpoint, uint64_t seq) {
                    queued.insert({std::string(endpoint), seq});
                    return true;
                  })
                  .ok());
  ASSERT_EQ(queued, model.queued);
}

TEST(PowerLossTest, EveryCommittedTransactionSurvivesAndNoneIsHalfApplied) {
  const uint64_t losses = EnvOr("STAFETT_POWER_LOSSES", 1000);
  const uint64_t seed =
      EnvOr("STAFETT_POWER_LOSS_SEED",
            static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
  std::printf(
      "power-loss test: %llu simulated power losses, seed %llu "
      "(STAFETT_POWER_LOSS_SEED=%llu replays it)\n",
      static_cast<unsigned long long>(losses), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 random(seed);
  stafett::testing::TempDir dir("stafett-power-loss");
  auto file_system = std::make_shared<FaultInjectionFileSystem>();
  std::string db;
  Model model;
  uint64_t in_doubt_total = 0, taken_in_doubt = 0, dropped_files = 0, batches_total = 0;
  auto started = std::chrono::steady_clock::now();

  std::unique_ptr<BrokerStore> store;  // the store reopened after the last loss, checked
  for (uint64_t loss = 0; loss < losses; ++loss) {
    SCOPED_TRACE("power loss " + std::to_string(loss) + ", seed " + std::to_string(seed));
    if (loss % kLossesPerDatabase == 0) {
      db = dir.path() + "/db" + std::to_string(loss / kLossesPerDatabase);
      model = Model();
      core::Result<std::unique_ptr<BrokerStore>> created =
          OpenFaultInjectingBrokerStore(db, file_system, 64 << 10);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      store = std::move(created).value();
    }
    const uint64_t cycle_from = model.batches;
    // Cut part way through the operations to come, or while idle after some batches.
    bool idle_cut = random() % 4 == 0;
    uint64_t idle_after = random() % 20;
    if (!idle_cut) file_system->CutPowerAfter(1 + random() % 80);
    std::optional<uint64_t> in_doubt;
    for (uint64_t batch = model.batches;; ++batch) {
      if (idle_cut && batch - cycle_from == idle_after) {
        file_system->CutPower();
        break;
      }
      core::Status committed = store->Commit(BatchOf(batch));
      if (!committed.ok()) {
        ASSERT_FALSE(file_system->powered())
            << "a commit failed with the power on: " << committed.ToString();
        in_doubt = batch;  // its writes may or may not have reached the disk whole
        break;
      }
      model.Apply(batch);                  // acknowledged: it must survive
      if (!file_system->powered()) break;  // cut right after the sync that acknowledged it
    }
    store.reset();
    core::Result<size_t> dropped = file_system->LoseUnsyncedData();
    ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
    dropped_files += *dropped;

    core::Result<std::unique_ptr<BrokerStore>> opened =
        OpenFaultInjectingBrokerStore(db, file_system, 64 << 10);
    ASSERT_TRUE(opened.ok()) << "reopen after the power loss: " << opened.status().ToString();
    store = std::move(opened).value();
    if (in_doubt) {
      ++in_doubt_total;
      uint64_t size = *store->AuditSize();
      ASSERT_TRUE(size == model.batches || size == model.batches + 1)
          << "audit size " << size << " after " << model.batches << " acknowledged batches";
      if (size == model.batches + 1) {
        model.Apply(*in_doubt);
        ++taken_in_doubt;
      }
    }
    ExpectStoreHolds(*store, model, cycle_from,
                     loss % kLossesPerDatabase == kLossesPerDatabase - 1 || loss + 1 == losses);
    if (::testing::Test::HasFatalFailure()) return;
    batches_total += model.batches - cycle_from;
    if (loss % kLossesPerDatabase == kLossesPerDatabase - 1) {
      store.reset();
      std::filesystem::remove_all(db);
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "power-loss test: %llu power losses, %llu batches committed and all found, "
      "%llu cut part way (%llu of them found whole, the rest absent), %llu files "
      "truncated, deleted or renamed back, %.1f s\n",
      static_cast<unsigned long long>(losses), static_cast<unsigned long long>(model.batches),
      static_cast<unsigned long long>(in_doubt_total),
      static_cast<unsigned long long>(taken_in_doubt),
      static_cast<unsigned long long>(dropped_files), seconds);
  EXPECT_GT(dropped_files, 0u) << "no power loss dropped anything: the test tests nothing";
}

}  // namespace
}  // namespace stafett::store
