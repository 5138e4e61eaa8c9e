// Tests for `stafett keys` and the CLI wiring: generate, rotate (old key kept and ended after
// the overlap), show, exit codes for usage errors, county init through the command line.
// Thread-safety: single-threaded tests.
#include <gtest/gtest.h>

#include <fstream>

#include "cli.h"
#include "cli_errors.h"
#include "county_init.h"
#include "key_operations.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"
#include "support/sandbox_files.h"

namespace stafett::tools {
namespace {

namespace fs = std::filesystem;

int RunStafett(std::vector<std::string> args) {
  args.insert(args.begin(), "stafett");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return RunCli(static_cast<int>(argv.size()), argv.data());
}

class KeysCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCounty({county(), "three", 7700, 365, now_}).ok()); }
  fs::path county() const { return fs::path(temp_.path()) / "county"; }
  fs::path directory_file() const { return county() / "trust" / "directory.json"; }
  fs::path school_keys() const { return county() / "agents" / "flen.school" / "keys"; }

  testing::TempDir temp_{"stafett-keys-cli-test"};
  core::Micros now_ = core::SystemClock::Instance().Now();
};

TEST_F(KeysCommandsTest, GenerateWritesAKeySet) {
  fs::path out = fs::path(temp_.path()) / "new" / "keys";
  core::Result<KeyFiles> files = GenerateKeyFiles("gnesta.school", out, 30, now_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_TRUE(fs::exists(files->public_file));
  core::Result<keys::KeySet> loaded = keys::LoadSecretKeyFile(files->secret_file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->ValidAt(now_));
  EXPECT_FALSE(loaded->ValidAt(now_ + 31 * kMicrosPerDay));
  EXPECT_EQ(RunStafett({"keys", "generate", "--id", "trosa.social", "--out", out.string()}), 0);
  EXPECT_EQ(RunStafett({"keys", "generate", "--id", "Trosa Social", "--out", out.string()}),
            kExitUsageError);
}

TEST_F(KeysCommandsTest, RotateAddsTheNewKeyAndEndsTheOldAfterTheOverlap) {
  core::Result<std::vector<keys::KeySet>> before = keys::LoadKeyDir(school_keys());
  ASSERT_TRUE(before.ok());
  std::string old_id = before->front().key_id;
  core::Result<Rotation> rotation =
      RotateKeys("flen.school", school_keys(), directory_file(), 7, 365, now_);
  ASSERT_TRUE(rotation.ok()) << rotation.status().ToString();
  EXPECT_EQ(rotation->ended_key_ids, std::vector<std::string>{old_id});

  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(directory_file());
  ASSERT_TRUE(directory.ok()) << directory.status().ToString();
  std::string new_id = rotation->created.key_set.key_id;
  EXPECT_EQ(directory->CurrentKeys("flen.school", now_ + 1000)->key_id, new_id);
  const keys::PublicKeys* old_entry = directory->KeyById("flen.school", old_id);
  ASSERT_NE(old_entry, nullptr);
  EXPECT_TRUE(old_entry->ValidAt(now_ + 6 * kMicrosPerDay));
  EXPECT_FALSE(old_entry->ValidAt(now_ + 8 * kMicrosPerDay));

  // The agent's folder now holds both; the new one signs.
  core::Result<std::vector<keys::KeySet>> after = keys::LoadKeyDir(school_keys());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 2u);
  EXPECT_EQ(keys::CurrentKeySet(*after, now_ + 1000)->key_id, new_id);

  // Through the command line, once more.
  EXPECT_EQ(
      RunStafett({"keys", "rotate", "--id", "flen.school", "--keys-dir", school_keys().string(),
                  "--directory", directory_file().string(), "--overlap-days", "1"}),
      0);
  directory = keys::TrustDirectory::Load(directory_file());
  ASSERT_TRUE(directory.ok());
  EXPECT_EQ(directory->Find("flen.school")->keys.size(), 3u);
}

TEST_F(KeysCommandsTest, RotateRefusesAnotherPrincipalsFolderAndUnknownIds) {
  core::Result<Rotation> wrong =
      RotateKeys("flen.social", school_keys(), directory_file(), 7, 365, now_);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), core::Code::kKeyInvalid);
  EXPECT_FALSE(RotateKeys("nobody.school", school_keys(), directory_file(), 7, 365, now_).ok());
  EXPECT_FALSE(RotateKeys("flen.school", school_keys(), directory_file(), 30, 10, now_).ok());
  // Nothing was written.
  EXPECT_EQ(keys::LoadKeyDir(school_keys())->size(), 1u);
}

TEST_F(KeysCommandsTest, ShowRendersEveryKey) {
  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(directory_file());
  ASSERT_TRUE(directory.ok());
  std::string table = RenderKeyTable(*directory, now_);
  EXPECT_NE(table.find("KEY_ID"), std::string::npos);
  for (const char* id :
       {"broker", "flen.school", "flen.social", "region.health", "auditor", "operator"}) {
    EXPECT_NE(table.find(id), std::string::npos) << id;
  }
  EXPECT_NE(table.find("current"), std::string::npos);
  EXPECT_EQ(RunStafett({"keys", "show", "--directory", directory_file().string()}), 0);
  EXPECT_EQ(
      RunStafett({"keys", "show", "--directory", directory_file().string(), "--format", "json"}),
      0);
  EXPECT_EQ(RunStafett({"keys", "show", "--directory", (county() / "missing.json").string()}),
            kExitUsageError);
}

TEST(CliTest, ExitCodes) {
  EXPECT_EQ(RunStafett({"--version"}), 0);
  EXPECT_EQ(RunStafett({"--help"}), 0);
  EXPECT_EQ(RunStafett({"keys", "--help"}), 0);
  EXPECT_EQ(RunStafett({"county", "init", "--help"}), 0);
  EXPECT_EQ(RunStafett({}), kExitUsageError);
  EXPECT_EQ(RunStafett({"--bogus"}), kExitUsageError);
  EXPECT_EQ(RunStafett({"keys", "generate", "--id", "a.b"}), kExitUsageError);  // no --out
  EXPECT_EQ(RunStafett({"county", "init", "/tmp/x", "--preset", "gotland"}), kExitUsageError);
  EXPECT_EQ(RunStafett({"county", "init", "/tmp/x", "--base-port", "seventy"}), kExitUsageError);
}

TEST(CliTest, CountyInitThroughTheCommandLine) {
  testing::TempDir temp("stafett-cli-test");
  fs::path dir = fs::path(temp.path()) / "sandbox";
  EXPECT_EQ(
      RunStafett({"county", "init", dir.string(), "--preset", "three", "--base-port", "24000"}), 0);
  EXPECT_TRUE(fs::exists(dir / "county.json"));
  EXPECT_EQ(RunStafett({"county", "init", dir.string()}), kExitUsageError);  // not empty now
}

TEST(CliTest, ExitCodeFollowsTheErrorKind) {
  EXPECT_EQ(ExitCodeFor(core::Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(core::Status(core::Code::kConfigInvalid, "x")), kExitUsageError);
  EXPECT_EQ(ExitCodeFor(core::Status(core::Code::kKeyInvalid, "x")), kExitUsageError);
  EXPECT_EQ(ExitCodeFor(core::Status(core::Code::kUnavailable, "x")), kExitRuntimeFailure);
}

}  // namespace
}  // namespace stafett::tools
