// The conformance suite's store harnesses.
#include "store/support/store_harness.h"

#include "stafett/store/fault_injection_file_system.h"
#include "stafett/store/memory_broker_store.h"
#include "stafett/store/rocksdb_broker_store.h"

namespace stafett::store::testing {
namespace {

class RocksDbHarness final : public StoreHarness {
 public:
  explicit RocksDbHarness(std::string dir) : dir_(std::move(dir)) {}
  core::Result<std::unique_ptr<BrokerStore>> Open() override {
    return OpenRocksDbBrokerStore(dir_ + "/db");
  }

 private:
  std::string dir_;
};

class MemoryHarness final : public StoreHarness {
 public:
  core::Result<std::unique_ptr<BrokerStore>> Open() override {
    return OpenMemoryBrokerStore(data_);
  }

 private:
  std::shared_ptr<MemoryBrokerData> data_ = std::make_shared<MemoryBrokerData>();
};

// With the power on it must behave exactly as the RocksDB store; the power-loss test cuts it.
class FaultInjectingHarness final : public StoreHarness {
 public:
  explicit FaultInjectingHarness(std::string dir) : dir_(std::move(dir)) {}
  core::Result<std::unique_ptr<BrokerStore>> Open() override {
    return OpenFaultInjectingBrokerStore(dir_ + "/db", file_system_);
  }

 private:
  std::string dir_;
  std::shared_ptr<FaultInjectionFileSystem> file_system_ =
      std::make_shared<FaultInjectionFileSystem>();
};

}  // namespace

const std::vector<StoreImplementation>& AllStoreHarnesses() {
  static const std::vector<StoreImplementation> kAll = {
      {"RocksDb", [](const std::string& dir) { return std::make_unique<RocksDbHarness>(dir); }},
      {"InMemory", [](const std::string&) { return std::make_unique<MemoryHarness>(); }},
      {"FaultInjecting",
       [](const std::string& dir) { return std::make_unique<FaultInjectingHarness>(dir); }},
  };
  return kAll;
}

}  // namespace stafett::store::testing
