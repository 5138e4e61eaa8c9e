// Power loss at the broker level: an in-process broker on loopback serves real CURVE clients —
// a school publishing concern reports to social services and, under a consent it grants first,
// support requests to social services and health; both recipients answering every DELIVER with
// a signed DELIVERED; the school ACKing every RECEIPT — from the RocksDB store over
// FaultInjectionFileSystem. At a random point — part way through the store operations to come
// (a commit's WAL write or sync, a background flush or compaction), while idle, or with
// deliveries in flight at the end of a life — the power is cut: every later write fails, the
// broker's next commit fails and Run returns; a broker still running is told to stop, and the
// commit its shutdown tries fails too, so nothing reaches the disk after the cut (no clean
// shutdown). Everything not synced is dropped, store and broker are reopened and, before the
// broker serves, the store is checked against what the clients were told (docs/PROTOCOL.md):
//  - every message answered ACCEPTED has its state, and each recipient is either still queued
//    (with its queue entry) or finished;
//  - every DELIVERED the broker acknowledged — it answers a DELIVERED only by queueing the
//    sender's RECEIPT after the commit, so a RECEIPT "delivered" the school saw is that
//    acknowledgement — stays delivered: the recipient is delivered in the stored state and is
//    never sent that message again. A DELIVERED not so acknowledged may be lost with the power;
//    then the message is delivered again under the same id, which the protocol allows (agents
//    recognise an id they already wrote) and the test counts;
//  - nothing is duplicated: at most one queue entry per (recipient, message) and per receipt,
//    one acceptance and at most one outcome per (message, recipient) in the audit log, and an
//    unanswered publish resent after the restart is either the stored one (ACCEPTED duplicate,
//    the first acceptance's seq) or accepted anew, never twice;
//  - the audit log verifies: the root rebuilt from the stored leaves equals the root from the
//    stored Merkle nodes, the latest signed tree head's signature verifies and its root is that
//    of the leaves up to its size, every acknowledged acceptance's seq is within the log, and
//    the previous loss's head is proved a prefix of the new one (core's consistency proof).
// Every kLossesPerDatabase (20) losses the database starts afresh (after a last life without a cut
// in which everything accepted must be delivered and every receipt acknowledged), so that a
// thousand losses cost a thousand small reopens rather than ever larger ones.
// STAFETT_POWER_LOSSES (default 1000) and STAFETT_POWER_LOSS_SEED (default: from the clock)
// set the run, as in tests/store/power_loss_test.cc; the seed is printed, so a failure can be
// replayed (the schedule of cuts is the seed's; the interleaving with the broker's threads is
// not, so a replay is likely rather than certain to take the same path).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "audit_log.h"
#include "stafett/core/merkle.h"
#include "stafett/store/fault_injection_file_system.h"
#include "support/harness.h"

// As in the store-level test: RocksDB allocates a great deal while it opens, and short ASan
// allocation stacks without fill make a thousand reopens affordable; ASan still checks every
// access.
extern "C" const char* __asan_default_options() {
  return "malloc_context_size=4:max_malloc_fill_size=0";
}

namespace stafett::broker::testing {
namespace {

using core::protocol::Command;
using core::protocol::Message;
using namespace std::chrono_literals;

constexpr uint64_t kLossesPerDatabase = 20;
constexpr int kMaxStepsPerLife = 20;
constexpr core::Micros kStep = 100'000;  // the broker's clock per step: timers every 2 steps
const std::string kSchool = "flen.school", kSocial = "flen.social", kHealth = "region.health";

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

// Store reads in a checker: a failed read is a failed check.
template <typename T>
T Must(core::Result<T> result, const std::string& what) {
  EXPECT_TRUE(result.ok()) << what << ": " << result.status().ToString();
  return result.ok() ? std::move(result).value() : T{};
}

// The committed Merkle nodes, for core's proofs.
class StoreNodes final : public core::NodeReader {
 public:
  explicit StoreNodes(const store::BrokerStore& store) : store_(store) {}
  core::Result<core::Hash> Get(uint32_t level, uint64_t index) const override {
    core::Result<std::optional<core::Hash>> node = store_.GetMerkleNode(level, index);
    if (!node.ok()) return node.status();
    if (!node->has_value()) return core::Status(core::Code::kNotFound, "no such Merkle node");
    return **node;
  }

