// The in-memory AgentJournal.
#include "stafett/store/memory_agent_journal.h"

#include <utility>
#include <vector>

namespace stafett::store {
namespace {

class MemoryAgentJournal final : public AgentJournal {
 public:
  explicit MemoryAgentJournal(std::shared_ptr<MemoryJournalData> data) : data_(std::move(data)) {}

  core::Status Open() { return Initialise("in-memory journal"); }
  core::Status Resume() override { return core::Status::Ok(); }

 protected:
  core::Result<std::optional<std::string>> Read(std::string_view key) override {
    std::lock_guard<std::mutex> lock(data_->mutex);
    auto found = data_->entries.find(key);
    if (found == data_->entries.end()) return std::optional<std::string>();
    return std::optional<std::string>(found->second);
  }

  core::Status Apply(const std::vector<Write>& writes) override {
    std::lock_guard<std::mutex> lock(data_->mutex);
    for (const Write& write : writes) {
      if (write.value) {
        data_->entries.insert_or_assign(write.key, *write.value);
      } else {
        data_->entries.erase(write.key);
      }
    }
    return core::Status::Ok();
  }

  core::Status Scan(std::string_view prefix, const EntryVisitor& visit) override {
    // A copy, so that the visitor runs without the lock.
    std::vector<std::pair<std::string, std::string>> entries;
    {
      std::lock_guard<std::mutex> lock(data_->mutex);
      for (auto it = data_->entries.lower_bound(prefix);
           it != data_->entries.end() && it->first.starts_with(prefix); ++it) {
        entries.emplace_back(it->first, it->second);
      }
    }
    for (const auto& [key, value] : entries) {
      if (!visit(key, value)) break;
    }
    return core::Status::Ok();
  }

 private:
  std::shared_ptr<MemoryJournalData> data_;
};

}  // namespace

core::Result<std::unique_ptr<AgentJournal>> OpenMemoryAgentJournal(
    std::shared_ptr<MemoryJournalData> data) {
  if (!data) data = std::make_shared<MemoryJournalData>();
  auto journal = std::make_unique<MemoryAgentJournal>(std::move(data));
  STAFETT_RETURN_IF_ERROR(journal->Open());
  return std::unique_ptr<AgentJournal>(std::move(journal));
}

}  // namespace stafett::store
