// The control frames' declaration and their typed codecs (stafett/core/frames.h).
#include "stafett/core/frames.h"

#include <utility>

namespace stafett::core::protocol {
namespace {

using nlohmann::json;

constexpr bool kRequired = true;
constexpr bool kOptional = false;

Status FieldError(Command command, std::string_view field, std::string_view what) {
  return Status(Code::kProtocolError, std::string(CommandName(command)) + ": field " +
                                          std::string(field) + " " + std::string(what));
}

bool HasType(const json& value, FieldType type) {
  switch (type) {
    case FieldType::kString:
      return value.is_string();
    case FieldType::kUnsigned:
      return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
    case FieldType::kBoolean:
      return value.is_boolean();
    case FieldType::kTimestamp:
      return value.is_string() && ParseRfc3339(value.get<std::string>()).has_value();
    case FieldType::kCode:
      return value.is_string() && CodeFromName(value.get<std::string>()).has_value();
    case FieldType::kAny:
      return true;
  }
  return false;
}

std::string_view TypeExpectation(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "must be a string";
    case FieldType::kUnsigned:
      return "must be an unsigned integer";
    case FieldType::kBoolean:
      return "must be true or false";
    case FieldType::kTimestamp:
      return "must be an RFC 3339 time";
    case FieldType::kCode:
      return "must be an error code of the catalogue";
    case FieldType::kAny:
      return "";
  }
  return "";
}

// Reads a field CheckFields has vouched for; the fallback only for an absent optional one.
std::string String(const json& object, std::string_view name) {
  auto found = object.find(name);
  return found == object.end() ? std::string() : found->get<std::string>();
}
uint64_t Unsigned(const json& object, std::string_view name) {
  auto found = object.find(name);
  return found == object.end() ? 0 : found->get<uint64_t>();
}
std::optional<uint64_t> OptionalUnsigned(const json& object, std::string_view name) {
  auto found = object.find(name);
  if (found == object.end()) return std::nullopt;
  return found->get<uint64_t>();
}
Micros Timestamp(const json& object, std::string_view name) {
  auto found = object.find(name);
  return found == object.end() ? 0 : ParseRfc3339(found->get<std::string>()).value_or(0);
}
Code CodeOf(const json& object, std::string_view name, Code absent) {
  auto found = object.find(name);
  return found == object.end() ? absent : CodeFromName(found->get<std::string>()).value_or(absent);
}

std::string CodeText(Code code) { return std::string(CodeName(code)); }

std::vector<std::string> WithObject(Command command, const json& object) {
  return protocol::Encode(command, {object.dump()});
}

Result<json> Checked(Command command, const Message& message) {
  if (message.command != command) {
    return Status(Code::kProtocolError, "expected " + std::string(CommandName(command)) + ", got " +
                                            std::string(CommandName(message.command)));
  }
  if (Status status = CheckFields(command, message.object); !status.ok()) return status;
  return message.object;
}

}  // namespace

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kUnsigned:
      return "unsigned";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kTimestamp:
      return "timestamp";
    case FieldType::kCode:
      return "code";
    case FieldType::kAny:
      return "any";
  }
  return "";
}

