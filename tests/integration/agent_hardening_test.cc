// Agent hardening through real processes (issue 14, agent side): a message id is occupied only by
// an accepted message and only by one document; what is refused can be tried again once its
// cause is fixed. A broker and the school and social-services agents of the `three` sandbox.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/support/agent_sandbox.h"
#include "stafett/core/encoding.h"

namespace stafett::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

class AgentHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  }

  void StartAgents(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) ASSERT_TRUE(sandbox_.StartAgent(id)) << sandbox_.LogOf(id);
  }

  // The code of a POST's answer, and its HTTP status in STATUS.
  std::string PostCode(const std::string& id, const json& document, int* status) {
    HttpResponse response = sandbox_.Post(id, document);
    *status = response.status;
    json answer = json::parse(response.body, nullptr, false);
    return answer.is_object() ? answer.value("code", answer.value("status", "")) : response.body;
  }

  // The error file beside NAME in agent ID's outbox/rejected, once it is there.
  json RejectedError(const std::string& id, const std::string& name) {
    const std::string file = sandbox_.agent(id).outbox + "/rejected/" + name + ".error.json";
    std::string text;
    if (!WaitUntil([&] { return ReadWholeFile(file, &text); }, seconds(30))) return json();
    return json::parse(text, nullptr, false);
  }

  AgentSandbox sandbox_;
};

// Regression (issue 14 item 1): the second POST answered 202 delivered and the file moved to
// outbox/sent/, while the recipient only ever got the first document.
TEST_F(AgentHardeningTest, ADifferentDocumentUnderAUsedIdIsRefusedDuplicate) {
  StartAgents({kSchool, kSocial});
  const json first = ConcernReport("dup-1", kSocial, "Första texten.");
  int status = 0;
  EXPECT_EQ(PostCode(kSchool, first, &status), "accepted");
  EXPECT_EQ(status, 202);
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "dup-1", "delivered", seconds(30)));

  // The same document again, differently formatted: a resend, not a new message.
  HttpResponse resend = sandbox_.Post(kSchool, first.dump(2));
  EXPECT_EQ(resend.status, 202) << resend.body;
  EXPECT_EQ(json::parse(resend.body, nullptr, false).value("status", ""), "delivered");

  const json second = ConcernReport("dup-1", kSocial, "En annan text.");
  EXPECT_EQ(PostCode(kSchool, second, &status), "DUPLICATE");
  EXPECT_EQ(status, 409);

  ASSERT_TRUE(sandbox_.Drop(kSchool, "other.json", second.dump()));
  json error = RejectedError(kSchool, "other.json");
  EXPECT_EQ(error.value("code", ""), "DUPLICATE") << error.dump();
  EXPECT_EQ(error.value("message_id", ""), "dup-1") << error.dump();
  EXPECT_TRUE(ListNames(sandbox_.agent(kSchool).outbox + "/sent").empty());

  // The recipient has the first document, once.
  std::string text;
  ASSERT_TRUE(ReadWholeFile(sandbox_.agent(kSocial).inbox + "/dup-1.json", &text));
  EXPECT_EQ(json::parse(text)["body"]["description"], "Första texten.");
  EXPECT_EQ(sandbox_.Status(kSchool, "dup-1"), "delivered");
}

// Regression (issue 14 item 2): after CONSENT_REQUIRED, granting the consent and handing the
// same document over again returned the old refusal, over HTTP and as a file.
TEST_F(AgentHardeningTest, ARefusedIdIsTriedAgainOnceTheCauseIsFixed) {
  StartAgents({kSchool, kSocial});
  const json request = SupportRequest("retry-1", "c-retry", kSocial);
  const json dropped = SupportRequest("retry-2", "c-retry", kSocial);
  int status = 0;
  EXPECT_EQ(PostCode(kSchool, request, &status), "CONSENT_REQUIRED");
  EXPECT_EQ(status, 422);
  ASSERT_TRUE(sandbox_.Drop(kSchool, "request.json", dropped.dump()));
  EXPECT_EQ(RejectedError(kSchool, "request.json").value("code", ""), "CONSENT_REQUIRED");

  EXPECT_EQ(PostCode(kSchool, ConsentGranted("cg-retry", "c-retry", {kSchool, kSocial}, kSocial),
                     &status),
            "accepted");

  EXPECT_EQ(PostCode(kSchool, request, &status), "accepted");
  EXPECT_EQ(status, 202);
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "retry-1", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool);

  // The same file, same name and content, dropped again.
  ASSERT_TRUE(sandbox_.Drop(kSchool, "request.json", dropped.dump()));
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "retry-2", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return ListNames(sandbox_.agent(kSchool).outbox + "/sent") ==
               std::vector<std::string>{"request.json"};
      },
      seconds(30)));
  std::vector<std::string> inbox = sandbox_.InboxMessages(kSocial);
  EXPECT_EQ(inbox, (std::vector<std::string>{"cg-retry.json", "retry-1.json", "retry-2.json"}));
}