 private:
  const store::BrokerStore& store_;
};

// What the clients were told, across every life of one database.
struct Ledger {
  std::map<std::string, core::Envelope> published;  // every envelope ever sent, by id
  std::map<std::string, std::vector<std::string>> recipients;
  std::map<std::string, uint64_t> accepted;                 // id → seq, as ACCEPTED said
  std::set<std::string> unanswered;                         // published, no ACCEPTED yet: resent
  std::set<std::pair<std::string, std::string>> receipted;  // RECEIPT delivered (id, recipient)
  std::map<std::pair<std::string, std::string>, int> deliveries;  // DELIVERs (id, recipient)
  // Found delivered in the store after a loss: never to be delivered again.
  std::set<std::pair<std::string, std::string>> stored_delivered;
  std::optional<core::TreeHead> head;  // the latest head found after the previous loss
  std::string consent_id;
  uint64_t next_id = 0;
};

struct Totals {
  uint64_t lives = 0, accepted = 0, duplicates = 0, deliveries = 0, redeliveries = 0, receipts = 0,
           lost_replies = 0, idle_cuts = 0, dropped_files = 0, heads_checked = 0;
};

class BrokerPowerLossTest : public ::testing::Test {
 protected:
  BrokerPowerLossTest()
      : county_(dir_.path() / "county"), clock_(core::SystemClock::Instance().Now()) {}

  // One life: the broker over the store in DB until the power is cut (or, with CUT false, until
  // everything accepted is delivered and every receipt acknowledged).
  void RunLife(const std::filesystem::path& db, bool cut) {
    core::Result<std::unique_ptr<store::BrokerStore>> opened =
        store::OpenFaultInjectingBrokerStore(db, file_system_, 64 << 10);
    ASSERT_TRUE(opened.ok()) << "reopen after the power loss: " << opened.status().ToString();
    Check(**opened);
    if (::testing::Test::HasFailure()) return;
    BrokerConfig config = TestBrokerConfig(county_, db, 64);
    config.tree_head_seconds = 0;        // a head at every timer run in which the log grew
    config.redeliver_after_seconds = 5;  // redeliveries in a long life, too
    config.max_batch = 16;
    config.max_publishes_per_second = 0;  // the test publishes faster than a county
    BrokerProcess broker(config, &clock_, std::move(opened).value(), /*storage_may_fail=*/true);
    ++totals_.lives;

    bool idle_cut = cut && random_() % 4 == 0;
    int idle_after = static_cast<int>(random_() % kMaxStepsPerLife);
    if (cut && !idle_cut) file_system_->CutPowerAfter(1 + random_() % 40);
    {
      Clients clients(broker.endpoint(), county_);
      for (auto* client : {&clients.school, &clients.social, &clients.health}) {
        client->SendCommand(Command::kHello, {"{\"credit\": 4}"});
      }
      for (const std::string& id : ledger_.unanswered) Publish(clients, id);  // resends
      auto deadline = std::chrono::steady_clock::now() + 20s;
      for (int step = 0;; ++step) {
        if (cut && !file_system_->powered()) break;
        if (cut && broker.returned()) break;
        if (cut && idle_cut && step == idle_after) {
          Pump(clients, 5ms);  // idle: whatever was in flight answered
          file_system_->CutPower();
          ++totals_.idle_cuts;
          break;
        }
        if (cut && step >= kMaxStepsPerLife) {
          file_system_->CutPower();
          break;
        }
        if (!cut) {
          if (Settled()) break;
          ASSERT_LT(std::chrono::steady_clock::now(), deadline)
              << "the broker did not deliver everything accepted after its recovery: "
              << ledger_.unanswered.size() << " publishes unanswered; "
              << Unsettled(broker.broker().store());
        } else {
          NewMessages(clients);
        }
        clock_.Advance(kStep);
        if (step % 10 == 9) {
          // As agents do every heartbeat_seconds: a session silent for 3 of them goes offline.
          for (auto* client : {&clients.school, &clients.social, &clients.health}) {
            client->SendCommand(Command::kHeartbeat, {"{}"});
          }
        }
        // The workload runs on while the broker commits: the power is cut in mid-flow.
        Pump(clients, cut ? 1ms : 2ms, /*once=*/cut);
        if (::testing::Test::HasFailure()) return;
      }
      if (!cut) {
        // A receipt says the recipient signed for the message: it must have been given it.
        for (const auto& key : ledger_.receipted) {
          EXPECT_TRUE(ledger_.deliveries.count(key))
              << "a receipt for " << key.first << " from " << key.second
              << ", which it was never delivered";
        }
      }
      // The power is off (or all is settled). Read what the broker sent before, from commits
      // that succeeded; then stop it: a heartbeat wakes its loop, which sees the stop, tries to
      // commit what it holds (which fails with the power off) and returns.
      Pump(clients, 1ms);
      broker.RequestStop();
      clients.school.SendCommand(Command::kHeartbeat, {"{}"});
      broker.Stop();  // after a cut nothing reaches the disk any more: no clean shutdown
    }
  }

