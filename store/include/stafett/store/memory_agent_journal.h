// The in-memory AgentJournal: one ordered map of the journal's keys. For tests. Its data lives in
// a MemoryJournalData that outlives the journal, so that "reopening" (a new journal over the
// same data) sees every write — there is no disk, so nothing survives the process.
// Thread-safety: as AgentJournal; a mutex guards the data.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "stafett/store/agent_journal.h"

namespace stafett::store {

struct MemoryJournalData {
  std::mutex mutex;
  std::map<std::string, std::string, std::less<>> entries;
};

// Opens a journal over DATA (a new, empty one if null), checking its format as every journal
// does.
core::Result<std::unique_ptr<AgentJournal>> OpenMemoryAgentJournal(
    std::shared_ptr<MemoryJournalData> data = nullptr);

}  // namespace stafett::store
