// Agent integration: hostile input at the outbox and the HTTP API is refused with the right
// code, and the agent keeps serving.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

std::string ErrorCodeOf(const std::string& rejected, const std::string& name) {
  std::string text;
  if (!ReadWholeFile(rejected + "/" + name + ".error.json", &text)) return "";
  nlohmann::json error = nlohmann::json::parse(text, nullptr, false);
  return error.is_object() ? error.value("code", "") : "";
}

class AgentHostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
    ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
    ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
  }

  void ExpectStillServing(const std::string& message_id) {
    EXPECT_EQ(HttpRequest(sandbox_.agent(kSchool).http, "GET", "/healthz").status, 200);
    ASSERT_EQ(sandbox_.Post(kSchool, ConcernReport(message_id, kSocial)).status, 202);
    EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, message_id, "delivered", seconds(30)));
  }

  AgentSandbox sandbox_;
};

TEST_F(AgentHostileInputTest, OutboxRefusesSymlinksNonJsonAndHugeFiles) {
  const AgentInfo& school = sandbox_.agent(kSchool);
  std::string secret = sandbox_.dir() + "/secret.json";
  { std::ofstream(secret) << ConcernReport("via-link", kSocial).dump(); }
  std::string link_temp = school.outbox + "/.link.tmp";
  ASSERT_EQ(::symlink(secret.c_str(), link_temp.c_str()), 0);
  ASSERT_EQ(::rename(link_temp.c_str(), (school.outbox + "/link.json").c_str()), 0);
  ASSERT_TRUE(sandbox_.Drop(kSchool, "garbage.json", "this is { not json"));
  ASSERT_TRUE(sandbox_.Drop(kSchool, "huge.json", std::string(64u << 20, ' ')));
  std::string rejected = school.outbox + "/rejected";
  EXPECT_TRUE(WaitUntil([&] { return ListNames(rejected).size() == 6; }, seconds(30)))
      << ListNames(rejected).size();
  EXPECT_EQ(ErrorCodeOf(rejected, "link.json"), "SCHEMA_INVALID");
  EXPECT_EQ(ErrorCodeOf(rejected, "garbage.json"), "SCHEMA_INVALID");
  EXPECT_EQ(ErrorCodeOf(rejected, "huge.json"), "TOO_LARGE");
  EXPECT_EQ(sandbox_.Status(kSchool, "via-link"), "");  // the link was never followed
  ExpectStillServing("after-files");
}

TEST_F(AgentHostileInputTest, HttpRefusesBadNumbersPathIdsAndHugeBodies) {
  nlohmann::json bad_check_digit = ConcernReport("bad-luhn", kSocial);
  bad_check_digit["subject"]["personnummer"] = "19121212-1213";
  HttpResponse luhn = sandbox_.Post(kSchool, bad_check_digit);
  EXPECT_EQ(luhn.status, 400) << luhn.body;
  EXPECT_NE(luhn.body.find("SCHEMA_INVALID"), std::string::npos);
  EXPECT_NE(luhn.body.find("/subject/personnummer"), std::string::npos);
  EXPECT_EQ(luhn.body.find("1213"), std::string::npos);  // never echoed

  HttpResponse path = sandbox_.Post(kSchool, ConcernReport("../x", kSocial));
  EXPECT_EQ(path.status, 400) << path.body;
  EXPECT_NE(path.body.find("SCHEMA_INVALID"), std::string::npos);

  HttpResponse huge = sandbox_.Post(kSchool, std::string(64u << 20, 'x'));
  EXPECT_EQ(huge.status, 413) << huge.body.substr(0, 200);

  HttpResponse garbage = sandbox_.Post(kSchool, std::string("{\"type\":"));
  EXPECT_EQ(garbage.status, 400);

  HttpResponse unknown = sandbox_.Post(kSchool, ConcernReport("to-nobody", "nowhere.social"));
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_NE(unknown.body.find("UNKNOWN_RECIPIENT"), std::string::npos);

  ExpectStillServing("after-http");
}

}  // namespace
}  // namespace stafett::testing
