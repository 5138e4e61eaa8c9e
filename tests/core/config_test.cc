// Config: typed getters and the unknown-key check every program's loader ends with.
#include "stafett/core/config.h"

#include <gtest/gtest.h>

namespace stafett::core {
namespace {

Result<Config> Parse(const std::string& text) { return Config::Parse(text, "/etc/x/agent.toml"); }

// Regression (issue 14 item 8): a mistyped key (http_tokn) was ignored and its default used.
TEST(ConfigTest, AKeyNoGetterAskedForIsAnErrorNamingItAndItsTable) {
  Result<Config> config =
      Parse("[agent]\nid = \"a\"\nhttp_tokn = \"x\"\n[log]\nlevel = \"info\"\n");
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(config->GetString("agent.id", std::nullopt).ok());
  ASSERT_TRUE(config->GetString("agent.http_token", "").ok());
  ASSERT_TRUE(config->GetString("log.level", "info").ok());
  Status unknown = config->RejectUnknownKeys();
  EXPECT_EQ(unknown.code(), Code::kConfigInvalid);
  EXPECT_EQ(unknown.message(), "/etc/x/agent.toml: unknown key 'http_tokn' in [agent]");
}

TEST(ConfigTest, UnknownTablesAndTopLevelKeysAreErrorsToo) {
  Result<Config> config = Parse("[agnet]\nid = \"a\"\n");
  ASSERT_TRUE(config.ok());
  (void)config->GetString("agent.id", "");
  EXPECT_EQ(config->RejectUnknownKeys().message(), "/etc/x/agent.toml: unknown table [agnet]");
  Result<Config> top = Parse("colour = 1\n");
  EXPECT_EQ(top->RejectUnknownKeys().message(), "/etc/x/agent.toml: unknown key 'colour'");
}

TEST(ConfigTest, KnownAllowedAndOtherProgramsTablesPass) {
  Result<Config> config = Parse(
      "[operator]\nid = \"o\"\nkeys_dir = \"k\"\n[log]\nformat = \"human\"\n[console]\nx = 1\n");
  ASSERT_TRUE(config.ok());
  (void)config->GetString("operator.id", std::nullopt);
  EXPECT_TRUE(config->Has("operator.keys_dir"));
  config->Allow("log.format");
  EXPECT_TRUE(config->RejectUnknownKeys({"operator", "log"}).ok());
  EXPECT_EQ(config->RejectUnknownKeys().message(), "/etc/x/agent.toml: unknown table [console]");
}

}  // namespace
}  // namespace stafett::core