const std::vector<FrameSpec>& FrameFields() {
  using T = FieldType;
  static const std::vector<FrameSpec> kFields = {
      {Command::kHello, {{"credit", T::kUnsigned, kOptional}, {"agent", T::kString, kOptional}}},
      {Command::kWelcome,
       {{"protocol", T::kUnsigned, kRequired},
        {"principal", T::kString, kRequired},
        {"credit_window", T::kUnsigned, kOptional},
        {"max_message_bytes", T::kUnsigned, kRequired},
        {"heartbeat_seconds", T::kUnsigned, kRequired},
        {"max_publishes_per_second", T::kUnsigned, kRequired},
        {"broker_version", T::kString, kRequired}}},
      {Command::kAccepted,
       {{"message_id", T::kString, kRequired},
        {"seq", T::kUnsigned, kRequired},
        {"duplicate", T::kBoolean, kRequired}}},
      {Command::kRefused,
       {{"message_id", T::kString, kRequired},
        {"code", T::kCode, kRequired},
        {"message", T::kString, kRequired}}},
      {Command::kDeliver,
       {{"delivery", T::kUnsigned, kRequired},
        {"attempt", T::kUnsigned, kRequired},
        {"seq", T::kUnsigned, kRequired},
        {"accepted_at", T::kTimestamp, kRequired}}},
      {Command::kDelivered,
       {{"message_id", T::kString, kRequired},
        {"delivery", T::kUnsigned, kRequired},
        {"receipt_key", T::kString, kRequired},
        {"receipt_signature", T::kString, kRequired}}},
      {Command::kRejected,
       {{"message_id", T::kString, kRequired},
        {"delivery", T::kUnsigned, kRequired},
        {"code", T::kCode, kRequired},
        {"message", T::kString, kRequired}}},
      {Command::kReceipt,
       {{"delivery", T::kUnsigned, kRequired},
        {"message_id", T::kString, kRequired},
        {"recipient", T::kString, kRequired},
        {"status", T::kString, kRequired},
        {"code", T::kCode, kOptional},
        {"time", T::kTimestamp, kRequired},
        {"seq", T::kUnsigned, kRequired},
        {"receipt_key", T::kString, kOptional},
        {"receipt_signature", T::kString, kOptional}}},
      {Command::kAck, {{"delivery", T::kUnsigned, kRequired}}},
      {Command::kHeartbeat, {}},
      {Command::kQuery, {{"id", T::kAny, kOptional}, {"op", T::kString, kRequired}}, true},
      {Command::kResult,
       {{"id", T::kAny, kOptional},
        {"ok", T::kBoolean, kRequired},
        {"code", T::kCode, kOptional},
        {"message", T::kString, kOptional}},
       true},
      {Command::kError, {{"code", T::kCode, kRequired}, {"message", T::kString, kRequired}}},
  };
  return kFields;
}

const FrameSpec& FrameFieldsOf(Command command) {
  for (const FrameSpec& spec : FrameFields()) {
    if (spec.command == command) return spec;
  }
  static const FrameSpec kNone{Command::kPublish, {}};  // PUBLISH has no JSON argument
  return kNone;
}

Status CheckFields(Command command, const json& object) {
  if (!object.is_object()) return FieldError(command, "(all)", "missing: not a JSON object");
  for (const FieldSpec& field : FrameFieldsOf(command).fields) {
    auto found = object.find(field.name);
    if (found == object.end()) {
      if (field.required) return FieldError(command, field.name, "is missing");
      continue;
    }
    if (!HasType(*found, field.type)) {
      return FieldError(command, field.name, TypeExpectation(field.type));
    }
  }
  return Status::Ok();
}

std::vector<std::string> Encode(const HelloFrame& frame) {
  json object = json::object();
  if (frame.credit) object["credit"] = *frame.credit;
  if (!frame.agent.empty()) object["agent"] = frame.agent;
  return WithObject(Command::kHello, object);
}

std::vector<std::string> Encode(const WelcomeFrame& frame) {
  json object = {{"protocol", frame.protocol},
                 {"principal", frame.principal},
                 {"max_message_bytes", frame.max_message_bytes},
                 {"heartbeat_seconds", frame.heartbeat_seconds},
                 {"max_publishes_per_second", frame.max_publishes_per_second},
                 {"broker_version", frame.broker_version}};
  if (frame.credit_window) object["credit_window"] = *frame.credit_window;
  return WithObject(Command::kWelcome, object);
}

std::vector<std::string> Encode(const AcceptedFrame& frame) {
  return WithObject(
      Command::kAccepted,
      {{"message_id", frame.message_id}, {"seq", frame.seq}, {"duplicate", frame.duplicate}});
}

std::vector<std::string> Encode(const RefusedFrame& frame) {
  return WithObject(Command::kRefused, {{"message_id", frame.message_id},
                                        {"code", CodeText(frame.code)},
                                        {"message", frame.message}});
}

std::vector<std::string> Encode(DeliverFrame frame) {
  json meta = {{"delivery", frame.delivery},
               {"attempt", frame.attempt},
               {"seq", frame.seq},
               {"accepted_at", FormatRfc3339(frame.accepted_at)}};
  return protocol::Encode(Command::kDeliver,
                          {meta.dump(), std::move(frame.envelope.header_bytes),
                           std::move(frame.envelope.signature), std::move(frame.envelope.payload)});
}

