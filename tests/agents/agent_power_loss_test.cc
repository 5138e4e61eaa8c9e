// Power loss at the agent level: the agent's journal (store::AgentJournal, RocksDB over
// store::FaultInjectionFileSystem) and its files (the outbox and inbox folders over
// FaultInjectingFileSystem) run the agent's workload — documents dropped in the outbox are
// journalled, published, accepted and moved to outbox/sent/; incoming messages are written to
// the inbox, recorded as received and acknowledged; an integrator takes acknowledged inbox
// files away — the power is cut at a random step of either, everything not durable dropped on
// both, the journal reopened, and a checker proves after every loss:
//   - no file handed over is lost: every dropped document is in the outbox or in outbox/sent/,
//     whole, and one in sent/ has its journal record, accepted or pending (to be resent);
//   - no acknowledged message is lost: it is in the inbox, whole, or the integrator took it;
//   - nothing is duplicated: no inbox file comes back once taken, no message is in it twice.
// The workload drives the production classes for the files (OutboxFiles, InboxFiles over the
// FileSystem interface) and the journal verbs in the order Sender and Inbox call them; the
// sealing, the broker and the network are left out (the broker's answers are simulated).
// STAFETT_POWER_LOSSES (default 1000) and STAFETT_POWER_LOSS_SEED (default: from the clock)
// set the run; the seed is printed, so a failure can be replayed.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "agents/support/fault_injecting_file_system.h"
#include "inbox_files.h"
#include "outbox_files.h"
#include "outbox_watcher.h"
#include "source_key.h"
#include "stafett/store/fault_injection_file_system.h"
#include "support/sandbox_files.h"

// RocksDB allocates a great deal while it opens; short ASan allocation stacks keep a thousand
// reopens fast (as in tests/store/power_loss_test.cc).
extern "C" const char* __asan_default_options() {
  return "malloc_context_size=4:max_malloc_fill_size=0";
}

namespace stafett::agent {
namespace {

using core::Code;
using core::Status;

const std::filesystem::path kOutbox = "/agent/outbox";
const std::filesystem::path kSent = "/agent/outbox/sent";
const std::filesystem::path kInbox = "/agent/inbox";
const std::string kNameKey(32, 'k');
const std::string kPseudonym(64, 'a');
constexpr size_t kMaxBytes = 1 << 20;
// Every this many power losses the journal and the folders start afresh (after the checks), so
// that a thousand losses cost a thousand small reopens.
constexpr uint64_t kLossesPerRun = 50;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

std::string DocumentName(uint64_t n) { return "doc-" + std::to_string(n) + ".json"; }
std::string DocumentText(uint64_t n) {
  return "{\"message_id\":\"out-" + std::to_string(n) + "\",\"n\":" + std::to_string(n) + "}";
}
std::string IncomingId(uint64_t n) { return "in-" + std::to_string(n); }
std::string InboxText(uint64_t n) {
  return "{\"message_id\":\"" + IncomingId(n) + "\",\"body\":\"" + std::string(n % 50, 'x') +
         "\"}\n";
}

// What the agent acknowledged, to its integrator or to the broker: what must survive.
struct Model {
  uint64_t dropped = 0;             // documents 0..dropped-1 were dropped (durably)
  std::set<uint64_t> accepted;      // the broker accepted out-N (it is in the broker's log)
  uint64_t arrived = 0;             // the broker has messages in-0..in-(arrived-1)
  std::set<uint64_t> acknowledged;  // DELIVERED sent for in-N: the broker forgets it
  std::set<uint64_t> taken;         // the integrator took inbox/in-N.json away
};

// One agent "process": the journal open over the RocksDB fault FS, the folders over FILES.
struct Process {
  std::unique_ptr<store::AgentJournal> journal;
  std::unique_ptr<OutboxFiles> outbox;
  std::unique_ptr<InboxFiles> inbox;
};

class AgentPowerLossTest : public ::testing::Test {
 protected:
  // Ok, or remembers why not (for the report of a step that failed with the power on).
  bool Ok(const Status& status) {
    if (!status.ok()) failure_ = status.ToString();
    return status.ok();
  }
  bool Powered() const { return files_->powered() && journal_fs_->powered(); }
  // A cut in one is a cut in both: the same machine lost its power.
  bool CheckPower() {
    if (Powered()) return true;
    files_->CutPower();
    journal_fs_->CutPower();
    return false;
  }

  Status Open(const std::filesystem::path& db) {
    core::Result<std::unique_ptr<store::AgentJournal>> opened =
        store::OpenFaultInjectingAgentJournal(db, journal_fs_);
    if (!opened.ok()) return opened.status();
    agent_.journal = std::move(opened).value();
    agent_.outbox = std::make_unique<OutboxFiles>(kOutbox, *files_);
    agent_.inbox = std::make_unique<InboxFiles>(kInbox, *agent_.journal, *files_);
    return Status::Ok();
  }

