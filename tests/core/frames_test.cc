// The typed control frames: each round-trips, each struct encodes exactly its declared fields,
// a missing or mistyped field is a PROTOCOL_ERROR naming it, and docs/PROTOCOL.md lists the
// declaration field by field.
#include "stafett/core/frames.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

namespace stafett::core::protocol {
namespace {

Message Decoded(const std::vector<std::string>& frames) {
  Result<Message> message = Decode(frames);
  EXPECT_TRUE(message.ok()) << message.status().ToString();
  return message.ok() ? *message : Message{Command::kHeartbeat, {}, {}};
}

Message WithObject(Command command, const nlohmann::json& object,
                   std::vector<std::string> rest = {}) {
  std::vector<std::string> arguments = {object.dump()};
  for (std::string& frame : rest) arguments.push_back(std::move(frame));
  return Decoded(Encode(command, std::move(arguments)));
}

// Every frame of every command with a JSON argument, filled in, with its parser's verdict on
// what it encoded.
struct Sample {
  Command command;
  std::vector<std::string> frames;
  std::function<bool(const Message&)> parses_back;  // Parse…(message) equals the value
};

std::vector<Sample> Samples() {
  constexpr Micros kTime = 1'764'000'000'123'000;  // milliseconds survive the wire
  HelloFrame hello{64, "stafett-agent/0.1.0"};
  WelcomeFrame welcome{1, "flen.school", 32, 1 << 20, 5, 200, "0.1.0"};
  AcceptedFrame accepted{"msg-1", 7, true};
  RefusedFrame refused{"msg-1", Code::kConsentRequired, "no consent"};
  DeliverFrame deliver{9, 2, 7, kTime, Envelope{"{\"h\":1}", std::string(64, 's'), "payload"}};
  DeliveredFrame delivered{"msg-1", 9, "0011223344556677", "c2lnbmF0dXJl"};
  RejectedFrame rejected{"msg-1", 9, Code::kBadSignature, "does not verify"};
  ReceiptFrame receipt{11,
                       "msg-1",
                       "flen.social",
                       ReceiptStatus::kDelivered,
                       Code::kOk,
                       kTime,
                       8,
                       "0011223344556677",
                       "c2lnbmF0dXJl"};
  AckFrame ack{11};
  ErrorFrame error{Code::kSessionReplaced, "another connection said HELLO"};
  auto same = [](auto value, auto parse) {
    return [value, parse](const Message& message) {
      auto parsed = parse(message);
      return parsed.ok() && *parsed == value;
    };
  };
  return {
      {Command::kHello, Encode(hello), same(hello, ParseHello)},
      {Command::kWelcome, Encode(welcome), same(welcome, ParseWelcome)},
      {Command::kAccepted, Encode(accepted), same(accepted, ParseAccepted)},
      {Command::kRefused, Encode(refused), same(refused, ParseRefused)},
      {Command::kDeliver, Encode(deliver), same(deliver, ParseDeliver)},
      {Command::kDelivered, Encode(delivered), same(delivered, ParseDelivered)},
      {Command::kRejected, Encode(rejected), same(rejected, ParseRejected)},
      {Command::kReceipt, Encode(receipt), same(receipt, ParseReceipt)},
      {Command::kAck, Encode(ack), same(ack, ParseAck)},
      {Command::kError, Encode(error), same(error, ParseError)},
  };
}

TEST(FramesTest, EveryFrameRoundTrips) {
  for (const Sample& sample : Samples()) {
    Message message = Decoded(sample.frames);
    EXPECT_EQ(message.command, sample.command);
    EXPECT_TRUE(sample.parses_back(message)) << CommandName(sample.command);
  }
}

TEST(FramesTest, EachStructEncodesExactlyItsDeclaredFields) {
  for (const Sample& sample : Samples()) {
    Message message = Decoded(sample.frames);
    std::set<std::string> declared, required, encoded;
    for (const FieldSpec& field : FrameFieldsOf(sample.command).fields) {
      declared.insert(std::string(field.name));
      if (field.required) required.insert(std::string(field.name));
    }
    for (const auto& [key, value] : message.object.items()) encoded.insert(key);
    for (const std::string& key : encoded) {
      EXPECT_TRUE(declared.count(key)) << CommandName(sample.command) << " encodes " << key;
    }
    for (const std::string& key : required) {
      EXPECT_TRUE(encoded.count(key)) << CommandName(sample.command) << " lacks " << key;
    }
  }
}

TEST(FramesTest, AMissingRequiredFieldIsAProtocolErrorNamingIt) {
  for (const Sample& sample : Samples()) {
    Message message = Decoded(sample.frames);
    for (const FieldSpec& field : FrameFieldsOf(sample.command).fields) {
      if (!field.required) continue;
      nlohmann::json object = message.object;
      object.erase(std::string(field.name));
      Status status = CheckFields(sample.command, object);
      EXPECT_EQ(status.code(), Code::kProtocolError) << CommandName(sample.command) << field.name;
      EXPECT_NE(status.message().find(std::string(field.name)), std::string::npos)
          << status.message();
    }
  }
}

TEST(FramesTest, AMistypedFieldIsRefusedWithoutEchoingItsValue) {
  Message accepted = WithObject(
      Command::kAccepted, {{"message_id", "m"}, {"seq", "19121212-1212"}, {"duplicate", false}});
  Result<AcceptedFrame> parsed = ParseAccepted(accepted);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kProtocolError);
  EXPECT_NE(parsed.status().message().find("seq"), std::string::npos);
  EXPECT_EQ(parsed.status().message().find("1212"), std::string::npos);

