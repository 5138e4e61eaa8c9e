// The in-memory BrokerStore: one ordered map per key space. For tests, and as the reference
// the conformance suite holds the others to. Its data lives in a MemoryBrokerData that outlives
// the store, so that "reopening" (a new store over the same data) sees every committed
// transaction — there is no disk, so nothing is lost but also nothing survives the process.
// Thread-safety: as BrokerStore; a mutex guards the data.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "stafett/store/broker_store.h"

namespace stafett::store {

struct MemoryBrokerData {
  std::mutex mutex;
  std::map<std::string, std::string> spaces[kSpaceCount];
};

// Opens a store over DATA (a new, empty one if null), checking its format as every store does.
core::Result<std::unique_ptr<BrokerStore>> OpenMemoryBrokerStore(
    std::shared_ptr<MemoryBrokerData> data = nullptr);

}  // namespace stafett::store
