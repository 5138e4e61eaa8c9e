// The agent's own disk (issue 14 item 12, the agent's part): short of space the agent refuses
// new documents with STORAGE_FULL (HTTP 503, retryable; an outbox file stays where it is), its
// answers for pending messages carry STORAGE_FULL, /readyz answers 503 with the reason — and
// nothing is lost: once there is room again everything goes through. Before: no /readyz at all,
// and a journal write failing with ENOSPC was answered 503 UNAVAILABLE ("could not journal").
// Real processes; the disk is a real tmpfs filled up, or writes failing with ENOSPC injected
// into the agent's journal by the LD_PRELOAD shim (tests/fault_io/fail_io.c).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "integration/support/agent_sandbox.h"
#include "integration/support/fail_io_env.h"
#include "integration/support/tmpfs_mount.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr uint64_t kMiB = 1024 * 1024;

// TEXT as JSON; an empty object if it is not (so that value() is safe on a bad answer).
nlohmann::json ParseJson(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json::object() : parsed;
}

// Appends LINES to the [agent] section of agent ID's config (its first section).
bool AddToAgentSection(const std::string& config, const std::string& lines) {
  std::string text;
  if (!ReadWholeFile(config, &text)) return false;
  size_t at = text.find("[agent]\n");
  if (at == std::string::npos) return false;
  text.insert(at + 8, lines);
  std::ofstream(config, std::ios::trunc) << text;
  return true;
}

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

// Replaces the value of KEY in the TOML file CONFIG (the first "KEY = " line).
bool SetKey(const std::string& config, const std::string& key, const std::string& value) {
  std::string text;
  if (!ReadWholeFile(config, &text)) return false;
  size_t at = text.find("\n" + key + " = ");
  if (at == std::string::npos) return false;
  size_t end = text.find('\n', at + 1);
  text.replace(at + 1, end - at - 1, key + " = " + value);
  std::ofstream(config, std::ios::trunc) << text;
  return true;
}

class AgentStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sandbox_.ok()) << sandbox_.error(); }
  void TearDown() override {
    // The school's agent holds files on the mount: stop it first, then unmount.
    sandbox_.StopAgent(kSchool);
    mount_.Unmount();
  }

  HttpResponse Get(const std::string& path) {
    return HttpRequest(sandbox_.agent(kSchool).http, "GET", path, "", {}, 5000);
  }

  AgentSandbox sandbox_;
  TmpfsMount mount_;
};