  EXPECT_FALSE(ParseAck(WithObject(Command::kAck, {{"delivery", -1}})).ok());
  EXPECT_FALSE(
      ParseError(WithObject(Command::kError, {{"code", "NO_SUCH_CODE"}, {"message", ""}})).ok());
  EXPECT_FALSE(
      ParseDeliver(
          WithObject(Command::kDeliver,
                     {{"delivery", 1}, {"attempt", 1}, {"seq", 1}, {"accepted_at", "yesterday"}},
                     {"h", "s", "p"}))
          .ok());
}

TEST(FramesTest, UnknownFieldsAreIgnored) {
  Result<AckFrame> ack = ParseAck(WithObject(Command::kAck, {{"delivery", 3}, {"later", true}}));
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->delivery, 3u);
}

TEST(FramesTest, AReceiptCarriesACodeExactlyWhenNotDelivered) {
  nlohmann::json receipt = {{"delivery", 1},
                            {"message_id", "m"},
                            {"recipient", "a.b"},
                            {"status", "expired"},
                            {"time", "2026-12-02T10:00:00Z"},
                            {"seq", 4}};
  EXPECT_FALSE(ParseReceipt(WithObject(Command::kReceipt, receipt)).ok());
  receipt["code"] = "EXPIRED";
  Result<ReceiptFrame> parsed = ParseReceipt(WithObject(Command::kReceipt, receipt));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->status, ReceiptStatus::kExpired);
  EXPECT_EQ(parsed->code, Code::kExpired);
  receipt["status"] = "lost";
  EXPECT_FALSE(ParseReceipt(WithObject(Command::kReceipt, receipt)).ok());
}

TEST(FramesTest, AParserRefusesAnotherCommand) {
  Message ack = Decoded(Encode(AckFrame{1}));
  EXPECT_EQ(ParseAccepted(ack).status().code(), Code::kProtocolError);
}

TEST(FramesTest, EveryCommandWithAJsonArgumentIsDeclared) {
  for (const CommandSpec& spec : CommandTable()) {
    bool declared = false;
    for (const FrameSpec& frame : FrameFields()) declared |= frame.command == spec.command;
    EXPECT_EQ(declared, spec.first_is_json) << spec.name;
  }
}

// docs/PROTOCOL.md, "Control frame fields": one row per declared field, and no other.
TEST(FramesDocTest, TheFieldTableIsTheDeclaration) {
  std::ifstream in(std::string(STAFETT_SOURCE_DIR) + "/docs/PROTOCOL.md");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  std::set<std::string> expected;
  for (const FrameSpec& frame : FrameFields()) {
    if (frame.fields.empty()) {
      expected.insert("| `" + std::string(CommandName(frame.command)) + "` | — | — | — |");
    }
    for (const FieldSpec& field : frame.fields) {
      expected.insert("| `" + std::string(CommandName(frame.command)) + "` | `" +
                      std::string(field.name) + "` | " + std::string(FieldTypeName(field.type)) +
                      " | " + (field.required ? "required" : "optional") + " |");
    }
  }
  std::set<std::string> documented;
  std::regex row(R"(^\| `[A-Z]+` \| (`[a-z_]+`|—) \| [a-z—]+ \| [a-z—]+ \|$)");
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_match(line, row)) documented.insert(line);
  }
  for (const std::string& line : expected) {
    EXPECT_TRUE(documented.count(line)) << "docs/PROTOCOL.md lacks the row: " << line;
  }
  for (const std::string& line : documented) {
    EXPECT_TRUE(expected.count(line)) << "docs/PROTOCOL.md documents an undeclared field: " << line;
  }
}

}  // namespace
}  // namespace stafett::core::protocol

namespace stafett::core::protocol {
namespace {

TEST(PartyConsentTest, ARowRoundTripsAndAMalformedOneNamesItsField) {
  ConsentRecord record;
  record.facts = ConsentFacts{"c-1",
                              std::string(64, 'a'),
                              "flen.social",
                              {"flen.school", "flen.social"},
                              {"support"},
                              10,
                              20,
                              true};
  record.revocation = ConsentEvent{"m-2", 7, "flen.social", 15};
  nlohmann::json row = EncodePartyConsent(record);
  EXPECT_EQ(row["revoked_at"], 15);
  Result<ConsentRecord> parsed = ParsePartyConsent(row);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  // The index's view: the facts, without the events.
  EXPECT_EQ(parsed->facts.consent_id, "c-1");
  EXPECT_EQ(parsed->facts.parties, record.facts.parties);
  EXPECT_EQ(parsed->facts.valid_until, 20);
  EXPECT_TRUE(parsed->facts.revoked);
  EXPECT_FALSE(parsed->granted.has_value());
  for (const char* field : {"consent_id", "subject", "parties", "purposes", "valid_from",
                            "valid_until", "recorded_by", "revoked"}) {
    nlohmann::json broken = row;
    broken.erase(field);
    Result<ConsentRecord> refused = ParsePartyConsent(broken);
    ASSERT_FALSE(refused.ok()) << field;
    EXPECT_EQ(refused.status().code(), Code::kProtocolError);
    EXPECT_NE(refused.status().message().find(field), std::string::npos) << field;
  }
  nlohmann::json mistyped = row;
  mistyped["parties"] = {"flen.school", 5};
  EXPECT_FALSE(ParsePartyConsent(mistyped).ok());
  EXPECT_FALSE(ParsePartyConsent(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace stafett::core::protocol
