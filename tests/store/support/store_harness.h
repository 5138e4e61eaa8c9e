// One harness per BrokerStore implementation, for the conformance suite: each opens (and
// reopens, over the same data) a store of its kind. A new implementation joins the suite with
// one more entry in AllStoreHarnesses().
// Thread-safety: owned by one test.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "stafett/store/broker_store.h"

namespace stafett::store::testing {

class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // A store over this harness's data: the first call creates it, later ones reopen it (close
  // the previous store first).
  virtual core::Result<std::unique_ptr<BrokerStore>> Open() = 0;
};

struct StoreImplementation {
  std::string name;  // the gtest parameter name: RocksDb, InMemory, FaultInjecting
  // A harness whose data lives under DIR (a fresh, empty folder) or in memory.
  std::function<std::unique_ptr<StoreHarness>(const std::string& dir)> make;
};

const std::vector<StoreImplementation>& AllStoreHarnesses();

// For gtest: a parameter prints as its name.
inline void PrintTo(const StoreImplementation& implementation, std::ostream* out) {
  *out << implementation.name;
}

}  // namespace stafett::store::testing