  // Called with the store just reopened, before the broker starts on it.
  void Check(const store::BrokerStore& store) {
    // Every acknowledged message is there, and every acknowledged DELIVERED stayed delivered.
    for (const auto& [id, seq] : ledger_.accepted) {
      std::optional<core::MessageState> state = Must(store.GetMessageState(id), id);
      ASSERT_TRUE(state.has_value()) << id << " was answered ACCEPTED and is gone";
      EXPECT_EQ(state->seq, seq) << id << ": not the acceptance ACCEPTED named";
      for (const std::string& recipient : ledger_.recipients.at(id)) {
        auto found = state->recipients.find(recipient);
        ASSERT_NE(found, state->recipients.end()) << id << " lost its recipient " << recipient;
        const core::RecipientDelivery& delivery = found->second;
        if (delivery.state == core::RecipientState::kDelivered) {
          ledger_.stored_delivered.insert({id, recipient});
        } else {
          EXPECT_FALSE(ledger_.stored_delivered.count({id, recipient}))
              << id << " to " << recipient << " was delivered in the store and is "
              << core::RecipientStateName(delivery.state) << " again";
        }
        if (ledger_.receipted.count({id, recipient})) {
          EXPECT_EQ(delivery.state, core::RecipientState::kDelivered)
              << id << " to " << recipient << ": its DELIVERED was acknowledged (RECEIPT) and "
              << "it is " << core::RecipientStateName(delivery.state) << " again";
        }
        if (delivery.state == core::RecipientState::kQueued) {
          std::optional<core::QueueEntry> entry =
              Must(store.GetQueueEntry(recipient, delivery.queue_seq), id);
          ASSERT_TRUE(entry.has_value())
              << id << " is queued for " << recipient << " without its queue entry";
          const auto* message = std::get_if<core::QueuedMessage>(&entry->item);
          ASSERT_TRUE(message != nullptr && message->message_id == id)
              << id << ": its queue entry holds something else";
        } else {
          EXPECT_EQ(delivery.state, core::RecipientState::kDelivered)
              << id << " to " << recipient << " (nothing expires, is refused or withheld here)";
        }
      }
    }
    // Nothing duplicated in the queues, nothing there that was never published.
    std::map<std::pair<std::string, std::string>, int> queued, receipts;
    core::Status scanned = store.ScanQueueKeys([&](std::string_view endpoint, uint64_t seq) {
      std::optional<core::QueueEntry> entry =
          Must(store.GetQueueEntry(endpoint, seq), "queue entry");
      if (!entry) return true;
      if (const auto* message = std::get_if<core::QueuedMessage>(&entry->item)) {
        EXPECT_TRUE(ledger_.published.count(message->message_id))
            << message->message_id << " is queued and was never published";
        ++queued[{std::string(endpoint), message->message_id}];
      } else {
        const auto& receipt = std::get<core::QueuedReceipt>(entry->item);
        EXPECT_EQ(endpoint, kSchool) << "a receipt queued for " << endpoint;
        ++receipts[{receipt.message_id, receipt.recipient}];
      }
      return true;
    });
    ASSERT_TRUE(scanned.ok()) << scanned.ToString();
    for (const auto& [key, count] : queued) {
      EXPECT_EQ(count, 1) << key.second << " is queued " << count << " times for " << key.first;
    }
    for (const auto& [key, count] : receipts) {
      EXPECT_EQ(count, 1) << "the receipt of " << key.first << " from " << key.second
                          << " is queued " << count << " times";
    }
    CheckAudit(store);
  }