  // The integrator drops document N (write, fsync, rename: a durable drop).
  bool Drop(uint64_t n) {
    if (!Ok(files_->WriteFileDurably(kOutbox, DocumentName(n), DocumentText(n)))) return false;
    model_.dropped = n + 1;
    return true;
  }

  // The outbox scan and Sender::Submit's journal steps: a file seen before is attached to its
  // message; a new one journalled pending with its source key. Then the (simulated) broker
  // accepts some, and the files of accepted messages move to sent/ (Sender::MoveFiles) — one at
  // a time, or every other turn as one burst.
  bool ScanOutbox(std::mt19937_64& random) {
    bool burst = random() % 2 == 0;
    std::vector<std::pair<std::string, std::string>> seen;  // (name, id) of this scan's files
    core::Result<std::vector<std::string>> names = files_->List(kOutbox);
    if (!Ok(names.status())) return false;
    for (const std::string& name : *names) {
      if (!IsOutboxDocumentName(name)) continue;
      core::Result<std::string> text = files_->ReadFile(kOutbox / name, kMaxBytes);
      if (!Ok(text.status())) return false;
      std::string key = SourceKey(kNameKey, name, *text);
      core::Result<std::optional<core::SourceEntry>> known = agent_.journal->FindBySource(key);
      if (!Ok(known.status())) return false;
      std::string id;
      if (known->has_value()) {
        id = (**known).message_id;
      } else {
        // Dropped durably, a document is whole: it names its id.
        size_t at = text->find("\"message_id\":\"");
        if (at == std::string::npos) {
          ADD_FAILURE() << name << " is not whole: " << *text;
          return false;
        }
        id = text->substr(at + 14, text->find('"', at + 14) - at - 14);
        core::OutgoingRecord record;
        record.message_id = id;
        record.type = "support_request";
        record.to = {"flen.social"};
        record.subject = kPseudonym;
        record.consent_id = "consent-1";
        record.document_digest = std::string(32, '\x03');
        record.created_at = 1 + std::stoll(id.substr(4));
        core::Envelope envelope{"{\"header\":1}", std::string(64, '\x01'),
                                std::string(48, '\x02') + *text};
        if (!Ok(agent_.journal->AddOutgoing(record, envelope, key))) return false;
      }
      if (burst) {
        seen.emplace_back(name, id);
        continue;
      }
      if (random() % 3 != 0) {
        if (!Accept(id)) return false;
      }
      core::Result<std::optional<core::OutgoingRecord>> record = agent_.journal->GetOutgoing(id);
      if (!Ok(record.status()) || !record->has_value()) return false;
      if ((**record).state == core::OutgoingState::kAccepted) {
        agent_.outbox->MoveAllToSent({{name, id}});
        if (!CheckPower()) return false;
      }
    }
    if (!burst) return true;
    // The broker's answers as one burst (Agent::EndBurst): the journal's batch committed, then
    // the accepted files moved together (OutboxFiles::MoveAllToSent), one sync per folder.
    agent_.journal->BeginBatch();
    std::vector<std::pair<std::string, std::string>> to_sent;
    for (const auto& [name, id] : seen) {
      if (random() % 3 != 0 && !Accept(id)) {
        agent_.journal->AbortBatch();
        return false;
      }
      core::Result<std::optional<core::OutgoingRecord>> record = agent_.journal->GetOutgoing(id);
      if (!Ok(record.status()) || !record->has_value()) {
        agent_.journal->AbortBatch();
        return false;
      }
      if ((**record).state == core::OutgoingState::kAccepted) to_sent.emplace_back(name, id);
    }
    if (!Ok(agent_.journal->CommitBatch()) || !CheckPower()) return false;
    agent_.outbox->MoveAllToSent(to_sent);
    return CheckPower();
  }

  // ACCEPTED from the broker: the broker logs it first, then the agent records it.
  bool Accept(const std::string& id) {
    model_.accepted.insert(std::stoull(id.substr(4)));
    return Ok(agent_.journal->UpdateOutgoing(id, [](core::OutgoingRecord& record) {
      if (record.state != core::OutgoingState::kPending) return false;
      record.state = core::OutgoingState::kAccepted;
      record.accepted_at = 9;
      return true;
    }));
  }

