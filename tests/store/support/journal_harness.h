// One harness per AgentJournal implementation, for the journal conformance suite: each opens
// (and reopens, over the same data) a journal of its kind. A new implementation joins the suite
// with one more entry in AllJournalHarnesses().
// Thread-safety: owned by one test.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "stafett/store/agent_journal.h"
#include "stafett/store/fault_injection_file_system.h"

namespace stafett::store::testing {

class JournalHarness {
 public:
  virtual ~JournalHarness() = default;
  // A journal over this harness's data: the first call creates it, later ones reopen it (close
  // the previous journal first).
  virtual core::Result<std::unique_ptr<AgentJournal>> Open() = 0;
  // The filesystem that can cut the power under the journal; null if there is none.
  virtual FaultInjectionFileSystem* faults() { return nullptr; }
};

struct JournalImplementation {
  std::string name;  // the gtest parameter name: RocksDb, InMemory, FaultInjecting
  // A harness whose data lives under DIR (a fresh, empty folder) or in memory.
  std::function<std::unique_ptr<JournalHarness>(const std::string& dir)> make;
};

const std::vector<JournalImplementation>& AllJournalHarnesses();

// For gtest: a parameter prints as its name.
inline void PrintTo(const JournalImplementation& implementation, std::ostream* out) {
  *out << implementation.name;
}

}  // namespace stafett::store::testing