  void CheckAudit(const store::BrokerStore& store) {
    uint64_t size = Must(store.AuditSize(), "audit size");
    core::MemoryNodeStore rebuilt;
    std::map<std::string, int> events;  // "event message_id recipients" → count
    core::Status scanned = store.ScanAudit(0, [&](uint64_t seq, std::string_view leaf) {
      EXPECT_EQ(seq, rebuilt.size()) << "a gap in the audit log";
      rebuilt.Append(leaf);
      nlohmann::json record = nlohmann::json::parse(leaf, nullptr, false);
      EXPECT_FALSE(record.is_discarded()) << "audit record " << seq << " is not JSON";
      std::string event = record.value("event", "");
      if (record.contains("message_id") && event != "refused") {
        ++events[event + " " + record.value("message_id", "") + " " +
                 record.value("to", nlohmann::json()).dump()];
      }
      return true;
    });
    ASSERT_TRUE(scanned.ok()) << scanned.ToString();
    ASSERT_EQ(rebuilt.size(), size) << "the audit size and the leaves disagree";
    for (const auto& [key, count] : events) {
      EXPECT_EQ(count, 1) << "audited " << count << " times: " << key;
    }
    for (const auto& [id, seq] : ledger_.accepted) {
      EXPECT_LT(seq, size) << id << ": its acceptance at seq " << seq << " is not in the log";
    }
    StoreNodes nodes(store);
    core::Result<core::Hash> stored_root = core::RootAt(size, nodes);
    ASSERT_TRUE(stored_root.ok()) << stored_root.status().ToString();
    EXPECT_EQ(*stored_root, rebuilt.Root()) << "the stored Merkle nodes disagree with the leaves";
    std::optional<core::TreeHead> head = Must(store.LatestTreeHead(), "latest head");
    if (ledger_.head) {
      ASSERT_TRUE(head.has_value()) << "the signed tree heads are gone";
      ASSERT_GE(head->tree_size, ledger_.head->tree_size) << "the latest tree head went back";
      if (ledger_.head->tree_size > 0) {
        core::Result<std::vector<core::Hash>> proof =
            core::ConsistencyProof(ledger_.head->tree_size, head->tree_size, nodes);
        ASSERT_TRUE(proof.ok()) << proof.status().ToString();
        core::Status consistent = core::VerifyConsistency(ledger_.head->tree_size, head->tree_size,
                                                          ledger_.head->root, head->root, *proof);
        EXPECT_TRUE(consistent.ok())
            << "the log is no extension of the previous head: " << consistent.ToString();
      }
    }
    if (head) {
      ++totals_.heads_checked;
      ASSERT_LE(head->tree_size, size) << "a tree head beyond the log";
      core::Result<core::Hash> root = core::RootAt(head->tree_size, rebuilt);
      ASSERT_TRUE(root.ok()) << root.status().ToString();
      EXPECT_EQ(head->root, *root) << "the latest tree head's root is not that of the leaves";
      const keys::KeySet& broker_keys = county_.Get("broker").keys;
      EXPECT_EQ(head->key_id, broker_keys.key_id);
      EXPECT_TRUE(core::Verify(
          broker_keys.signing.public_key,
          TreeHeadSigningInput(head->tree_size, head->root, head->timestamp, head->map_root),
          head->signature))
          << "the latest tree head's signature does not verify";
      ledger_.head = head;
    }
  }