json Revocation(const std::string& message_id, const std::string& consent_id,
                const std::string& to) {
  return {{"message_id", message_id},
          {"type", "consent_revoked"},
          {"to", {to}},
          {"subject", {{"personnummer", kChildNumber}}},
          {"consent_id", consent_id},
          {"body", {{"consent_id", consent_id}, {"reason", "Vårdnadshavaren återkallade."}}}};
}

// Regression (issue 14 item 11): a grant already expired and a second revocation were accepted
// and routed.
TEST_F(AgentHardeningTest, AnExpiredGrantAndASecondRevocationAreRefusedAtTheSender) {
  StartAgents({kSchool, kSocial});
  json expired = ConsentGranted("cg-old", "c-old", {kSchool, kSocial}, kSocial);
  expired["body"]["valid_until"] = "2021-01-01T00:00:00Z";
  int status = 0;
  EXPECT_EQ(PostCode(kSchool, expired, &status), "CONSENT_EXPIRED");
  EXPECT_EQ(status, 422);
  EXPECT_EQ(sandbox_.Status(kSchool, "cg-old"), "");

  EXPECT_EQ(
      PostCode(kSchool, ConsentGranted("cg-live", "c-live", {kSchool, kSocial}, kSocial), &status),
      "accepted");
  EXPECT_EQ(PostCode(kSchool, Revocation("rv-1", "c-live", kSocial), &status), "accepted");
  // The same revocation again is a resend and keeps its status.
  EXPECT_NE(PostCode(kSchool, Revocation("rv-1", "c-live", kSocial), &status), "CONSENT_REVOKED");
  EXPECT_EQ(status, 202);
  EXPECT_EQ(PostCode(kSchool, Revocation("rv-2", "c-live", kSocial), &status), "CONSENT_REVOKED");
  EXPECT_EQ(status, 422);
  EXPECT_EQ(sandbox_.Status(kSchool, "rv-2"), "");
}

// Whether any file under FOLDER (recursively) holds NEEDLE's bytes.
bool AnyFileHolds(const std::string& folder, const std::string& needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    std::string content;
    if (entry.is_regular_file() && ReadWholeFile(entry.path().string(), &content) &&
        content.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Regression (issue 14 item 15): the journal kept outbox file names (s/ keys and the records'
// "files"), which integrators fill with names and numbers. A file pending over a restart of the
// agent is still moved once it is accepted: the names are kept in memory and found again by the
// first scan.
TEST_F(AgentHardeningTest, TheJournalKeepsNoOutboxFileNames) {
  StartAgents({kSchool});
  sandbox_.StopBroker();
  const std::string name = "Anna Andersson 191212121212.json";
  ASSERT_TRUE(sandbox_.Drop(kSchool, name, ConcernReport("names-1", kSocial).dump()));
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "names-1", "pending", seconds(30)));
  EXPECT_EQ(sandbox_.StopAgent(kSchool), 0);
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return ListNames(sandbox_.agent(kSchool).outbox + "/sent") ==
               std::vector<std::string>{name};
      },
      seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_EQ(sandbox_.StopAgent(kSchool), 0);
  const std::string journal =
      std::filesystem::path(sandbox_.agent(kSchool).config).parent_path() / "data" / "journal";
  ASSERT_TRUE(std::filesystem::is_directory(journal)) << journal;
  EXPECT_FALSE(AnyFileHolds(journal, "Andersson"));
  EXPECT_FALSE(AnyFileHolds(journal, "191212121212"));
}

