// Protocol codec: framing checks, and docs/PROTOCOL.md's command table is the code's table.
#include "stafett/core/protocol.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace stafett::core::protocol {
namespace {

TEST(ProtocolTest, EncodeDecodeRoundTrip) {
  std::vector<std::string> frames = Encode(Command::kPublish, {"h", "s", "p"});
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[0], "STF1");
  EXPECT_EQ(frames[1], "PUBLISH");
  Result<Message> message = Decode(frames);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->command, Command::kPublish);
  EXPECT_EQ(message->arguments, (std::vector<std::string>{"h", "s", "p"}));
}

TEST(ProtocolTest, JsonArgumentIsParsed) {
  Result<Message> message = Decode(Encode(Command::kAck, {R"({"delivery":7})"}));
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->object["delivery"], 7);
}

TEST(ProtocolTest, RejectsWhatIsNotTheProtocol) {
  EXPECT_EQ(Decode({}).status().code(), Code::kProtocolError);
  EXPECT_EQ(Decode({"STF1"}).status().code(), Code::kProtocolError);
  EXPECT_EQ(Decode({"STF2", "HELLO", "{}"}).status().code(), Code::kProtocolError);
  EXPECT_EQ(Decode({"STF1", "NOPE", "{}"}).status().code(), Code::kProtocolError);
  EXPECT_EQ(Decode({"STF1", "PUBLISH", "h"}).status().code(), Code::kProtocolError);
  EXPECT_EQ(Decode({"STF1", "ACK", "[1,2]"}).status().code(), Code::kProtocolError);
  EXPECT_EQ(Decode({"STF1", "ACK", "{not json"}).status().code(), Code::kProtocolError);
  EXPECT_EQ(Decode({"STF1", "ACK", std::string("\0\xff\x01", 3)}).status().code(),
            Code::kProtocolError);
}

// Regression (fuzzing report): a QUERY whose id nested 100,000 levels deep overflowed the
// broker's stack when the value was copied. Deep JSON is refused before it is parsed.
TEST(ProtocolTest, RefusesDeeplyNestedJsonBeforeParsing) {
  std::string deep = "{\"id\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  Result<Message> message = Decode({"STF1", "QUERY", deep});
  ASSERT_FALSE(message.ok());
  EXPECT_NE(message.status().message().find("too deeply"), std::string::npos);
  std::string shallow = "{\"id\":[[1]],\"s\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
  EXPECT_TRUE(Decode({"STF1", "QUERY", shallow}).ok()) << "brackets inside strings do not count";
  EXPECT_EQ(JsonNestingDepth("{\"a\":{\"b\":[1,{\"c\":\"]]]\\\"{{\"}]}}"), 4u);
}

TEST(ProtocolTest, ErrorsNeverEchoFrames) {
  Result<Message> message = Decode({"STF1", "19121212-1212", "{}"});
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.status().message().find("1212"), std::string::npos);
}

TEST(ProtocolDocTest, EveryCommandIsDocumentedWithItsDirectionAndArguments) {
  std::ifstream in(std::string(STAFETT_SOURCE_DIR) + "/docs/PROTOCOL.md");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  for (const CommandSpec& spec : CommandTable()) {
    std::string row = "| `" + std::string(spec.name) + "` | " + std::string(spec.direction) +
                      " | " + std::string(spec.arguments) + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/PROTOCOL.md lacks the row: " << row;
  }
}

}  // namespace
}  // namespace stafett::core::protocol