  struct Clients {
    Clients(const std::string& endpoint, const County& county)
        : school(endpoint, county.Get(kSchool).keys, county.Get("broker").keys),
          social(endpoint, county.Get(kSocial).keys, county.Get("broker").keys),
          health(endpoint, county.Get(kHealth).keys, county.Get("broker").keys) {}
    TestClient school, social, health;
  };

  void Publish(Clients& clients, const std::string& id) {
    const core::Envelope& envelope = ledger_.published.at(id);
    clients.school.SendCommand(Command::kPublish,
                               {envelope.header_bytes, envelope.signature, envelope.payload});
  }

  // A few new messages: first the consent grant, then concern reports and support requests.
  void NewMessages(Clients& clients) {
    int count = random_() % 5 == 0 ? 1 + static_cast<int>(random_() % 2) : 0;
    for (int i = 0; i < count; ++i) {
      MessageSpec spec;
      spec.from = kSchool;
      core::Micros now = clock_.Now() / 1000 * 1000;
      if (ledger_.consent_id.empty()) {
        ledger_.consent_id = "consent-" + std::to_string(database_);
        spec.message_id = ledger_.consent_id + "-grant";
        spec.type = "consent_granted";
        spec.to = {kSocial, kHealth};
        spec.consent_id = ledger_.consent_id;
        spec.consent = core::ConsentScope{{kSchool, kSocial, kHealth},
                                          {"support"},
                                          now - kSecond,
                                          now + 365 * 24 * 3600 * kSecond};
      } else if (ledger_.accepted.count(ledger_.consent_id + "-grant") && random_() % 2 == 0) {
        spec.message_id = "support-" + std::to_string(ledger_.next_id++);
        spec.type = "support_request";
        spec.to = {kSocial, kHealth};
        spec.consent_id = ledger_.consent_id;
      } else {
        spec.message_id = "concern-" + std::to_string(ledger_.next_id++);
        spec.type = "concern_report";
        spec.to = {kSocial};
      }
      if (ledger_.published.count(spec.message_id)) continue;  // the grant, unanswered
      ledger_.published[spec.message_id] = Seal(county_, spec, clock_.Now());
      ledger_.recipients[spec.message_id] = spec.to;
      ledger_.unanswered.insert(spec.message_id);
      Publish(clients, spec.message_id);
    }
  }

  // Handles whatever the clients receive until none of them has received anything for QUIET;
  // with ONCE, only what is there (or first arrives) within QUIET.
  void Pump(Clients& clients, std::chrono::milliseconds quiet, bool once = false) {
    struct Party {
      TestClient* client;
      const std::string* id;
    };
    Party parties[] = {
        {&clients.school, &kSchool}, {&clients.social, &kSocial}, {&clients.health, &kHealth}};
    while (true) {
      zmq::pollitem_t items[3];
      for (int i = 0; i < 3; ++i)
        items[i] = {parties[i].client->socket().handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(items, 3, quiet) == 0) return;
      for (int i = 0; i < 3; ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        std::optional<Message> message = parties[i].client->Receive(0ms);
        if (!message) continue;
        if (i == 0) {
          OnSchool(clients.school, *message);
        } else {
          OnRecipient(*parties[i].client, *parties[i].id, *message);
        }
        if (::testing::Test::HasFailure()) return;
      }
      if (once) return;
    }
  }

