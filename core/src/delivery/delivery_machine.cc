// The delivery state machine's table and names.
#include "stafett/core/delivery_machine.h"

namespace stafett::core::delivery {
namespace {

using S = State;
using E = Event;
using A = Action;

// What finishing a recipient other than by delivery does.
const std::vector<Action> kFinishUndelivered = {A::kRemoveQueueEntry, A::kAuditOutcome,
                                                A::kQueueReceiptForSender, A::kWriteDeadLetter,
                                                A::kFinishMessageIfLast};
const std::vector<Action> kFinishDelivered = {A::kRemoveQueueEntry, A::kAuditOutcome,
                                              A::kQueueReceiptForSender, A::kFinishMessageIfLast};

const std::vector<Transition> kTable = {
    // A recipient.
    {S::kQueued, E::kDispatch, S::kInFlight, {A::kSendDeliver}},
    {S::kQueued, E::kConsentInactive, S::kWithheld, kFinishUndelivered},
    {S::kQueued, E::kDelivered, S::kDelivered, kFinishDelivered},
    {S::kQueued, E::kBadReceipt, S::kQueued, {A::kSendBadSignatureError}},
    {S::kQueued, E::kRejected, S::kRejected, kFinishUndelivered},
    {S::kQueued, E::kExpiryDue, S::kExpired, kFinishUndelivered},
    {S::kQueued, E::kConsentRevoked, S::kWithheld, kFinishUndelivered},
    {S::kInFlight, E::kDelivered, S::kDelivered, kFinishDelivered},
    {S::kInFlight, E::kBadReceipt, S::kInFlight, {A::kSendBadSignatureError}},
    {S::kInFlight, E::kRejected, S::kRejected, kFinishUndelivered},
    {S::kInFlight, E::kExpiryDue, S::kExpired, kFinishUndelivered},
    {S::kInFlight, E::kConsentRevoked, S::kWithheld, kFinishUndelivered},
    {S::kInFlight, E::kRedeliverTimeout, S::kQueued, {A::kSendAgainLater}},
    {S::kInFlight, E::kNewHello, S::kQueued, {A::kSendAgainLater}},
    // A receipt for the sender.
    {S::kReceiptQueued, E::kDispatch, S::kReceiptInFlight, {A::kSendReceipt}},
    {S::kReceiptQueued,
     E::kAck,
     S::kReceiptAcknowledged,
     {A::kRemoveQueueEntry, A::kRecordReceiptAcknowledged}},
    {S::kReceiptInFlight,
     E::kAck,
     S::kReceiptAcknowledged,
     {A::kRemoveQueueEntry, A::kRecordReceiptAcknowledged}},
    {S::kReceiptInFlight, E::kRedeliverTimeout, S::kReceiptQueued, {A::kSendAgainLater}},
    {S::kReceiptInFlight, E::kNewHello, S::kReceiptQueued, {A::kSendAgainLater}},
};

}  // namespace

const std::vector<Transition>& TransitionTable() { return kTable; }

const Transition* FindTransition(State from, Event event) {
  for (const Transition& row : kTable) {
    if (row.from == from && row.event == event) return &row;
  }
  return nullptr;
}

std::string_view StateName(State state) {
  switch (state) {
    case S::kQueued:
      return "queued";
    case S::kInFlight:
      return "in_flight";
    case S::kDelivered:
      return "delivered";
    case S::kWithheld:
      return "withheld";
    case S::kExpired:
      return "expired";
    case S::kRejected:
      return "rejected";
    case S::kReceiptQueued:
      return "receipt_queued";
    case S::kReceiptInFlight:
      return "receipt_in_flight";
    case S::kReceiptAcknowledged:
      return "receipt_acknowledged";
  }
  return "?";
}

std::string_view EventName(Event event) {
  switch (event) {
    case E::kDispatch:
      return "dispatch";
    case E::kConsentInactive:
      return "consent_inactive";
    case E::kDelivered:
      return "DELIVERED";
    case E::kBadReceipt:
      return "DELIVERED, bad receipt";
    case E::kRejected:
      return "REJECTED";
    case E::kExpiryDue:
      return "expiry_due";
    case E::kConsentRevoked:
      return "consent_revoked";
    case E::kRedeliverTimeout:
      return "redeliver_timeout";
    case E::kNewHello:
      return "HELLO";
    case E::kAck:
      return "ACK";
  }
  return "?";
}

std::string_view ActionName(Action action) {
  switch (action) {
    case A::kSendDeliver:
      return "send DELIVER";
    case A::kSendReceipt:
      return "send RECEIPT";
    case A::kSendBadSignatureError:
      return "send ERROR BAD_SIGNATURE";
    case A::kSendAgainLater:
      return "send again later";
    case A::kRemoveQueueEntry:
      return "remove queue entry";
    case A::kAuditOutcome:
      return "audit outcome";
    case A::kQueueReceiptForSender:
      return "queue receipt for sender";
    case A::kWriteDeadLetter:
      return "write dead letter";
    case A::kFinishMessageIfLast:
      return "finish message if last";
    case A::kRecordReceiptAcknowledged:
      return "record receipt acknowledged";
  }
  return "?";
}

bool IsFinished(State state) {
  return state == S::kDelivered || state == S::kWithheld || state == S::kExpired ||
         state == S::kRejected || state == S::kReceiptAcknowledged;
}

bool IsReceiptState(State state) {
  return state == S::kReceiptQueued || state == S::kReceiptInFlight ||
         state == S::kReceiptAcknowledged;
}

std::optional<RecipientState> StoredState(State state) {
  switch (state) {
    case S::kQueued:
    case S::kInFlight:
      return RecipientState::kQueued;
    case S::kDelivered:
      return RecipientState::kDelivered;
    case S::kWithheld:
      return RecipientState::kWithheld;
    case S::kExpired:
      return RecipientState::kExpired;
    case S::kRejected:
      return RecipientState::kRejected;
    default:
      return std::nullopt;
  }
}

State FromStored(RecipientState state) {
  switch (state) {
    case RecipientState::kQueued:
      return S::kQueued;
    case RecipientState::kDelivered:
      return S::kDelivered;
    case RecipientState::kWithheld:
      return S::kWithheld;
    case RecipientState::kExpired:
      return S::kExpired;
    case RecipientState::kRejected:
      return S::kRejected;
  }
  return S::kQueued;
}

std::optional<std::string_view> AuditEventFor(State state) {
  switch (state) {
    case S::kDelivered:
      return "delivered";
    case S::kWithheld:
    case S::kRejected:
      return "withheld";
    case S::kExpired:
      return "expired";
    default:
      return std::nullopt;
  }
}

std::optional<ReceiptStatus> ReceiptStatusFor(State state) {
  switch (state) {
    case S::kDelivered:
      return ReceiptStatus::kDelivered;
    case S::kWithheld:
    case S::kRejected:
      return ReceiptStatus::kWithheld;
    case S::kExpired:
      return ReceiptStatus::kExpired;
    default:
      return std::nullopt;
  }
}

}  // namespace stafett::core::delivery