// Inserts LINE at the top of the [agent] table of agent ID's config.
void AddAgentKey(const AgentSandbox& sandbox, const std::string& id, const std::string& line) {
  std::string text;
  ASSERT_TRUE(ReadWholeFile(sandbox.agent(id).config, &text));
  size_t table = text.find("[agent]\n");
  ASSERT_NE(table, std::string::npos);
  text.insert(table + 8, line + "\n");
  std::ofstream(sandbox.agent(id).config, std::ios::trunc) << text;
}

// Regression (issue 14 item 13): a rescan read a half-written file that was still open and
// rejected it; a folder named dir.json stayed in the outbox for ever, with no log line.
TEST_F(AgentHardeningTest, OnlyClosedFilesAreReadAndAFolderIsMovedAside) {
  AddAgentKey(sandbox_, kSchool, "rescan_seconds = 1");
  StartAgents({kSchool, kSocial});
  const AgentInfo& school = sandbox_.agent(kSchool);
  const std::string text = ConcernReport("slow-1", kSocial).dump();
  {
    std::ofstream slow(school.outbox + "/slow.json", std::ios::binary);
    slow << text.substr(0, text.size() / 2) << std::flush;
    // Three rescans pass while the writer holds the file open, half written: nothing is read.
    std::this_thread::sleep_for(seconds(3));
    EXPECT_TRUE(ListNames(school.outbox + "/rejected").empty()) << sandbox_.LogOf(kSchool);
    EXPECT_EQ(sandbox_.Status(kSchool, "slow-1"), "");
    slow << text.substr(text.size() / 2);
  }
  EXPECT_TRUE(sandbox_.WaitForStatus(kSchool, "slow-1", "delivered", seconds(30)))
      << sandbox_.LogOf(kSchool);
  EXPECT_TRUE(WaitUntil(
      [&] { return ListNames(school.outbox + "/sent") == std::vector<std::string>{"slow.json"}; },
      seconds(30)));

  ASSERT_TRUE(std::filesystem::create_directory(school.outbox + "/dir.json"));
  json error = RejectedError(kSchool, "dir.json");
  EXPECT_EQ(error.value("code", ""), "SCHEMA_INVALID") << error.dump();
  EXPECT_NE(error.value("message", "").find("folder"), std::string::npos) << error.dump();
  EXPECT_TRUE(std::filesystem::is_directory(school.outbox + "/rejected/dir.json"));
  EXPECT_FALSE(std::filesystem::exists(school.outbox + "/dir.json"));
  EXPECT_NE(sandbox_.LogOf(kSchool).find("event=outbox_rejected"), std::string::npos);
}

// Regression (issue 14 item 10): the personnummer travelled in a GET query string, where
// proxies and access logs keep it.
TEST_F(AgentHardeningTest, ConsentsAreSearchedByPersonnummerOnlyInAPostBody) {
  StartAgents({kSchool, kSocial});
  int status = 0;
  EXPECT_EQ(
      PostCode(kSchool, ConsentGranted("cg-find", "c-find", {kSchool, kSocial}, kSocial), &status),
      "accepted");
  const std::string http = sandbox_.agent(kSchool).http;
  HttpResponse in_url = HttpRequest(http, "GET", "/v1/consents?subject-pnr=191212121212");
  EXPECT_EQ(in_url.status, 400) << in_url.body;
  EXPECT_NE(in_url.body.find("POST /v1/consents/search"), std::string::npos) << in_url.body;

  HttpResponse found =
      HttpRequest(http, "POST", "/v1/consents/search", R"({"subject_pnr": "19121212-1212"})");
  ASSERT_EQ(found.status, 200) << found.body;
  json consents = json::parse(found.body, nullptr, false)["consents"];
  ASSERT_EQ(consents.size(), 1u) << found.body;
  EXPECT_EQ(consents[0].value("consent_id", ""), "c-find") << found.body;
  EXPECT_EQ(found.body.find("1212-1212"), std::string::npos);

  // By pseudonym, a GET is fine: the same consent. (The recipient's inbox copy names it.)
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "cg-find", "delivered", seconds(30)));
  std::string delivered;
  ASSERT_TRUE(ReadWholeFile(sandbox_.agent(kSocial).inbox + "/cg-find.json", &delivered));
  const std::string pseudonym = json::parse(delivered)["subject"].value("pseudonym", "");
  ASSERT_EQ(pseudonym.size(), 64u) << delivered;
  HttpResponse by_pseudonym = HttpRequest(http, "GET", "/v1/consents?subject=" + pseudonym);
  ASSERT_EQ(by_pseudonym.status, 200) << by_pseudonym.body;
  EXPECT_NE(by_pseudonym.body.find("c-find"), std::string::npos);

  EXPECT_EQ(HttpRequest(http, "POST", "/v1/consents/search", "{}").status, 400);
  EXPECT_EQ(HttpRequest(http, "POST", "/v1/consents/search", R"({"subject_pnr": "19121212-1213"})")
                .status,
            400);
  EXPECT_EQ(HttpRequest(http, "GET", "/v1/consents").status, 400);
}