  void OnSchool(TestClient& school, const Message& message) {
    std::string id = message.object.value("message_id", "");
    if (message.command == Command::kAccepted) {
      ASSERT_TRUE(ledger_.published.count(id)) << "ACCEPTED for " << id;
      uint64_t seq = message.object.at("seq").get<uint64_t>();
      bool duplicate = message.object.value("duplicate", false);
      auto known = ledger_.accepted.find(id);
      if (known != ledger_.accepted.end()) {
        // Only a resend of an id with no answer is sent; two answers may arrive for it when
        // it was sent twice (before and after a restart that kept it).
        EXPECT_TRUE(duplicate) << id << " was accepted twice as new";
        EXPECT_EQ(seq, known->second) << id << ": ACCEPTED duplicate names another seq";
      } else {
        if (duplicate) ++totals_.duplicates;
        ledger_.accepted[id] = seq;
        ++totals_.accepted;
      }
      ledger_.unanswered.erase(id);
    } else if (message.command == Command::kRefused) {
      // Only a failed commit (UNAVAILABLE, retry) may refuse these messages.
      std::string code = message.object.value("code", "");
      EXPECT_EQ(code, "UNAVAILABLE") << id << " refused: " << message.object.dump();
      ++totals_.lost_replies;
    } else if (message.command == Command::kReceipt) {
      std::string recipient = message.object.value("recipient", "");
      EXPECT_EQ(message.object.value("status", ""), "delivered") << message.object.dump();
      // Its ACCEPTED may have been lost with the broker (sent, not yet read): the resend of the
      // unanswered envelope is answered ACCEPTED duplicate.
      EXPECT_TRUE(ledger_.published.count(id)) << "a receipt for " << id << ", never published";
      ledger_.receipted.insert({id, recipient});
      ++totals_.receipts;
      school.SendCommand(Command::kAck,
                         {nlohmann::json({{"delivery", message.object["delivery"]}}).dump()});
    } else if (message.command == Command::kError) {
      ADD_FAILURE() << "ERROR to the school: " << message.object.dump();
    }
  }

  void OnRecipient(TestClient& client, const std::string& own_id, const Message& message) {
    if (message.command == Command::kError) {
      ADD_FAILURE() << "ERROR to " << own_id << ": " << message.object.dump();
      return;
    }
    if (message.command != Command::kDeliver) return;
    core::Result<core::Header> header = core::ParseHeader(message.arguments[1]);
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    const std::string& id = header->message_id;
    auto published = ledger_.published.find(id);
    ASSERT_NE(published, ledger_.published.end()) << id << " delivered, never published";
    EXPECT_EQ(message.arguments[1], published->second.header_bytes) << id << ": other bytes";
    const std::vector<std::string>& to = ledger_.recipients.at(id);
    EXPECT_NE(std::find(to.begin(), to.end(), own_id), to.end()) << id << " to " << own_id;
    EXPECT_FALSE(ledger_.receipted.count({id, own_id}))
        << id << " delivered again to " << own_id
        << " after the broker acknowledged its DELIVERED (RECEIPT to the sender)";
    EXPECT_FALSE(ledger_.stored_delivered.count({id, own_id}))
        << id << " delivered again to " << own_id << " after a restart found it delivered";
    int& count = ledger_.deliveries[{id, own_id}];
    if (count > 0) ++totals_.redeliveries;  // the agent recognises the id and answers again
    ++count;
    ++totals_.deliveries;
    client.AcknowledgeDelivery(message, county_.Get(own_id).keys, own_id);
  }

  // Everything accepted is delivered to every recipient and the school saw every receipt.
  bool Settled() const {
    if (!ledger_.unanswered.empty()) return false;
    for (const auto& [id, seq] : ledger_.accepted) {
      for (const std::string& recipient : ledger_.recipients.at(id)) {
        if (!ledger_.receipted.count({id, recipient})) return false;
      }
    }
    return true;
  }

