// The delivery state machine: its table is well formed, every row is in docs/PROTOCOL.md ("The
// delivery state machine") and no other row is, and the promises of the page's session and
// delivery sections hold in the table.
#include "stafett/core/delivery_machine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace stafett::core::delivery {
namespace {

constexpr State kAllStates[] = {
    State::kQueued,        State::kInFlight,        State::kDelivered,
    State::kWithheld,      State::kExpired,         State::kRejected,
    State::kReceiptQueued, State::kReceiptInFlight, State::kReceiptAcknowledged};
constexpr Event kAllEvents[] = {Event::kDispatch,       Event::kConsentInactive,
                                Event::kDelivered,      Event::kBadReceipt,
                                Event::kRejected,       Event::kExpiryDue,
                                Event::kConsentRevoked, Event::kRedeliverTimeout,
                                Event::kNewHello,       Event::kAck};

std::string ReadProtocolDoc() {
  std::ifstream in(std::string(STAFETT_SOURCE_DIR) + "/docs/PROTOCOL.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The doc's row for TRANSITION.
std::string DocRow(const Transition& row) {
  std::string actions;
  for (Action action : row.actions) {
    if (!actions.empty()) actions += ", ";
    actions += ActionName(action);
  }
  return "| `" + std::string(StateName(row.from)) + "` | " + std::string(EventName(row.event)) +
         " | `" + std::string(StateName(row.to)) + "` | " + actions + " |";
}

bool Has(const Transition& row, Action action) {
  return std::find(row.actions.begin(), row.actions.end(), action) != row.actions.end();
}

TEST(DeliveryMachineDocTest, EveryRowIsInProtocolMdAndNoOther) {
  std::string doc = ReadProtocolDoc();
  ASSERT_FALSE(doc.empty());
  size_t section = doc.find("### The delivery state machine");
  ASSERT_NE(section, std::string::npos) << "docs/PROTOCOL.md lacks the state machine section";
  for (const Transition& row : TransitionTable()) {
    EXPECT_NE(doc.find(DocRow(row), section), std::string::npos)
        << "docs/PROTOCOL.md lacks the row: " << DocRow(row);
  }
  // The section's table has exactly the code's rows.
  std::istringstream lines(doc.substr(section));
  std::string line;
  size_t rows = 0;
  bool in_table = false;
  while (std::getline(lines, line)) {
    if (line.rfind("| `", 0) == 0) {
      in_table = true;
      ++rows;
    } else if (in_table) {
      break;
    }
  }
  EXPECT_EQ(rows, TransitionTable().size()) << "a row in docs/PROTOCOL.md is not in the table";
}

TEST(DeliveryMachineTest, OneRowPerStateAndEventAndNoneLeavesAFinalState) {
  std::set<std::pair<State, Event>> seen;
  for (const Transition& row : TransitionTable()) {
    EXPECT_TRUE(seen.insert({row.from, row.event}).second) << DocRow(row);
    EXPECT_FALSE(IsFinished(row.from)) << "a final state has a way out: " << DocRow(row);
    EXPECT_EQ(IsReceiptState(row.from), IsReceiptState(row.to)) << DocRow(row);
    EXPECT_FALSE(row.actions.empty()) << DocRow(row);
    EXPECT_EQ(FindTransition(row.from, row.event), &row);
  }
}

TEST(DeliveryMachineTest, EveryStateIsReachable) {
  std::set<State> reached = {State::kQueued, State::kReceiptQueued};
  for (size_t round = 0; round < std::size(kAllStates); ++round) {
    for (const Transition& row : TransitionTable()) {
      if (reached.count(row.from) != 0) reached.insert(row.to);
    }
  }
  for (State state : kAllStates) {
    EXPECT_EQ(reached.count(state), 1u) << StateName(state) << " is never reached";
  }
}

TEST(DeliveryMachineTest, FinishingARecipientDoesEverythingOnce) {
  for (const Transition& row : TransitionTable()) {
    if (IsReceiptState(row.to) || !IsFinished(row.to)) continue;
    SCOPED_TRACE(DocRow(row));
    EXPECT_TRUE(Has(row, Action::kRemoveQueueEntry));
    EXPECT_TRUE(Has(row, Action::kAuditOutcome));
    EXPECT_TRUE(Has(row, Action::kQueueReceiptForSender));
    EXPECT_TRUE(Has(row, Action::kFinishMessageIfLast));
    EXPECT_EQ(Has(row, Action::kWriteDeadLetter), row.to != State::kDelivered);
    EXPECT_TRUE(AuditEventFor(row.to).has_value());
    EXPECT_TRUE(ReceiptStatusFor(row.to).has_value());
  }
  for (const Transition& row : TransitionTable()) {
    if (IsFinished(row.to)) continue;
    EXPECT_FALSE(Has(row, Action::kAuditOutcome)) << DocRow(row);
    EXPECT_FALSE(Has(row, Action::kRemoveQueueEntry)) << DocRow(row);
  }
}

TEST(DeliveryMachineTest, StoredStatesRoundTrip) {
  for (State state : kAllStates) {
    std::optional<RecipientState> stored = StoredState(state);
    EXPECT_EQ(stored.has_value(), !IsReceiptState(state)) << StateName(state);
    if (!stored) continue;
    // In flight is not durable: it comes back queued.
    State back = FromStored(*stored);
    EXPECT_EQ(back, state == State::kInFlight ? State::kQueued : state) << StateName(state);
  }
}

// What docs/PROTOCOL.md's session and delivery sections promise, each next to the table
// fact that keeps it: if either changes, this fails.
TEST(DeliveryMachineDocTest, TheSessionAndDeliverySectionsHoldInTheTable) {
  std::string doc = ReadProtocolDoc();
  struct Promise {
    std::string text;
    std::function<bool()> holds;
  };
  auto to = [](State from, Event event) -> std::optional<State> {
    const Transition* row = FindTransition(from, event);
    return row == nullptr ? std::nullopt : std::optional<State>(row->to);
  };
  std::vector<Promise> promises = {
      {"A new `HELLO` on a new\n   connection replaces the old session; everything that was in "
       "flight is sent again.",
       [&] {
         return to(State::kInFlight, Event::kNewHello) == State::kQueued &&
                to(State::kReceiptInFlight, Event::kNewHello) == State::kReceiptQueued;
       }},
      {"Acknowledgements are idempotent: a `DELIVERED` or `ACK` for an entry already removed is\n"
       "ignored.",
       [&] {
         for (State state : kAllStates) {
           if (IsFinished(state) && (FindTransition(state, Event::kDelivered) != nullptr ||
                                     FindTransition(state, Event::kAck) != nullptr)) {
             return false;
           }
         }
         return true;
       }},
      {"Entries not acknowledged within `redeliver_after_seconds` (default 30) are sent\nagain",
       [&] { return to(State::kInFlight, Event::kRedeliverTimeout) == State::kQueued; }},
      {"the broker audits it as `withheld`\nwith that code and tells the sender.",
       [&] {
         return to(State::kInFlight, Event::kRejected) == State::kRejected &&
                AuditEventFor(State::kRejected) == "withheld" &&
                ReceiptStatusFor(State::kRejected) == ReceiptStatus::kWithheld;
       }},
      {"The\nbroker verifies the receipt signature, removes the entry, audits `delivered`, and "
       "queues a\n`RECEIPT` for the sender",
       [&] {
         const Transition* row = FindTransition(State::kInFlight, Event::kDelivered);
         return row != nullptr && row->to == State::kDelivered &&
                Has(*row, Action::kRemoveQueueEntry) && Has(*row, Action::kQueueReceiptForSender) &&
                AuditEventFor(State::kDelivered) == "delivered" &&
                to(State::kInFlight, Event::kBadReceipt) == State::kInFlight;
       }},
      {"a\nconsent revoked or expired while the message waited withholds it",
       [&] {
         return to(State::kQueued, Event::kConsentInactive) == State::kWithheld &&
                to(State::kQueued, Event::kConsentRevoked) == State::kWithheld &&
                to(State::kInFlight, Event::kConsentRevoked) == State::kWithheld;
       }},
      {"A message not\ndelivered by its `expires_at` is moved to the dead letters, audited "
       "`expired`, and the sender\ngets a receipt with status `expired` and code `EXPIRED`.",
       [&] {
         const Transition* row = FindTransition(State::kQueued, Event::kExpiryDue);
         return row != nullptr && row->to == State::kExpired &&
                Has(*row, Action::kWriteDeadLetter) &&
                AuditEventFor(State::kExpired) == "expired" &&
                ReceiptStatusFor(State::kExpired) == ReceiptStatus::kExpired &&
                to(State::kInFlight, Event::kExpiryDue) == State::kExpired;
       }},
      {"A `RECEIPT` is answered with `ACK {\"delivery\": Q}`.",
       [&] { return to(State::kReceiptInFlight, Event::kAck) == State::kReceiptAcknowledged; }},
  };
  for (const Promise& promise : promises) {
    EXPECT_NE(doc.find(promise.text), std::string::npos)
        << "docs/PROTOCOL.md no longer says: " << promise.text;
    EXPECT_TRUE(promise.holds()) << "the table breaks: " << promise.text;
  }
}

TEST(DeliveryMachineTest, UnlistedPairsAreIgnored) {
  size_t ignored = 0;
  for (State state : kAllStates) {
    for (Event event : kAllEvents) {
      if (FindTransition(state, event) == nullptr) ++ignored;
    }
  }
  EXPECT_EQ(ignored + TransitionTable().size(), std::size(kAllStates) * std::size(kAllEvents));
  EXPECT_EQ(FindTransition(State::kDelivered, Event::kExpiryDue), nullptr)
      << "a delivered message does not expire";
  EXPECT_EQ(FindTransition(State::kQueued, Event::kAck), nullptr) << "ACK names receipts only";
}

}  // namespace
}  // namespace stafett::core::delivery