std::vector<std::string> Encode(const DeliveredFrame& frame) {
  return WithObject(Command::kDelivered, {{"message_id", frame.message_id},
                                          {"delivery", frame.delivery},
                                          {"receipt_key", frame.receipt_key},
                                          {"receipt_signature", frame.receipt_signature}});
}

std::vector<std::string> Encode(const RejectedFrame& frame) {
  return WithObject(Command::kRejected, {{"message_id", frame.message_id},
                                         {"delivery", frame.delivery},
                                         {"code", CodeText(frame.code)},
                                         {"message", frame.message}});
}

std::vector<std::string> Encode(const ReceiptFrame& frame) {
  json object = {{"delivery", frame.delivery},        {"message_id", frame.message_id},
                 {"recipient", frame.recipient},      {"status", ReceiptStatusName(frame.status)},
                 {"time", FormatRfc3339(frame.time)}, {"seq", frame.seq}};
  if (frame.code != Code::kOk) object["code"] = CodeText(frame.code);
  if (!frame.receipt_key.empty()) object["receipt_key"] = frame.receipt_key;
  if (!frame.receipt_signature.empty()) object["receipt_signature"] = frame.receipt_signature;
  return WithObject(Command::kReceipt, object);
}

std::vector<std::string> Encode(const AckFrame& frame) {
  return WithObject(Command::kAck, {{"delivery", frame.delivery}});
}

std::vector<std::string> Encode(const ErrorFrame& frame) {
  return WithObject(Command::kError, {{"code", CodeText(frame.code)}, {"message", frame.message}});
}

std::vector<std::string> EncodeHeartbeat() { return protocol::Encode(Command::kHeartbeat, {"{}"}); }

Result<HelloFrame> ParseHello(const Message& message) {
  Result<json> object = Checked(Command::kHello, message);
  if (!object.ok()) return object.status();
  return HelloFrame{OptionalUnsigned(*object, "credit"), String(*object, "agent")};
}

Result<WelcomeFrame> ParseWelcome(const Message& message) {
  Result<json> object = Checked(Command::kWelcome, message);
  if (!object.ok()) return object.status();
  return WelcomeFrame{Unsigned(*object, "protocol"),
                      String(*object, "principal"),
                      OptionalUnsigned(*object, "credit_window"),
                      Unsigned(*object, "max_message_bytes"),
                      Unsigned(*object, "heartbeat_seconds"),
                      Unsigned(*object, "max_publishes_per_second"),
                      String(*object, "broker_version")};
}

Result<AcceptedFrame> ParseAccepted(const Message& message) {
  Result<json> object = Checked(Command::kAccepted, message);
  if (!object.ok()) return object.status();
  return AcceptedFrame{String(*object, "message_id"), Unsigned(*object, "seq"),
                       object->at("duplicate").get<bool>()};
}

Result<RefusedFrame> ParseRefused(const Message& message) {
  Result<json> object = Checked(Command::kRefused, message);
  if (!object.ok()) return object.status();
  return RefusedFrame{String(*object, "message_id"), CodeOf(*object, "code", Code::kInternal),
                      String(*object, "message")};
}

Result<DeliverFrame> ParseDeliver(const Message& message) {
  Result<json> object = Checked(Command::kDeliver, message);
  if (!object.ok()) return object.status();
  if (message.arguments.size() != 4) {
    return Status(Code::kProtocolError, "DELIVER: expected 4 argument(s)");
  }
  return DeliverFrame{Unsigned(*object, "delivery"), Unsigned(*object, "attempt"),
                      Unsigned(*object, "seq"), Timestamp(*object, "accepted_at"),
                      Envelope{message.arguments[1], message.arguments[2], message.arguments[3]}};
}

Result<DeliveredFrame> ParseDelivered(const Message& message) {
  Result<json> object = Checked(Command::kDelivered, message);
  if (!object.ok()) return object.status();
  return DeliveredFrame{String(*object, "message_id"), Unsigned(*object, "delivery"),
                        String(*object, "receipt_key"), String(*object, "receipt_signature")};
}

