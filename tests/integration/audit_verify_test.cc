// Audit end to end: real broker and agents on loopback, the auditor's CLI. `stafett audit
// verify` passes on an honest log, and fails — naming the position — after a stored record
// is altered in RocksDB behind the broker's back. Trails by personnummer and by endpoint work,
// are themselves audited, and an operator may not read them.
#include <gtest/gtest.h>

#include "integration/support/agent_sandbox.h"
#include "store.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";

TEST(AuditVerifyTest, VerifyHoldsOnAnHonestLogAndNamesTheAlteredPosition) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  for (int i = 0; i < 4; ++i) {
    std::string id = "audit-" + std::to_string(i);
    ASSERT_EQ(sandbox.Post(kSchool, ConcernReport(id, kSocial)).status, 202);
    ASSERT_TRUE(sandbox.WaitForStatus(kSchool, id, "delivered", seconds(30)));
  }
  std::string auditor = sandbox.dir() + "/county/auditor/auditor.toml";
  std::string operator_config = sandbox.dir() + "/county/operator/operator.toml";
  std::string output;
  // The broker signs a head within a few seconds of growth; poll until one covers the log.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return RunStafett({"audit", "verify", "--config", auditor}, &output) == 0;
      },
      seconds(30)))
      << output;
  EXPECT_NE(output.find("audit log verified"), std::string::npos) << output;

  ASSERT_EQ(RunStafett({"audit", "trail", "--config", auditor, "--subject-pnr", kChildNumber,
                        "--format", "json"},
                       &output),
            0)
      << output;
  EXPECT_NE(output.find("\"event\":\"accepted\""), std::string::npos) << output;
  EXPECT_NE(output.find("\"event\":\"delivered\""), std::string::npos) << output;
  EXPECT_EQ(output.find(kChildNumber), std::string::npos) << "the trail carries pseudonyms only";
  ASSERT_EQ(
      RunStafett({"audit", "trail", "--config", auditor, "--endpoint", kSocial, "--format", "csv"},
                 &output),
      0);
  EXPECT_EQ(output.rfind("seq,time,event", 0), 0u) << output;
  ASSERT_EQ(
      RunStafett({"audit", "trail", "--config", auditor, "--subject-pnr", kChildNumber}, &output),
      0);
  EXPECT_NE(output.find("\"event\":\"audit_query\""), std::string::npos)
      << "the earlier trail query about this child is itself in the child's trail";
  EXPECT_NE(output.find("\"actor\":\"auditor\""), std::string::npos) << output;
  EXPECT_NE(
      RunStafett({"audit", "trail", "--config", operator_config, "--endpoint", kSchool}, &output),
      0);

  // Export: every line carries its record, leaf, proof and root; the last the signed head.
  ASSERT_EQ(RunStafett({"audit", "export", "--config", auditor}, &output), 0);
  EXPECT_NE(output.find("\"signed_head\""), std::string::npos);
  EXPECT_NE(output.find("\"proof\""), std::string::npos);

  sandbox.StopBroker();
  {
    // Behind the broker's back: change one character of the record at position 3.
    auto store =
        broker::Store::Open(sandbox.dir() + "/county/broker/data", broker::Store::Options{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::string key = broker::EncodeBigEndian64(3);
    auto record = (*store)->Get(broker::Family::kAudit, key);
    ASSERT_TRUE(record.ok() && record->has_value());
    std::string altered = **record;
    size_t at = altered.find("flen.school");
    ASSERT_NE(at, std::string::npos) << altered;
    altered.replace(at, 11, "flen.social");
    rocksdb::WriteBatch batch;
    batch.Put((*store)->Handle(broker::Family::kAudit), key, altered);
    ASSERT_TRUE((*store)->Commit(&batch).ok());
  }
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  int code = -1;
  EXPECT_TRUE(WaitUntil(
      [&] {
        code = RunStafett({"audit", "verify", "--config", auditor}, &output);
        return output.find("UNAVAILABLE") == std::string::npos;  // until the broker answers
      },
      seconds(30)));
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(output.find("position 3"), std::string::npos) << output;
}

}  // namespace
}  // namespace stafett::testing
