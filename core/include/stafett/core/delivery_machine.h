// The delivery state machine: one table of (state, event) → (new state, actions) for each
// recipient of a message and for each receipt queued for a sender. The broker does only the
// I/O the actions name. docs/PROTOCOL.md, "The delivery state machine", is tested against the
// table (tests/core/delivery_machine_test.cc).
// Thread-safety: pure functions over a constant table.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "stafett/core/records/message_state.h"
#include "stafett/core/records/queue_entry.h"

namespace stafett::core::delivery {

enum class State {
  // A recipient of a message.
  kQueued,     // in the recipient's queue, not sent in this session
  kInFlight,   // sent (DELIVER), not yet answered; in memory only
  kDelivered,  // the recipient's signed receipt verified
  kWithheld,   // stopped by the broker: consent revoked, or not active at dispatch
  kExpired,    // not delivered by expires_at
  kRejected,   // the recipient's agent answered REJECTED
  // A receipt queued for the sender of a message.
  kReceiptQueued,
  kReceiptInFlight,
  kReceiptAcknowledged,  // the sender answered ACK
};

enum class Event {
  kDispatch,          // the session has credit and the entry is next
  kConsentInactive,   // at dispatch: the message's consent is revoked, expired or gone
  kDelivered,         // DELIVERED with a receipt signature that verifies
  kBadReceipt,        // DELIVERED with a receipt signature that does not verify
  kRejected,          // REJECTED from the recipient
  kExpiryDue,         // now ≥ the message's expires_at
  kConsentRevoked,    // a consent_revoked for the message's consent was accepted
  kRedeliverTimeout,  // unanswered for redeliver_after_seconds
  kNewHello,          // the endpoint said HELLO again (a new session)
  kAck,               // ACK for a receipt
};

// What the broker does, in table order, when a transition fires.
enum class Action {
  kSendDeliver,                // DELIVER meta, header, signature, payload
  kSendReceipt,                // RECEIPT to the sender
  kSendBadSignatureError,      // ERROR BAD_SIGNATURE; the entry stays
  kSendAgainLater,             // forget the send: the entry is dispatched again, in order
  kRemoveQueueEntry,           // delete the entry from the queue
  kAuditOutcome,               // audit record `delivered`, `withheld` or `expired` (AuditEventFor)
  kQueueReceiptForSender,      // a receipt entry in the sender's queue (ReceiptStatusFor)
  kWriteDeadLetter,            // the outcome in the dead letters
  kFinishMessageIfLast,        // every recipient finished: status set, envelope, expiry and
                               // consent link deleted
  kRecordReceiptAcknowledged,  // the recipient's receipt_acknowledged_at, for `track`
};

struct Transition {
  State from;
  Event event;
  State to;
  std::vector<Action> actions;
};

// Every transition. A (state, event) pair not in it is ignored: state unchanged, nothing done
// (an acknowledgement for an entry already finished is idempotent).
const std::vector<Transition>& TransitionTable();

// The row for (FROM, EVENT); nullptr when the pair is ignored.
const Transition* FindTransition(State from, Event event);

// Names as docs/PROTOCOL.md writes them: "in_flight", "consent_revoked", "send DELIVER", …
std::string_view StateName(State state);
std::string_view EventName(Event event);
std::string_view ActionName(Action action);

// Whether STATE is final (delivered, withheld, expired, rejected, receipt acknowledged).
bool IsFinished(State state);
// Whether STATE belongs to a receipt entry rather than a recipient.
bool IsReceiptState(State state);

// The stored form of a recipient's state (in flight is stored as queued: a restart sends it
// again) and back; nullopt for a receipt state.
std::optional<RecipientState> StoredState(State state);
State FromStored(RecipientState state);

// For a finished recipient state: the audit event ("delivered", "withheld", "expired"; a
// rejection is audited as withheld with the recipient's code) and the receipt's status.
std::optional<std::string_view> AuditEventFor(State state);
std::optional<ReceiptStatus> ReceiptStatusFor(State state);

}  // namespace stafett::core::delivery
