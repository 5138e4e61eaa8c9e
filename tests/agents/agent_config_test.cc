// AgentConfig: agent.toml's guards — unknown keys, the HTTP API beyond loopback without a token,
// the token file and its mode.
#include "agent_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/sandbox_files.h"

namespace stafett::agent {
namespace {

class AgentConfigTest : public ::testing::Test {
 protected:
  core::Result<AgentConfig> Load(const std::string& extra) {
    std::string file = dir_.path() + "/agent.toml";
    std::ofstream(file) << "[agent]\nid = \"flen.school\"\nbroker_zmq = \"tcp://127.0.0.1:1\"\n"
                           "trust_directory = \"d.json\"\npseudonym_key = \"p.key\"\n"
                        << extra;
    return LoadAgentConfig(file);
  }
  void WriteToken(const std::string& token, mode_t mode) {
    std::string file = dir_.path() + "/http.token";
    std::ofstream(file, std::ios::trunc) << token;
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
  }
  testing::TempDir dir_;
};

TEST_F(AgentConfigTest, AMistypedKeyIsAOneLineErrorNamingIt) {
  core::Result<AgentConfig> config = Load("http_tokn = \"secret-secret-secret\"\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("unknown key 'http_tokn' in [agent]"), std::string::npos)
      << config.status().message();
  EXPECT_EQ(config.status().message().find('\n'), std::string::npos);
}

TEST_F(AgentConfigTest, TheInboxFormatIsStafettOrFhir) {
  core::Result<AgentConfig> plain = Load("");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->inbox_format, "stafett");
  core::Result<AgentConfig> fhir = Load("[inbox]\nformat = \"fhir\"\n");
  ASSERT_TRUE(fhir.ok()) << fhir.status().message();
  EXPECT_EQ(fhir->inbox_format, "fhir");
  core::Result<AgentConfig> other = Load("[inbox]\nformat = \"hl7v2\"\n");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("inbox.format"), std::string::npos)
      << other.status().message();
}

TEST_F(AgentConfigTest, ReceiptFilesAreOnUnlessSwitchedOff) {
  core::Result<AgentConfig> plain = Load("");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_TRUE(plain->receipt_files);
  core::Result<AgentConfig> off = Load("[inbox]\nreceipt_files = false\n");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_FALSE(off->receipt_files);
  core::Result<AgentConfig> wrong = Load("[inbox]\nreceipt_files = \"no\"\n");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("inbox.receipt_files"), std::string::npos)
      << wrong.status().message();
}

TEST_F(AgentConfigTest, RetentionKeepsFinishedWorkThirtyDaysAndLeavesTheInboxAlone) {
  core::Result<AgentConfig> plain = Load("");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->retention_finished_days, 30);
  EXPECT_EQ(plain->retention_inbox_taken_days, 0);
  core::Result<AgentConfig> set = Load("[retention]\nfinished_days = 0\ninbox_taken_days = 14\n");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->retention_finished_days, 0);
  EXPECT_EQ(set->retention_inbox_taken_days, 14);
  core::Result<AgentConfig> negative = Load("[retention]\nfinished_days = -1\n");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("retention.finished_days"), std::string::npos)
      << negative.status().message();
  core::Result<AgentConfig> unknown = Load("[retention]\nsent_days = 3\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("sent_days"), std::string::npos)
      << unknown.status().message();
}

// Regression (issue 14 item 8): http_bind = "0.0.0.0:…" with no token started unguarded.
TEST_F(AgentConfigTest, ABindBeyondLoopbackNeedsAToken) {
  EXPECT_TRUE(Load("http_bind = \"127.0.0.1:7710\"\n").ok());
  EXPECT_TRUE(Load("http_bind = \"[::1]:7710\"\n").ok());
  core::Result<AgentConfig> open = Load("http_bind = \"0.0.0.0:7710\"\n");
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), core::Code::kConfigInvalid);
  EXPECT_NE(open.status().message().find("http_token_file"), std::string::npos);
  EXPECT_TRUE(Load("http_bind = \"0.0.0.0:7710\"\nhttp_token = \"0123456789abcdef\"\n").ok());
}

TEST_F(AgentConfigTest, TheTokenFileMustBeTheOwnersOnly) {
  WriteToken("0123456789abcdef0123\n", 0644);
  core::Result<AgentConfig> loose =
      Load("http_bind = \"0.0.0.0:7710\"\nhttp_token_file = \"http.token\"\n");
  ASSERT_FALSE(loose.ok());
  EXPECT_NE(loose.status().message().find("chmod 600"), std::string::npos);
  WriteToken("0123456789abcdef0123\n", 0600);
  core::Result<AgentConfig> config =
      Load("http_bind = \"0.0.0.0:7710\"\nhttp_token_file = \"http.token\"\n");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->http_token, "0123456789abcdef0123");
  WriteToken("short", 0600);
  EXPECT_FALSE(Load("http_token_file = \"http.token\"\n").ok());
  WriteToken("0123456789abcdef0123", 0600);
  EXPECT_FALSE(Load("http_token = \"x\"\nhttp_token_file = \"http.token\"\n").ok());
}

}  // namespace
}  // namespace stafett::agent
