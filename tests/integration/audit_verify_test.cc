// Audit end to end: real broker and agents on loopback, the auditor's CLI. `stafett audit
// verify` passes on an honest log, and fails — naming the position — after a stored record
// is altered in RocksDB behind the broker's back. Trails by personnummer and by endpoint work,
// are themselves audited, and an operator may not read them.
#include <gtest/gtest.h>

#include "audit_log.h"
#include "integration/support/agent_sandbox.h"
#include "stafett/core/crypto.h"
#include "stafett/core/records/key_encoding.h"
#include "stafett/store/rocksdb_broker_store.h"

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
    auto store = store::OpenRocksDbBrokerStore(sandbox.dir() + "/county/broker/data");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto record = (*store)->GetAuditLeaf(3);
    ASSERT_TRUE(record.ok() && record->has_value());
    std::string altered = **record;
    size_t at = altered.find("flen.school");
    ASSERT_NE(at, std::string::npos) << altered;
    altered.replace(at, 11, "flen.social");
    store::BrokerTransaction transaction;
    transaction.AppendAuditLeaf(3, altered);
    ASSERT_TRUE((*store)->Commit(transaction).ok());
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

// Item 5 of issue 14: the trail index is not covered by the Merkle log, so deleting index
// entries used to make `audit trail` leave records out with exit 0 while `audit verify` passed.
// Now the trail is a back-linked chain in the log whose end the signed head commits to: the
// same deletion makes `audit trail` fail, naming the gap's position.
TEST(AuditVerifyTest, TrailWithDeletedIndexEntriesFailsNamingTheGap) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  ASSERT_TRUE(sandbox.StartAgent(kSchool)) << sandbox.LogOf(kSchool);
  ASSERT_TRUE(sandbox.StartAgent(kSocial)) << sandbox.LogOf(kSocial);
  for (int i = 0; i < 3; ++i) {
    std::string id = "gap-" + std::to_string(i);
    ASSERT_EQ(sandbox.Post(kSchool, ConcernReport(id, kSocial)).status, 202);
    ASSERT_TRUE(sandbox.WaitForStatus(kSchool, id, "delivered", seconds(30)));
  }
  std::string auditor = sandbox.dir() + "/county/auditor/auditor.toml";
  std::string output;
  // Untouched: the trail is whole and checked (accepted and delivered, three each).
  ASSERT_EQ(
      RunStafett({"audit", "trail", "--config", auditor, "--subject-pnr", kChildNumber}, &output),
      0)
      << output;
  EXPECT_NE(output.find("\"prev_subject_seq\":null"), std::string::npos) << output;
  ASSERT_EQ(RunStafett({"audit", "trail", "--config", auditor, "--endpoint", kSocial}, &output), 0)
      << output;
  EXPECT_NE(output.find("gap-2"), std::string::npos) << output;

  sandbox.StopBroker();
  std::vector<uint64_t> deleted;
  {
    // Behind the broker's back: delete two of the child's trail index entries (not the last).
    auto store = store::OpenRocksDbBrokerStore(sandbox.dir() + "/county/broker/data");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // The child's trail entries: every subject entry (there is one child), in seq order.
    std::vector<std::string> keys;
    std::string prefix("s\0", 2);
    ASSERT_TRUE((*store)
                    ->ScanSpace(store::Space::kTrail,
                                [&](std::string_view key, std::string_view) {
                                  if (key.starts_with(prefix)) keys.emplace_back(key);
                                  return true;
                                })
                    .ok());
    ASSERT_GE(keys.size(), 6u);
    store::BrokerTransaction transaction;
    for (size_t i : {size_t{1}, size_t{2}}) {
      transaction.DeleteRaw(store::Space::kTrail, keys[i]);
      deleted.push_back(*core::ReadBigEndian64(keys[i].substr(keys[i].size() - 8)));
    }
    std::optional<uint64_t> endpoint_first;
    ASSERT_TRUE((*store)
                    ->ScanTrailFrom(core::TrailKind::kEndpoint, kSocial, 0,
                                    [&](uint64_t seq) {
                                      endpoint_first = seq;
                                      return false;
                                    })
                    .ok());
    ASSERT_TRUE(endpoint_first.has_value());
    transaction.DeleteTrailEntry(
        core::TrailEntry{core::TrailKind::kEndpoint, kSocial, *endpoint_first});
    deleted.push_back(*endpoint_first);
    ASSERT_TRUE((*store)->Commit(transaction).ok());
  }
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  int code = -1;
  EXPECT_TRUE(WaitUntil(
      [&] {
        code = RunStafett({"audit", "trail", "--config", auditor, "--subject-pnr", kChildNumber},
                          &output);
        return output.find("UNAVAILABLE") == std::string::npos;  // until the broker answers
      },
      seconds(30)));
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(output.find("FAILED"), std::string::npos) << output;
  // Walking back from the latest record, the first missing one is the later of the two.
  EXPECT_NE(output.find("gap at position " + std::to_string(deleted[1])), std::string::npos)
      << output;
  EXPECT_EQ(output.find("\"event\""), std::string::npos) << "no partial trail on stdout";
  code = RunStafett({"audit", "trail", "--config", auditor, "--endpoint", kSocial}, &output);
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(output.find("gap at position " + std::to_string(deleted[2])), std::string::npos)
      << output;
  // The log itself is intact: verify passes; only the index lost entries.
  EXPECT_EQ(RunStafett({"audit", "verify", "--config", auditor}, &output), 0) << output;
}