// Regression (issue 14 item 16): a second agent on the same data_dir printed RocksDB's raw lock
// error. Now one line names the cause and the second process exits non-zero, while the first
// keeps serving; once the first stopped, an agent starts on that data_dir again.
TEST_F(AgentHardeningTest, ASecondAgentOnTheSameDataDirSaysSoAndExits) {
  StartAgents({kSchool});
  std::string output;
  int code = RunProgram(std::string(STAFETT_BIN_DIR) + "/agents/stafett-agent",
                        {"--config", sandbox_.agent(kSchool).config}, &output, 30000);
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(code, -1) << "the second agent did not exit: " << output;
  EXPECT_NE(output.find("another agent is running with this data_dir"), std::string::npos)
      << output;
  EXPECT_EQ(output.find("LOCK"), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
  EXPECT_EQ(HttpRequest(sandbox_.agent(kSchool).http, "GET", "/healthz").status, 200);
  EXPECT_EQ(sandbox_.StopAgent(kSchool), 0);
  EXPECT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
}

// Regression (issue 14 item 9, inbox part): an inbox file carried nothing its recipient could
// verify. Now it holds the signed header, and verify-inbox checks it offline.
TEST_F(AgentHardeningTest, VerifyInboxPassesOnADeliveredFileAndFailsOnATamperedOne) {
  StartAgents({kSchool, kSocial});
  int status = 0;
  EXPECT_EQ(PostCode(kSchool, ConcernReport("signed-1", kSocial), &status), "accepted");
  ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, "signed-1", "delivered", seconds(30)));
  const std::string file = sandbox_.agent(kSocial).inbox + "/signed-1.json";
  std::string text;
  ASSERT_TRUE(ReadWholeFile(file, &text));
  json document = json::parse(text);
  ASSERT_TRUE(document.contains("stafett")) << text;
  EXPECT_TRUE(document["stafett"]["seq"].is_number()) << text;
  std::string output;
  EXPECT_EQ(RunStafett({"verify-inbox", file, "--config", sandbox_.agent(kSocial).config}, &output),
            0)
      << output;
  EXPECT_NE(output.find("ok: signed-1"), std::string::npos) << output;

  const std::string tampered = sandbox_.dir() + "/tampered.json";
  document["from"] = "region.health";
  std::ofstream(tampered) << document.dump(2);
  EXPECT_NE(
      RunStafett({"verify-inbox", tampered, "--config", sandbox_.agent(kSocial).config}, &output),
      0);
  EXPECT_NE(output.find("from"), std::string::npos) << output;

  document["from"] = kSchool;
  std::string header = *core::FromBase64(document["stafett"].value("header", ""));
  header[header.find("signed-1")] = 'S';
  document["stafett"]["header"] = core::ToBase64(header);
  std::ofstream(tampered, std::ios::trunc) << document.dump(2);
  EXPECT_NE(
      RunStafett({"verify-inbox", tampered, "--config", sandbox_.agent(kSocial).config}, &output),
      0);
  EXPECT_EQ(output.find("ok:"), std::string::npos) << output;
}

}  // namespace
}  // namespace stafett::testing
