// The control frames as typed values. Every JSON argument of the protocol is declared once, in
// FrameFields (frames.cc): its fields, their types and whether they must be there. The typed
// Encode…/Parse… functions below are written against that declaration, a test holds each
// struct and its row together, and docs/PROTOCOL.md "Control frame fields" is tested against
// it. So the broker and the agents never read a frame with `.value("key", default)`: a
// missing or mistyped field is a PROTOCOL_ERROR naming the frame and the field, never a silent
// "" or 0. Fields a peer does not know are ignored (a newer peer may add optional fields).
// Version 1 of the wire encodes these as JSON objects (docs/PROTOCOL.md, "Framing"); the
// encoding stays inside this module.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/protocol.h"
#include "stafett/core/records/consent_record.h"
#include "stafett/core/records/queue_entry.h"
#include "stafett/core/status.h"

namespace stafett::core::protocol {

enum class FieldType {
  kString,
  kUnsigned,  // a JSON integer ≥ 0
  kBoolean,
  kTimestamp,  // an RFC 3339 string in UTC
  kCode,       // an error code's name from the catalogue (core/status.h)
  kAny,        // any JSON value, returned as it came (a query's id)
};
// "string", "unsigned", "boolean", "timestamp", "code", "any": the names docs/PROTOCOL.md uses.
std::string_view FieldTypeName(FieldType type);

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required;
};

struct FrameSpec {
  Command command;
  std::vector<FieldSpec> fields;
  // Further fields, chosen by another one, are allowed and read by the handler: a query's
  // arguments (by `op`) and a result's answer.
  bool open = false;
};

// One row per command whose first argument is a JSON object, in Command order.
const std::vector<FrameSpec>& FrameFields();
const FrameSpec& FrameFieldsOf(Command command);

// Checks OBJECT against COMMAND's declaration: every required field there, every declared field
// of its type. PROTOCOL_ERROR "<COMMAND>: field <name> …" otherwise (never echoing a value).
Status CheckFields(Command command, const nlohmann::json& object);

struct HelloFrame {
  std::optional<uint64_t> credit;  // the window the agent asks for
  std::string agent;               // "name/version", "" if not said
  bool operator==(const HelloFrame&) const = default;
};

struct WelcomeFrame {
  uint64_t protocol = 1;
  std::string principal;
  std::optional<uint64_t> credit_window;  // endpoints only
  uint64_t max_message_bytes = 0;
  uint64_t heartbeat_seconds = 0;
  uint64_t max_publishes_per_second = 0;  // 0: no limit
  std::string broker_version;
  bool operator==(const WelcomeFrame&) const = default;
};

struct AcceptedFrame {
  std::string message_id;
  uint64_t seq = 0;  // the acceptance's audit position
  bool duplicate = false;
  bool operator==(const AcceptedFrame&) const = default;
};

struct RefusedFrame {
  std::string message_id;  // "" for a publish dropped over the rate limit
  Code code = Code::kInternal;
  std::string message;
  bool operator==(const RefusedFrame&) const = default;
};

struct DeliverFrame {
  uint64_t delivery = 0;  // the queue seq, echoed in DELIVERED/REJECTED
  uint64_t attempt = 1;
  uint64_t seq = 0;        // the acceptance's audit position
  Micros accepted_at = 0;  // millisecond precision on the wire
  Envelope envelope;       // the three frames after the object, exactly as published
  bool operator==(const DeliverFrame&) const = default;
};

struct DeliveredFrame {
  std::string message_id;
  uint64_t delivery = 0;
  std::string receipt_key;        // the recipient's key id
  std::string receipt_signature;  // base64 Ed25519 over ReceiptSigningInput, as sent
  bool operator==(const DeliveredFrame&) const = default;
};

struct RejectedFrame {
  std::string message_id;
  uint64_t delivery = 0;
  Code code = Code::kInternal;
  std::string message;
  bool operator==(const RejectedFrame&) const = default;
};

struct ReceiptFrame {
  uint64_t delivery = 0;
  std::string message_id;
  std::string recipient;
  ReceiptStatus status = ReceiptStatus::kDelivered;
  Code code = Code::kOk;          // kOk (absent on the wire) iff delivered
  Micros time = 0;                // when the outcome happened; millisecond precision on the wire
  uint64_t seq = 0;               // the outcome's audit position
  std::string receipt_key;        // iff delivered
  std::string receipt_signature;  // base64, iff delivered
  bool operator==(const ReceiptFrame&) const = default;
};

struct AckFrame {
  uint64_t delivery = 0;
  bool operator==(const AckFrame&) const = default;
};

struct ErrorFrame {
  Code code = Code::kInternal;
  std::string message;
  bool operator==(const ErrorFrame&) const = default;
};

// Whole messages: version, command, arguments.
std::vector<std::string> Encode(const HelloFrame& frame);
std::vector<std::string> Encode(const WelcomeFrame& frame);
std::vector<std::string> Encode(const AcceptedFrame& frame);
std::vector<std::string> Encode(const RefusedFrame& frame);
std::vector<std::string> Encode(DeliverFrame frame);
std::vector<std::string> Encode(const DeliveredFrame& frame);
std::vector<std::string> Encode(const RejectedFrame& frame);
std::vector<std::string> Encode(const ReceiptFrame& frame);
std::vector<std::string> Encode(const AckFrame& frame);
std::vector<std::string> Encode(const ErrorFrame& frame);
std::vector<std::string> EncodeHeartbeat();

// From a decoded message of that command (Decode checked the framing): PROTOCOL_ERROR for a
// message of another command, or one whose object breaks its declaration.
Result<HelloFrame> ParseHello(const Message& message);
Result<WelcomeFrame> ParseWelcome(const Message& message);
Result<AcceptedFrame> ParseAccepted(const Message& message);
Result<RefusedFrame> ParseRefused(const Message& message);
Result<DeliverFrame> ParseDeliver(const Message& message);
Result<DeliveredFrame> ParseDelivered(const Message& message);
Result<RejectedFrame> ParseRejected(const Message& message);
Result<ReceiptFrame> ParseReceipt(const Message& message);
Result<AckFrame> ParseAck(const Message& message);
Result<ErrorFrame> ParseError(const Message& message);

// One row of a party_consents answer (docs/PROTOCOL.md, "Queries"): what an agent's consent
// check needs of a consent it is a party of, times in microseconds — consent_id, subject,
// parties, purposes, valid_from, valid_until, recorded_by, revoked and, once revoked,
// revoked_at. The broker encodes its index's records; an agent rebuilding its consents parses
// them back into the consent as that index knows it (no granting event, revoked as the row
// says). kProtocolError naming the field when a row is not one.
nlohmann::json EncodePartyConsent(const ConsentRecord& record);
Result<ConsentRecord> ParsePartyConsent(const nlohmann::json& row);

}  // namespace stafett::core::protocol
