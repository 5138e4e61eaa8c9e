// The journal conformance suite's harnesses.
#include "store/support/journal_harness.h"

#include "stafett/store/memory_agent_journal.h"
#include "stafett/store/rocksdb_agent_journal.h"

namespace stafett::store::testing {
namespace {

class RocksDbHarness final : public JournalHarness {
 public:
  explicit RocksDbHarness(std::string dir) : dir_(std::move(dir)) {}
  core::Result<std::unique_ptr<AgentJournal>> Open() override {
    return OpenRocksDbAgentJournal(dir_ + "/journal");
  }

 private:
  std::string dir_;
};

class MemoryHarness final : public JournalHarness {
 public:
  core::Result<std::unique_ptr<AgentJournal>> Open() override {
    return OpenMemoryAgentJournal(data_);
  }

 private:
  std::shared_ptr<MemoryJournalData> data_ = std::make_shared<MemoryJournalData>();
};

// With the power on it must behave exactly as the RocksDB journal; the power-cut tests cut it.
class FaultInjectingHarness final : public JournalHarness {
 public:
  explicit FaultInjectingHarness(std::string dir) : dir_(std::move(dir)) {}
  core::Result<std::unique_ptr<AgentJournal>> Open() override {
    return OpenFaultInjectingAgentJournal(dir_ + "/journal", file_system_);
  }
  FaultInjectionFileSystem* faults() override { return file_system_.get(); }

 private:
  std::string dir_;
  std::shared_ptr<FaultInjectionFileSystem> file_system_ =
      std::make_shared<FaultInjectionFileSystem>();
};

}  // namespace

const std::vector<JournalImplementation>& AllJournalHarnesses() {
  static const std::vector<JournalImplementation> kAll = {
      {"RocksDb", [](const std::string& dir) { return std::make_unique<RocksDbHarness>(dir); }},
      {"InMemory", [](const std::string&) { return std::make_unique<MemoryHarness>(); }},
      {"FaultInjecting",
       [](const std::string& dir) { return std::make_unique<FaultInjectingHarness>(dir); }},
  };
  return kAll;
}

}  // namespace stafett::store::testing