TEST_F(AgentStorageTest, BelowItsFloorTheAgentRefusesNewWorkSaysWhyAndResumes) {
  constexpr uint64_t kMinFree = 24 * kMiB;
  const AgentInfo& school = sandbox_.agent(kSchool);
  std::string disk = sandbox_.dir() + "/school-disk";
  std::string error;
  if (!mount_.Mount(disk, "160m", &error)) {
    GTEST_SKIP() << "cannot mount a small filesystem for the agent (needs root): " << error;
  }
  // The school's journal, outbox and inbox on that disk.
  for (const char* folder : {"data", "outbox", "inbox"}) {
    std::filesystem::create_directories(disk + "/" + folder);
  }
  ASSERT_TRUE(SetKey(school.config, "data_dir", Quoted(disk + "/data")));
  ASSERT_TRUE(SetKey(school.config, "outbox", Quoted(disk + "/outbox")));
  ASSERT_TRUE(SetKey(school.config, "inbox", Quoted(disk + "/inbox")));
  ASSERT_TRUE(AddToAgentSection(
      school.config, "min_free_bytes = " + std::to_string(kMinFree) + "\nrescan_seconds = 1\n"));
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);

  HttpResponse ready = Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ParseJson(ready.body).value("ready", false), true) << ready.body;
  HttpResponse before = sandbox_.Post(kSchool, ConcernReport("before", kSocial));
  ASSERT_EQ(before.status, 202) << before.body;
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "before", "delivered", seconds(30)));

  // Without the broker: not ready, and why; a message handed over now is kept, pending.
  sandbox_.StopBroker();
  ASSERT_TRUE(WaitUntil([&] { return Get("/readyz").status == 503; }, seconds(30)));
  nlohmann::json unready = ParseJson(Get("/readyz").body);
  EXPECT_EQ(unready.value("code", ""), "UNAVAILABLE") << unready.dump();
  EXPECT_EQ(unready.value("broker_connected", true), false) << unready.dump();
  HttpResponse waiting = sandbox_.Post(kSchool, ConcernReport("waiting", kSocial));
  ASSERT_EQ(waiting.status, 202) << waiting.body;
  EXPECT_EQ(ParseJson(waiting.body).value("status", ""), "pending") << waiting.body;
  EXPECT_FALSE(ParseJson(waiting.body).contains("code")) << waiting.body;

  // The disk fills: less than min_free_bytes left (but some: the journal still records the
  // broker's answers for what it holds).
  std::string filler = disk + "/filler.bin";
  ASSERT_TRUE(FillUntilFree(filler, kMinFree - 8 * kMiB, &error)) << error;
  ASSERT_LT(FreeBytes(disk), kMinFree);
  ASSERT_GT(FreeBytes(disk), 4 * kMiB);

  HttpResponse full = Get("/readyz");
  EXPECT_EQ(full.status, 503) << full.body;
  nlohmann::json reasons = ParseJson(full.body);
  EXPECT_EQ(reasons.value("code", ""), "STORAGE_FULL") << full.body;
  EXPECT_EQ(reasons["storage"].value("full", false), true) << full.body;
  EXPECT_EQ(reasons["storage"].value("min_free_bytes", uint64_t{0}), kMinFree) << full.body;
  EXPECT_LT(reasons["storage"]["free_bytes"].value("data_dir", kMinFree), kMinFree) << full.body;
  // A new document is refused, retryably, and not taken at all.
  HttpResponse refused = sandbox_.Post(kSchool, ConcernReport("during", kSocial));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(ParseJson(refused.body).value("code", ""), "STORAGE_FULL") << refused.body;
  EXPECT_NE(ParseJson(refused.body).value("message", "").find("min_free_bytes"), std::string::npos)
      << refused.body;
  EXPECT_EQ(Get("/v1/messages/during").status, 404);
  // The pending one says why it may not move on.
  HttpResponse tracked = Get("/v1/messages/waiting");
  EXPECT_EQ(ParseJson(tracked.body).value("status", ""), "pending") << tracked.body;
  EXPECT_EQ(ParseJson(tracked.body).value("code", ""), "STORAGE_FULL") << tracked.body;
  // A file dropped now stays in the outbox (not rejected): it is handed over once there is room.
  // (Into the outbox on the small disk, written under a dot-name and renamed.)
  ASSERT_TRUE(
      WriteFileByRename(disk + "/outbox/drop.json", ConcernReport("dropped", kSocial).dump()));
  EXPECT_TRUE(WaitUntil(
      [&] {
        return sandbox_.LogOf(kSchool).find(
                   "event=outbox_deferred message_id=dropped "
                   "code=STORAGE_FULL") != std::string::npos;
      },
      seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_TRUE(std::filesystem::exists(disk + "/outbox/drop.json"));
  EXPECT_TRUE(ListNames(disk + "/outbox/rejected").empty());
  EXPECT_NE(sandbox_.LogOf(kSchool).find("event=agent_storage_full where=data_dir"),
            std::string::npos);

  // The broker is back: what the journal held goes (its answers are still recorded).
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "waiting", "delivered", seconds(30)))
      << sandbox_.Status(kSchool, "waiting") << sandbox_.LogOf(kSchool);
  EXPECT_EQ(Get("/readyz").status, 503) << "still short of space";

  // Room again: ready, and the refused document and the dropped file go through.
  ASSERT_EQ(std::filesystem::remove(filler), true);
  EXPECT_TRUE(WaitUntil([&] { return Get("/readyz").status == 200; }, seconds(10)))
      << Get("/readyz").body;
  HttpResponse again = sandbox_.Post(kSchool, ConcernReport("during", kSocial));
  EXPECT_EQ(again.status, 202) << again.body;
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "during", "delivered", seconds(30)));
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "dropped", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_TRUE(WaitUntil([&] { return std::filesystem::exists(disk + "/outbox/sent/drop.json"); },
                        seconds(30)));
  EXPECT_EQ(
      sandbox_.InboxMessages(kSocial),
      (std::vector<std::string>{"before.json", "dropped.json", "during.json", "waiting.json"}));
}

