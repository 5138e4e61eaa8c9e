// Tests for the county pseudonym key file: format, mode 0600, refusals.
// Thread-safety: single-threaded tests.
#include "stafett/keys/pseudonym_key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/sandbox_files.h"

namespace stafett::keys {
namespace {

TEST(PseudonymKeyFileTest, WritesHexAndNewlineWithMode0600AndLoadsIt) {
  testing::TempDir dir("stafett-pseudonym-test");
  std::filesystem::path file = std::filesystem::path(dir.path()) / "pseudonym.key";
  core::PseudonymKey key = core::PseudonymKey::Generate();
  ASSERT_TRUE(WritePseudonymKeyFile(file, key).ok());
  std::string text;
  ASSERT_TRUE(testing::ReadWholeFile(file, &text));
  EXPECT_EQ(text, key.ToHex() + "\n");
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  core::Result<core::PseudonymKey> loaded = LoadPseudonymKeyFile(file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->bytes(), key.bytes());
  EXPECT_FALSE(WritePseudonymKeyFile(file, key).ok());  // never overwritten
}

TEST(PseudonymKeyFileTest, RefusesOpenModesAndMalformedContent) {
  testing::TempDir dir("stafett-pseudonym-test");
  std::filesystem::path file = std::filesystem::path(dir.path()) / "pseudonym.key";
  ASSERT_TRUE(WritePseudonymKeyFile(file, core::PseudonymKey::Generate()).ok());
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  core::Result<core::PseudonymKey> loaded = LoadPseudonymKeyFile(file);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), core::Code::kKeyInvalid);
  EXPECT_NE(loaded.status().message().find("mode 0640"), std::string::npos);

  std::filesystem::path bad = std::filesystem::path(dir.path()) / "bad.key";
  std::ofstream(bad) << "secret-looking-text-not-hex\n";
  ASSERT_EQ(::chmod(bad.c_str(), 0600), 0);
  loaded = LoadPseudonymKeyFile(bad);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message().find("secret-looking"), std::string::npos);
  EXPECT_FALSE(LoadPseudonymKeyFile(std::filesystem::path(dir.path()) / "missing").ok());
}

}  // namespace
}  // namespace stafett::keys
