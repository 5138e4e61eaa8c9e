// Corruption under a real broker process: damage injected into its real RocksDB while it is
// stopped. Issue 14, item 3: one flipped byte in the write-ahead log was "recovered" by starting
// with half the audit records; now the broker refuses to start with one CORRUPTION line naming
// the file, and with the byte restored it starts with every record. Item 4: a damaged message
// state made `track` say "refused" and the broker log nothing; now the answer is CORRUPTION,
// logged and counted in stafett_storage_corruption_total.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "integration/support/agent_sandbox.h"
#include "stafett/store/rocksdb_broker_store.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

constexpr char kSchool[] = "flen.school";
constexpr char kSocial[] = "flen.social";
constexpr int kMessages = 6;

std::string ReadBytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The audit size in the last line of LOG with EVENT (event=broker_started / broker_stopping).
long AuditSizeAt(const std::string& log, const std::string& event) {
  std::regex pattern("event=" + event + "[^\\n]*audit_size=([0-9]+)");
  long size = -1;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    size = std::stol((*it)[1]);
  }
  return size;
}

class StorageCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sandbox_.ok()) << sandbox_.error();
    data_ = sandbox_.dir() + "/county/broker/data";
    ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
    ASSERT_TRUE(sandbox_.StartAgent(kSchool)) << sandbox_.LogOf(kSchool);
    ASSERT_TRUE(sandbox_.StartAgent(kSocial)) << sandbox_.LogOf(kSocial);
    for (const std::string& id : sandbox_.PostConcernReports(kSchool, kSocial, "kept", kMessages)) {
      ASSERT_TRUE(sandbox_.WaitForStatus(kSchool, id, "delivered", seconds(30))) << id;
    }
  }

  // Runs the broker to completion (it is expected to refuse to start): its exit status.
  int RunBrokerOnce(std::string* output) {
    return RunProgram(std::string(STAFETT_BIN_DIR) + "/broker/stafett-broker",
                      {"--config", sandbox_.broker_config()}, output, 30000);
  }

  std::filesystem::path LargestWal() const {
    std::filesystem::path largest;
    uintmax_t size = 0;
    for (const auto& entry : std::filesystem::directory_iterator(data_)) {
      if (entry.path().extension() == ".log" && entry.file_size() > size) {
        largest = entry.path();
        size = entry.file_size();
      }
    }
    return largest;
  }

  AgentSandbox sandbox_;
  std::string data_;
};

TEST_F(StorageCorruptionTest, AFlippedWalByteStopsTheBrokerWithOneLineNamingTheFile) {
  sandbox_.StopBroker();
  std::string log = sandbox_.LogOf("broker");
  long acknowledged = AuditSizeAt(log, "broker_stopping");
  ASSERT_GE(acknowledged, 2 * kMessages) << log;
  std::filesystem::path wal = LargestWal();
  ASSERT_FALSE(wal.empty());
  std::string bytes = ReadBytes(wal);
  ASSERT_GT(bytes.size(), 4096u) << "the acknowledged records are in the WAL";
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x20;
  WriteBytes(wal, flipped);

  std::string output;
  int code = RunBrokerOnce(&output);
  EXPECT_NE(code, 0) << output;
  EXPECT_EQ(output.find("event=broker_started"), std::string::npos) << output;
  std::string last_line = output.substr(output.rfind('\n', output.size() - 2) + 1);
  EXPECT_EQ(last_line.rfind("stafett-broker: CORRUPTION: ", 0), 0u) << output;
  EXPECT_NE(last_line.find(wal.string()), std::string::npos) << output;
  EXPECT_NE(last_line.find("restore data_dir from a backup"), std::string::npos) << output;

  // Nothing was given up by the refusal: with the byte restored, every record is there.
  WriteBytes(wal, bytes);
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  EXPECT_EQ(AuditSizeAt(sandbox_.LogOf("broker"), "broker_started"), acknowledged);
}

TEST_F(StorageCorruptionTest, ADamagedMessageStateIsReportedAsCorruptionNotAsRefused) {
  sandbox_.StopBroker();
  {
    auto store = store::OpenRocksDbBrokerStore(data_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store::BrokerTransaction transaction;
    transaction.PutRaw(store::Space::kMessages, "kept-0", "\x01 not a state");
    ASSERT_TRUE((*store)->Commit(transaction).ok());
  }
  ASSERT_TRUE(sandbox_.StartBroker()) << sandbox_.LogOf("broker");
  std::string operator_config = sandbox_.dir() + "/county/operator/operator.toml";
  std::string output;
  EXPECT_NE(RunStafett({"track", "kept-0", "--config", operator_config}, &output), 0) << output;
  EXPECT_NE(output.find("CORRUPTION"), std::string::npos) << output;
  EXPECT_EQ(output.find("refused"), std::string::npos) << output;
  EXPECT_EQ(RunStafett({"track", "kept-1", "--config", operator_config}, &output), 0) << output;
  EXPECT_NE(sandbox_.LogOf("broker").find("event=storage_corruption space=messages"),
            std::string::npos)
      << sandbox_.LogOf("broker");
  EXPECT_TRUE(WaitUntil(
      [&] {
        HttpResponse metrics = HttpRequest(sandbox_.broker_http(), "GET", "/metrics", "", {}, 2000);
        return metrics.body.find("stafett_storage_corruption_total 1") != std::string::npos;
      },
      seconds(10)));
}

}  // namespace
}  // namespace stafett::testing