Result<RejectedFrame> ParseRejected(const Message& message) {
  Result<json> object = Checked(Command::kRejected, message);
  if (!object.ok()) return object.status();
  return RejectedFrame{String(*object, "message_id"), Unsigned(*object, "delivery"),
                       CodeOf(*object, "code", Code::kInternal), String(*object, "message")};
}

Result<ReceiptFrame> ParseReceipt(const Message& message) {
  Result<json> object = Checked(Command::kReceipt, message);
  if (!object.ok()) return object.status();
  std::optional<ReceiptStatus> status = ReceiptStatusFromName(String(*object, "status"));
  if (!status) return FieldError(Command::kReceipt, "status", "must be a receipt status");
  ReceiptFrame frame{Unsigned(*object, "delivery"),
                     String(*object, "message_id"),
                     String(*object, "recipient"),
                     *status,
                     CodeOf(*object, "code", Code::kOk),
                     Timestamp(*object, "time"),
                     Unsigned(*object, "seq"),
                     String(*object, "receipt_key"),
                     String(*object, "receipt_signature")};
  if ((frame.status == ReceiptStatus::kDelivered) != (frame.code == Code::kOk)) {
    return FieldError(Command::kReceipt, "code", "must be present iff the status is not delivered");
  }
  return frame;
}

Result<AckFrame> ParseAck(const Message& message) {
  Result<json> object = Checked(Command::kAck, message);
  if (!object.ok()) return object.status();
  return AckFrame{Unsigned(*object, "delivery")};
}

Result<ErrorFrame> ParseError(const Message& message) {
  Result<json> object = Checked(Command::kError, message);
  if (!object.ok()) return object.status();
  return ErrorFrame{CodeOf(*object, "code", Code::kInternal), String(*object, "message")};
}

nlohmann::json EncodePartyConsent(const ConsentRecord& record) {
  const ConsentFacts& facts = record.facts;
  json row = {{"consent_id", facts.consent_id},   {"subject", facts.subject},
              {"parties", facts.parties},         {"purposes", facts.purposes},
              {"valid_from", facts.valid_from},   {"valid_until", facts.valid_until},
              {"recorded_by", facts.recorded_by}, {"revoked", facts.revoked}};
  if (record.revocation) row["revoked_at"] = record.revocation->at;
  return row;
}

Result<ConsentRecord> ParsePartyConsent(const nlohmann::json& row) {
  auto malformed = [](std::string_view field) {
    return Status(Code::kProtocolError,
                  "party_consents: field " + std::string(field) + " missing or of the wrong type");
  };
  if (!row.is_object())
    return Status(Code::kProtocolError, "party_consents: a row is not an object");
  auto string_list = [&](std::string_view field, std::vector<std::string>* out) -> bool {
    auto found = row.find(field);
    if (found == row.end() || !found->is_array()) return false;
    for (const json& item : *found) {
      if (!item.is_string()) return false;
      out->push_back(item.get<std::string>());
    }
    return true;
  };
  auto text = [&](std::string_view field, std::string* out) -> bool {
    auto found = row.find(field);
    if (found == row.end() || !found->is_string()) return false;
    *out = found->get<std::string>();
    return true;
  };
  auto time = [&](std::string_view field, Micros* out) -> bool {
    auto found = row.find(field);
    if (found == row.end() || !found->is_number_integer()) return false;
    *out = found->get<Micros>();
    return true;
  };
  ConsentRecord record;
  ConsentFacts& facts = record.facts;
  if (!text("consent_id", &facts.consent_id)) return malformed("consent_id");
  if (!text("subject", &facts.subject)) return malformed("subject");
  if (!string_list("parties", &facts.parties)) return malformed("parties");
  if (!string_list("purposes", &facts.purposes)) return malformed("purposes");
  if (!time("valid_from", &facts.valid_from)) return malformed("valid_from");
  if (!time("valid_until", &facts.valid_until)) return malformed("valid_until");
  if (!text("recorded_by", &facts.recorded_by)) return malformed("recorded_by");
  auto revoked = row.find("revoked");
  if (revoked == row.end() || !revoked->is_boolean()) return malformed("revoked");
  facts.revoked = revoked->get<bool>();
  return record;
}

}  // namespace stafett::core::protocol
