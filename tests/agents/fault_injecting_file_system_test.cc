// FaultInjectingFileSystem: what a power cut keeps — a durable write whole, a synced rename, a
// name change made durable by a later folder sync — and what it loses: an unsynced rename or
// remove, everything after the cut.
#include "agents/support/fault_injecting_file_system.h"

#include <gtest/gtest.h>

namespace stafett::agent {
namespace {

const std::filesystem::path kOutbox = "/a/outbox";
const std::filesystem::path kSent = "/a/outbox/sent";

TEST(FaultInjectingFileSystemTest, ADurableWriteAndASyncedMoveSurviveACut) {
  FaultInjectingFileSystem files;
  ASSERT_TRUE(files.WriteFileDurably(kOutbox, "a.json", "{}").ok());
  ASSERT_TRUE(files.MoveWithoutOverwrite(kOutbox / "a.json", kSent).ok());
  ASSERT_TRUE(files.WriteFileDurably(kOutbox, "a.json", "{\"again\":1}").ok());
  EXPECT_EQ(*files.MoveWithoutOverwrite(kOutbox / "a.json", kSent), kSent / "a.1.json");
  files.CutPower();
  EXPECT_EQ(files.WriteFileDurably(kOutbox, "b.json", "{}").code(), core::Code::kIoError);
  files.LoseUnsyncedData();
  EXPECT_EQ(*files.List(kSent), (std::vector<std::string>{"a.1.json", "a.json"}));
  EXPECT_EQ(*files.ReadFile(kSent / "a.1.json", 100), "{\"again\":1}");
  EXPECT_FALSE(*files.Exists(kOutbox / "b.json"));
}

TEST(FaultInjectingFileSystemTest, AnUnsyncedRemoveIsUndoneAndALaterSyncKeepsIt) {
  FaultInjectingFileSystem files;
  ASSERT_TRUE(files.WriteFileDurably(kOutbox, "a.json", "1").ok());
  ASSERT_TRUE(files.WriteFileDurably(kOutbox, "b.json", "2").ok());
  ASSERT_TRUE(files.Remove(kOutbox / "a.json").ok());
  files.CutPower();
  EXPECT_EQ(files.LoseUnsyncedData(), 1u);
  EXPECT_TRUE(*files.Exists(kOutbox / "a.json"));
  // A remove, then a durable write in another folder: its sync does not cover the remove.
  ASSERT_TRUE(files.Remove(kOutbox / "a.json").ok());
  ASSERT_TRUE(files.WriteFileDurably(kSent, "c.json", "3").ok());
  files.CutPower();
  files.LoseUnsyncedData();
  // The durable names are a prefix of the changes: the remove came first, so it is kept.
  EXPECT_FALSE(*files.Exists(kOutbox / "a.json"));
  EXPECT_EQ(*files.ReadFile(kSent / "c.json", 100), "3");
}

TEST(FaultInjectingFileSystemTest, ACutPartWayThroughAWriteLeavesTheOldFileOrTheNew) {
  for (uint64_t step = 1; step <= 4; ++step) {
    SCOPED_TRACE("cut at step " + std::to_string(step));
    FaultInjectingFileSystem files;
    ASSERT_TRUE(files.WriteFileDurably(kOutbox, "a.json", "old").ok());
    files.CutPowerAfter(step);
    EXPECT_FALSE(files.WriteFileDurably(kOutbox, "a.json", "new").ok());
    files.LoseUnsyncedData();
    EXPECT_EQ(*files.ReadFile(kOutbox / "a.json", 100), "old");
  }
}

}  // namespace
}  // namespace stafett::agent
