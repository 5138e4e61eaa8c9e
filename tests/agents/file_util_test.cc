// File utilities: symlinks are never followed, sizes are capped before reading, atomic writes
// leave no temp files, and moves never overwrite.
#include "file_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "outbox_watcher.h"
#include "support/sandbox_files.h"

namespace stafett::agent {
namespace {

TEST(FileUtilTest, ReadRefusesSymlinksAndOversizedFiles) {
  testing::TempDir dir;
  std::string target = dir.path() + "/target.json";
  ASSERT_TRUE(testing::WriteFileByRename(target, "{}"));
  ASSERT_EQ(::symlink(target.c_str(), (dir.path() + "/link.json").c_str()), 0);
  EXPECT_EQ(ReadRegularFile(dir.path() + "/link.json", 100).status().code(),
            core::Code::kSchemaInvalid);
  EXPECT_EQ(ReadRegularFile(target, 1).status().code(), core::Code::kTooLarge);
  EXPECT_EQ(ReadRegularFile(dir.path() + "/gone.json", 100).status().code(), core::Code::kNotFound);
  EXPECT_EQ(ReadRegularFile(dir.path(), 100).status().code(), core::Code::kSchemaInvalid);
  auto read = ReadRegularFile(target, 100);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "{}");
}

TEST(FileUtilTest, AtomicWriteAndNonOverwritingMove) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.path(), "a.json", "one").ok());
  EXPECT_EQ(testing::ListNames(dir.path()), (std::vector<std::string>{"a.json"}));
  EXPECT_TRUE(testing::ListNames(dir.path() + "/.tmp").empty());
  ASSERT_TRUE(EnsureWritableFolder(dir.path() + "/sent").ok());
  ASSERT_TRUE(MoveWithoutOverwrite(dir.path() + "/a.json", dir.path() + "/sent").ok());
  ASSERT_TRUE(WriteFileAtomically(dir.path(), "a.json", "two").ok());
  auto moved = MoveWithoutOverwrite(dir.path() + "/a.json", dir.path() + "/sent");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->filename(), "a.1.json");
  EXPECT_EQ(testing::ListNames(dir.path() + "/sent"),
            (std::vector<std::string>{"a.1.json", "a.json"}));
  std::string first;
  ASSERT_TRUE(testing::ReadWholeFile(dir.path() + "/sent/a.json", &first));
  EXPECT_EQ(first, "one");
  EXPECT_EQ(MoveWithoutOverwrite(dir.path() + "/a.json", dir.path() + "/sent").status().code(),
            core::Code::kNotFound);
}

TEST(FileUtilTest, OutboxTakesOnlyJsonDocumentNames) {
  EXPECT_TRUE(IsOutboxDocumentName("referral.json"));
  EXPECT_FALSE(IsOutboxDocumentName(".referral.json"));
  EXPECT_FALSE(IsOutboxDocumentName("referral.json.tmp"));
  EXPECT_FALSE(IsOutboxDocumentName("referral.tmp"));
  EXPECT_FALSE(IsOutboxDocumentName("referral.txt"));
  EXPECT_FALSE(IsOutboxDocumentName(""));
}

}  // namespace
}  // namespace stafett::agent