TEST_F(AgentStorageTest, AJournalWriteFailingWithNoSpaceIsRefusedStorageFullAndResumes) {
  const AgentInfo& school = sandbox_.agent(kSchool);
  std::string data = std::filesystem::path(school.config).parent_path().string() + "/data";
  std::string control = sandbox_.dir() + "/fail_io.control";
  // No floor: the failed write alone must make the agent say it.
  ASSERT_TRUE(AddToAgentSection(school.config, "min_free_bytes = 0\n"));
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  {
    // The school's agent with the shim preloaded, failing writes under its data_dir only.
    stafett::testing::FailIoEnvironment fail_io(control, data + "/");
    bool started = sandbox_.StartAgent(kSchool);
    ASSERT_TRUE(started) << sandbox_.LogOf(kSchool);
  }
  HttpResponse before = sandbox_.Post(kSchool, ConcernReport("before", kSocial));
  ASSERT_EQ(before.status, 202) << before.body;
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "before", "delivered", seconds(30)));
  EXPECT_EQ(Get("/readyz").status, 200) << Get("/readyz").body;

  ASSERT_TRUE(WriteFileByRename(control, "enospc"));
  HttpResponse refused = sandbox_.Post(kSchool, ConcernReport("during", kSocial));
  ASSERT_EQ(refused.status, 503) << refused.body << sandbox_.LogOf(kSchool);
  EXPECT_EQ(ParseJson(refused.body).value("code", ""), "STORAGE_FULL") << refused.body;
  std::string text;
  EXPECT_TRUE(ReadWholeFile(control + ".count", &text) && !text.empty()) << "never hit";
  HttpResponse full = Get("/readyz");
  EXPECT_EQ(full.status, 503) << full.body;
  EXPECT_EQ(ParseJson(full.body).value("code", ""), "STORAGE_FULL") << full.body;
  EXPECT_NE(full.body.find("journal"), std::string::npos) << full.body;
  EXPECT_EQ(Get("/v1/messages/during").status, 404) << "not taken, so not half-kept";
  HttpResponse refused_again = sandbox_.Post(kSchool, ConcernReport("during", kSocial));
  EXPECT_EQ(refused_again.status, 503) << refused_again.body;
  EXPECT_EQ(ParseJson(refused_again.body).value("code", ""), "STORAGE_FULL") << refused_again.body;

  // Space back: the journal resumes, the agent is ready and takes the document.
  std::filesystem::remove(control);
  EXPECT_TRUE(WaitUntil([&] { return Get("/readyz").status == 200; }, seconds(10)))
      << Get("/readyz").body << sandbox_.LogOf(kSchool);
  HttpResponse again = sandbox_.Post(kSchool, ConcernReport("during", kSocial));
  EXPECT_EQ(again.status, 202) << again.body;
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "during", "delivered", seconds(30)))
      << sandbox_.Status(kSchool, "during") << sandbox_.LogOf(kSchool);
  EXPECT_EQ(sandbox_.InboxMessages(kSocial),
            (std::vector<std::string>{"before.json", "during.json"}));
}

}  // namespace
}  // namespace stafett::testing
