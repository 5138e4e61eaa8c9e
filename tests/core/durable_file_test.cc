// WriteFileDurably: the content round-trips, a second write replaces the first whole, no temp
// file is left behind, and a missing folder is an error that leaves nothing.
#include "stafett/core/durable_file.h"

#include <gtest/gtest.h>

#include "support/sandbox_files.h"

namespace stafett::core {
namespace {

TEST(DurableFileTest, WritesReplacesAndLeavesNoTempFile) {
  testing::TempDir dir;
  std::filesystem::path file = std::filesystem::path(dir.path()) / "last_head.json";
  ASSERT_TRUE(WriteFileDurably(file, "{\"tree_size\":1}\n").ok());
  std::string text;
  ASSERT_TRUE(testing::ReadWholeFile(file, &text));
  EXPECT_EQ(text, "{\"tree_size\":1}\n");
  ASSERT_TRUE(WriteFileDurably(file, "{\"tree_size\":22}\n").ok());
  ASSERT_TRUE(testing::ReadWholeFile(file, &text));
  EXPECT_EQ(text, "{\"tree_size\":22}\n");
  EXPECT_EQ(testing::ListNames(dir.path(), true), std::vector<std::string>{"last_head.json"});
  EXPECT_TRUE(SyncFolder(dir.path()).ok());
}

TEST(DurableFileTest, AMissingFolderIsAnIoError) {
  testing::TempDir dir;
  std::filesystem::path file = std::filesystem::path(dir.path()) / "gone" / "last_head.json";
  Status written = WriteFileDurably(file, "x");
  EXPECT_EQ(written.code(), Code::kIoError) << written.ToString();
  EXPECT_TRUE(testing::ListNames(dir.path(), true).empty());
  EXPECT_EQ(SyncFolder(file.parent_path()).code(), Code::kIoError);
}

}  // namespace
}  // namespace stafett::core