  // The broker delivers every message not acknowledged (a new one now and then), and now and
  // then one acknowledged already (its DELIVERED lost on the way); Inbox::Deliver keeps it
  // (InboxFiles) and only then acknowledges. Every other turn the deliveries come as one burst
  // (Agent::EndBurst's order: the files together, then the journal's batch, then DELIVERED
  // for all), so a cut falls inside a burst's writes too.
  bool Deliver(std::mt19937_64& random) {
    if (random() % 2 == 0) ++model_.arrived;
    bool burst = random() % 2 == 0;
    if (burst) {
      agent_.journal->BeginBatch();
      agent_.inbox->BeginBurst();
    }
    std::vector<uint64_t> answered;
    bool ok = true;
    for (uint64_t n = 0; n < model_.arrived && ok; ++n) {
      if (model_.acknowledged.count(n) != 0 && random() % 4 != 0) continue;
      core::Result<bool> kept = agent_.inbox->AlreadyKept(IncomingId(n), 1);
      ok = Ok(kept.status());
      if (ok && !*kept) {
        if (model_.acknowledged.count(n) != 0) ++duplicates_;
        ok = Ok(agent_.inbox->Keep(IncomingId(n), InboxText(n), {1, "support_request"}));
      }
      if (!burst && ok && !CheckPower()) return false;  // a cut at the sync: DELIVERED not sent
      if (ok) answered.push_back(n);
    }
    if (burst) {
      if (!ok || !Ok(agent_.inbox->FinishBurst()) || !CheckPower()) {
        agent_.journal->AbortBatch();
        CheckPower();
        return false;
      }
      if (!Ok(agent_.journal->CommitBatch()) || !CheckPower()) return false;
    } else if (!ok) {
      return false;
    }
    for (uint64_t n : answered) model_.acknowledged.insert(n);
    return ok;
  }

  // The integrator takes away some acknowledged inbox files.
  bool TakeFromInbox(std::mt19937_64& random) {
    for (uint64_t n : model_.acknowledged) {
      if (model_.taken.count(n) != 0 || random() % 4 != 0) continue;
      if (!Ok(files_->Remove(kInbox / (IncomingId(n) + ".json")))) return false;
      if (!Ok(files_->SyncFolder(kInbox))) return false;
      model_.taken.insert(n);
    }
    return true;
  }

  void ExpectNothingLostOrDuplicated() {
    core::Result<std::vector<std::string>> outbox = files_->List(kOutbox);
    core::Result<std::vector<std::string>> sent = files_->List(kSent);
    core::Result<std::vector<std::string>> inbox = files_->List(kInbox);
    ASSERT_TRUE(outbox.ok() && sent.ok() && inbox.ok());
    std::set<std::string> outbox_names(outbox->begin(), outbox->end());
    std::set<std::string> sent_names(sent->begin(), sent->end());
    for (uint64_t n = 0; n < model_.dropped; ++n) {
      std::string name = DocumentName(n);
      bool in_outbox = outbox_names.count(name) != 0, in_sent = sent_names.count(name) != 0;
      ASSERT_TRUE(in_outbox != in_sent) << name << (in_outbox ? " in both" : " lost");
      std::filesystem::path path = (in_outbox ? kOutbox : kSent) / name;
      core::Result<std::string> text = files_->ReadFile(path, kMaxBytes);
      ASSERT_TRUE(text.ok());
      ASSERT_EQ(*text, DocumentText(n)) << path << " is not the document dropped";
      if (in_sent) {
        core::Result<std::optional<core::SourceEntry>> source =
            agent_.journal->FindBySource(SourceKey(kNameKey, name, *text));
        ASSERT_TRUE(source.ok() && source->has_value()) << name << " in sent/ without its record";
        core::Result<std::optional<core::OutgoingRecord>> record =
            agent_.journal->GetOutgoing((**source).message_id);
        ASSERT_TRUE(record.ok() && record->has_value());
        ASSERT_TRUE((**record).state == core::OutgoingState::kAccepted ||
                    (**record).state == core::OutgoingState::kPending)
            << name;
        ASSERT_TRUE(model_.accepted.count(n) != 0) << name << " in sent/ but never accepted";
      }
    }
    for (const std::string& name : sent_names) {
      // A document moved twice would be doc-N.1.json.
      ASSERT_TRUE(name == ".tmp" || outbox_names.count(name) == 0) << name;
      ASSERT_EQ(name.find(".1."), std::string::npos) << name << ": a document in sent/ twice";
    }
    std::set<std::string> inbox_names(inbox->begin(), inbox->end());
    for (uint64_t n = 0; n < model_.arrived; ++n) {
      std::string name = IncomingId(n) + ".json";
      if (model_.taken.count(n) != 0) {
        ASSERT_EQ(inbox_names.count(name), 0u) << name << " came back after it was taken";
        continue;
      }
      if (model_.acknowledged.count(n) == 0) continue;
      ASSERT_EQ(inbox_names.count(name), 1u) << name << " acknowledged but not in the inbox";
      core::Result<std::string> text = files_->ReadFile(kInbox / name, kMaxBytes);
      ASSERT_TRUE(text.ok());
      ASSERT_EQ(*text, InboxText(n)) << name << " is not whole";
    }
    ASSERT_EQ(duplicates_, 0u) << "a redelivery of an acknowledged message was written again";
  }

