// RecentMessages: the message states most recently committed, kept decoded. A message's state
// is read again at each step after its acceptance (the dispatch, the recipient's DELIVERED,
// the sender's ACK of the receipt), usually within a few commit cycles; reading it here saves a
// store read and a decode each time. Bounded: the oldest inserted goes first.
// Only committed states go in (Broker::FinishCommit, after a successful commit), so a hit is
// exactly what the store would return. The retention, which deletes finished messages' states
// from the store, drops them here too (Forget).
// Thread-safety: none of its own. The broker's loop writes it; the verify pool's workers read
// it (Find) inside the loop's fork-join Precheck, while the loop writes nothing.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "stafett/core/records/message_state.h"

namespace stafett::broker {

class RecentMessages {
 public:
  explicit RecentMessages(size_t capacity) : capacity_(capacity) {}

  const core::MessageState* Find(const std::string& message_id) const {
    auto found = states_.find(message_id);
    return found == states_.end() ? nullptr : &found->second;
  }
  void Put(const std::string& message_id, core::MessageState state) {
    if (capacity_ == 0) return;
    auto [at, inserted] = states_.insert_or_assign(message_id, std::move(state));
    if (!inserted) return;
    order_.push_back(&at->first);
    while (states_.size() > capacity_) {
      states_.erase(*order_.front());
      order_.pop_front();
    }
  }
  // Drops MESSAGE_ID's state, if held. Linear in the capacity: the retention calls it for
  // messages finished long ago, which are rarely still here.
  void Forget(const std::string& message_id) {
    auto found = states_.find(message_id);
    if (found == states_.end()) return;
    std::erase(order_, &found->first);
    states_.erase(found);
  }
  size_t size() const { return states_.size(); }

 private:
  size_t capacity_;
  // Keys are stable in an unordered_map (rehashing moves no node): order_ points at them.
  std::unordered_map<std::string, core::MessageState> states_;
  std::deque<const std::string*> order_;
};

}  // namespace stafett::broker