  // What is not settled, and how the store has it: for the failure message.
  std::string Unsettled(const store::BrokerStore& store) const {
    std::string out;
    for (const auto& [id, seq] : ledger_.accepted) {
      for (const std::string& recipient : ledger_.recipients.at(id)) {
        if (ledger_.receipted.count({id, recipient})) continue;
        core::Result<std::optional<core::MessageState>> state = store.GetMessageState(id);
        out += id + " to " + recipient + ": ";
        if (!state.ok() || !state->has_value()) {
          out += "no state; ";
          continue;
        }
        const core::RecipientDelivery& delivery = (*state)->recipients.at(recipient);
        out += std::string(core::RecipientStateName(delivery.state)) + " queue seq " +
               std::to_string(delivery.queue_seq) +
               (delivery.receipt_acknowledged_at ? " receipt acknowledged" : "") + ", delivered " +
               std::to_string(ledger_.deliveries.count({id, recipient})
                                  ? ledger_.deliveries.at({id, recipient})
                                  : 0) +
               " times; ";
      }
    }
    store
        .ScanQueueKeys([&](std::string_view endpoint, uint64_t seq) {
          out += "queued " + std::string(endpoint) + "/" + std::to_string(seq) + "; ";
          return true;
        })
        .ok();
    return out;
  }

  TempDir dir_;
  County county_;
  core::ManualClock clock_;
  std::shared_ptr<store::FaultInjectionFileSystem> file_system_ =
      std::make_shared<store::FaultInjectionFileSystem>();
  std::mt19937_64 random_;
  Ledger ledger_;
  Totals totals_;
  uint64_t database_ = 0;
};

TEST_F(BrokerPowerLossTest, AcknowledgedMessagesAndDeliveriesSurviveAndTheAuditLogVerifies) {
  const uint64_t losses = EnvOr("STAFETT_POWER_LOSSES", 1000);
  const uint64_t seed =
      EnvOr("STAFETT_POWER_LOSS_SEED",
            static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
  std::printf(
      "broker power-loss test: %llu simulated power losses, seed %llu "
      "(STAFETT_POWER_LOSS_SEED=%llu replays its schedule)\n",
      static_cast<unsigned long long>(losses), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  random_.seed(seed);
  auto started = std::chrono::steady_clock::now();
  std::filesystem::path db;
  for (uint64_t loss = 0; loss < losses; ++loss) {
    SCOPED_TRACE("power loss " + std::to_string(loss) + ", seed " + std::to_string(seed));
    if (loss % kLossesPerDatabase == 0) {
      database_ = loss / kLossesPerDatabase;
      db = dir_.path() / ("db" + std::to_string(database_));
      ledger_ = Ledger();
    }
    RunLife(db, /*cut=*/true);
    if (HasFailure()) return;
    core::Result<size_t> dropped = file_system_->LoseUnsyncedData();
    ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
    totals_.dropped_files += *dropped;
    if (loss % kLossesPerDatabase == kLossesPerDatabase - 1 || loss + 1 == losses) {
      // A last life with the power on: everything accepted is delivered after all.
      RunLife(db, /*cut=*/false);
      if (HasFailure()) return;
      std::filesystem::remove_all(db);
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "broker power-loss test: %llu power losses (%llu idle), %llu broker lives, %llu messages "
      "accepted (%llu first acknowledged as a duplicate of a resend), %llu deliveries (%llu of "
      "them again after a loss or timeout), %llu receipts, %llu replies refused by a failed "
      "commit, %llu tree heads verified, %llu files truncated, deleted or renamed back, %.1f s\n",
      static_cast<unsigned long long>(losses), static_cast<unsigned long long>(totals_.idle_cuts),
      static_cast<unsigned long long>(totals_.lives),
      static_cast<unsigned long long>(totals_.accepted),
      static_cast<unsigned long long>(totals_.duplicates),
      static_cast<unsigned long long>(totals_.deliveries),
      static_cast<unsigned long long>(totals_.redeliveries),
      static_cast<unsigned long long>(totals_.receipts),
      static_cast<unsigned long long>(totals_.lost_replies),
      static_cast<unsigned long long>(totals_.heads_checked),
      static_cast<unsigned long long>(totals_.dropped_files), seconds);
  EXPECT_GT(totals_.dropped_files, 0u) << "no power loss dropped anything: the test tests nothing";
  EXPECT_GT(totals_.receipts, 0u) << "nothing was delivered: the workload did not run";
}

}  // namespace
}  // namespace stafett::broker::testing