// A busy endpoint: a trail of more than one page (10,000 records) comes back whole, every page
// fetched, exit 0. The records are written straight into the broker's RocksDB with its own
// AuditLog (the broker stopped), which is how the broker writes them, only without the sockets.
TEST(AuditVerifyTest, TrailLongerThanAPageIsFetchedWhole) {
  AgentSandbox sandbox;
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  constexpr uint64_t kRecords = 10'050;
  {
    auto store = store::OpenRocksDbBrokerStore(sandbox.dir() + "/county/broker/data");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    core::EnsureSodiumInitialised();
    core::SigningKeyPair key = core::SigningKeyPair::Generate();
    auto audit = broker::AuditLog::Open(**store, key, "test");
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    core::Micros time = core::SystemClock::Instance().Now() - 3'600'000'000;
    for (uint64_t seq = 0; seq < kRecords;) {
      store::BrokerTransaction batch;
      for (int n = 0; n < 500 && seq < kRecords; ++n, ++seq) {
        broker::AuditRecord record{"accepted",
                                   "busy-" + std::to_string(seq),
                                   "concern_report",
                                   kSchool,
                                   {kSocial},
                                   "pseudonym-" + std::to_string(seq % 7),
                                   "",
                                   "",
                                   "",
                                   nullptr};
        (*audit)->Append(&batch, time + static_cast<core::Micros>(seq), record);
      }
      (*audit)->StageMap(&batch);
      ASSERT_TRUE((*store)->Commit(batch).ok());
      (*audit)->Mark();
    }
  }
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  std::string auditor = sandbox.dir() + "/county/auditor/auditor.toml";
  std::string output;
  ASSERT_EQ(
      RunStafett({"audit", "trail", "--config", auditor, "--endpoint", kSocial}, &output, 300000),
      0)
      << output.substr(0, 2000);
  size_t accepted = 0;
  for (size_t at = output.find("\"event\":\"accepted\""); at != std::string::npos;
       at = output.find("\"event\":\"accepted\"", at + 1)) {
    ++accepted;
  }
  EXPECT_EQ(accepted, kRecords) << "every page of the trail, not the first 10,000 records";
  EXPECT_NE(output.find("busy-10049"), std::string::npos);
}

}  // namespace
}  // namespace stafett::testing
