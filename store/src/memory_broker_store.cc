// The in-memory BrokerStore.
#include "stafett/store/memory_broker_store.h"

#include <vector>

namespace stafett::store {
namespace {

class MemoryBrokerStore final : public BrokerStore {
 public:
  explicit MemoryBrokerStore(std::shared_ptr<MemoryBrokerData> data) : data_(std::move(data)) {}

  core::Status Open() { return InitialiseFormat("in-memory store"); }

  core::Status Commit(const BrokerTransaction& transaction) override {
    if (!transaction.status().ok()) return transaction.status();
    std::lock_guard<std::mutex> lock(data_->mutex);
    for (const BrokerTransaction::Operation& operation : transaction.operations()) {
      auto& space = data_->spaces[static_cast<size_t>(operation.space)];
      if (operation.value) {
        space[operation.key] = *operation.value;
      } else {
        space.erase(operation.key);
      }
    }
    return core::Status::Ok();
  }

  core::Status Checkpoint(const std::filesystem::path&) const override {
    return core::Status(core::Code::kUnavailable, "an in-memory store has no files to copy");
  }
  uint64_t FreeBytes() const override { return UINT64_MAX; }
  std::array<uint64_t, kSpaceCount> SpaceBytes() const override {
    std::lock_guard<std::mutex> lock(data_->mutex);
    std::array<uint64_t, kSpaceCount> bytes{};
    for (size_t space = 0; space < kSpaceCount; ++space) {
      for (const auto& [key, value] : data_->spaces[space])
        bytes[space] += key.size() + value.size();
    }
    return bytes;
  }
  core::Status Resume() override { return core::Status::Ok(); }
  core::Status Flush() override { return core::Status::Ok(); }

 protected:
  core::Result<std::optional<std::string>> Read(Space space, std::string_view key) const override {
    std::lock_guard<std::mutex> lock(data_->mutex);
    const auto& entries = data_->spaces[static_cast<size_t>(space)];
    auto found = entries.find(std::string(key));
    if (found == entries.end()) return std::optional<std::string>();
    return std::optional<std::string>(found->second);
  }

  // Visits in chunks, without the lock held, so that a visitor may read the store.
  core::Status Scan(Space space, std::string_view lower, std::string_view upper,
                    const EntryVisitor& visit) const override {
    constexpr size_t kChunk = 64;
    std::string from(lower);
    bool inclusive = true;
    while (true) {
      std::vector<std::pair<std::string, std::string>> chunk;
      {
        std::lock_guard<std::mutex> lock(data_->mutex);
        const auto& entries = data_->spaces[static_cast<size_t>(space)];
        auto it = inclusive ? entries.lower_bound(from) : entries.upper_bound(from);
        for (; it != entries.end() && chunk.size() < kChunk; ++it) {
          if (!upper.empty() && it->first >= upper) break;
          chunk.emplace_back(it->first, it->second);
        }
      }
      for (const auto& [key, value] : chunk) {
        if (!visit(key, value)) return core::Status::Ok();
      }
      if (chunk.size() < kChunk) return core::Status::Ok();
      from = chunk.back().first;
      inclusive = false;
    }
  }

  core::Result<std::optional<std::string>> LastKey(Space space, std::string_view lower,
                                                   std::string_view upper) const override {
    std::lock_guard<std::mutex> lock(data_->mutex);
    const auto& entries = data_->spaces[static_cast<size_t>(space)];
    auto it = upper.empty() ? entries.end() : entries.lower_bound(std::string(upper));
    if (it == entries.begin()) return std::optional<std::string>();
    --it;
    if (it->first < lower) return std::optional<std::string>();
    return std::optional<std::string>(it->first);
  }

 private:
  std::shared_ptr<MemoryBrokerData> data_;
};

}  // namespace

core::Result<std::unique_ptr<BrokerStore>> OpenMemoryBrokerStore(
    std::shared_ptr<MemoryBrokerData> data) {
  if (!data) data = std::make_shared<MemoryBrokerData>();
  auto store = std::make_unique<MemoryBrokerStore>(std::move(data));
  STAFETT_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<BrokerStore>(std::move(store));
}

}  // namespace stafett::store