  std::unique_ptr<FaultInjectingFileSystem> files_ = std::make_unique<FaultInjectingFileSystem>();
  std::shared_ptr<store::FaultInjectionFileSystem> journal_fs_ =
      std::make_shared<store::FaultInjectionFileSystem>();
  Process agent_;
  Model model_;
  uint64_t duplicates_ = 0;
  std::string failure_;
};

TEST_F(AgentPowerLossTest, NothingAcknowledgedIsLostAndNothingIsDuplicated) {
  const uint64_t losses = EnvOr("STAFETT_POWER_LOSSES", 1000);
  const uint64_t seed =
      EnvOr("STAFETT_POWER_LOSS_SEED",
            static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
  std::printf(
      "agent power-loss test: %llu simulated power losses, seed %llu "
      "(STAFETT_POWER_LOSS_SEED=%llu replays it)\n",
      static_cast<unsigned long long>(losses), static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 random(seed);
  spdlog::set_level(spdlog::level::err);  // a thousand cuts: the journal warns of each
  stafett::testing::TempDir dir("stafett-agent-power-loss");
  std::filesystem::path db;
  uint64_t dropped_files = 0, dropped_journal = 0, sent_total = 0, kept_total = 0;
  auto started = std::chrono::steady_clock::now();
  for (uint64_t loss = 0; loss < losses; ++loss) {
    SCOPED_TRACE("power loss " + std::to_string(loss) + ", seed " + std::to_string(seed));
    if (loss % kLossesPerRun == 0) {
      agent_ = Process();
      db = dir.path() + "/journal" + std::to_string(loss / kLossesPerRun);
      files_ = std::make_unique<FaultInjectingFileSystem>();
      model_ = Model();
      ASSERT_TRUE(Open(db).ok());
    }
    // Cut at a random step of the files or of the journal, or after some idle rounds.
    bool idle_cut = random() % 5 == 0;
    uint64_t rounds = 1 + random() % 6;
    if (!idle_cut) {
      if (random() % 2 == 0) {
        files_->CutPowerAfter(1 + random() % 60);
      } else {
        journal_fs_->CutPowerAfter(1 + random() % 60);
      }
    }
    for (uint64_t round = 0; Powered(); ++round) {
      if (idle_cut && round == rounds) {
        files_->CutPower();
        CheckPower();
        break;
      }
      uint64_t drops = random() % 3;
      bool ok = true;
      for (uint64_t i = 0; ok && i < drops; ++i) ok = Drop(model_.dropped);
      ok = ok && CheckPower() && ScanOutbox(random) && CheckPower() && Deliver(random) &&
           CheckPower() && TakeFromInbox(random) && CheckPower();
      if (!ok) {
        ASSERT_FALSE(Powered()) << "a step failed with the power on: " << failure_;
        CheckPower();
        break;
      }
    }
    agent_ = Process();
    dropped_files += files_->LoseUnsyncedData();
    core::Result<size_t> lost = journal_fs_->LoseUnsyncedData();
    ASSERT_TRUE(lost.ok()) << lost.status().ToString();
    dropped_journal += *lost;
    Status reopened = Open(db);
    ASSERT_TRUE(reopened.ok()) << "reopen after the power loss: " << reopened.ToString();
    ASSERT_NO_FATAL_FAILURE(ExpectNothingLostOrDuplicated());
    if (loss % kLossesPerRun == kLossesPerRun - 1) {
      sent_total += files_->List(kSent)->size();
      kept_total += model_.acknowledged.size();
      agent_ = Process();
      std::filesystem::remove_all(db);
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "agent power-loss test: %llu power losses, %llu documents moved to sent/ and %llu "
      "messages acknowledged, all found; %llu file changes and %llu journal files dropped, "
      "%.1f s\n",
      static_cast<unsigned long long>(losses), static_cast<unsigned long long>(sent_total),
      static_cast<unsigned long long>(kept_total), static_cast<unsigned long long>(dropped_files),
      static_cast<unsigned long long>(dropped_journal), seconds);
  EXPECT_GT(dropped_files, 0u) << "no power loss dropped a file change: the test tests nothing";
}

}  // namespace
}  // namespace stafett::agent
