// The wire protocol's framing: version frame, command frame, arguments. The command table in
// protocol.cc is the single source; docs/PROTOCOL.md is tested against it.
// Thread-safety: pure functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::core::protocol {

// First frame of every message. A peer speaking another version gets ERROR and is ignored.
inline constexpr std::string_view kVersion = "STF1";

enum class Command {
  kHello,      // agent → broker: {json hello}
  kWelcome,    // broker → peer: {json welcome}
  kPublish,    // agent → broker: header, signature, payload
  kAccepted,   // broker → agent: {json message_id, seq, duplicate}
  kRefused,    // broker → agent: {json message_id, code, message}
  kDeliver,    // broker → agent: {json delivery meta}, header, signature, payload
  kDelivered,  // agent → broker: {json message_id, delivery, receipt_signature}
  kRejected,   // agent → broker: {json message_id, delivery, code, message}
  kReceipt,    // broker → agent: {json delivery receipt}
  kAck,        // agent → broker: {json delivery}
  kHeartbeat,  // either way: {json}
  kQuery,      // auditor/operator/agent → broker: {json query}
  kResult,     // broker → peer: {json result}
  kError,      // broker → peer: {json code, message}
};

// How a command's arguments look on the wire; one row per command.
struct CommandSpec {
  Command command;
  std::string_view name;       // the command frame, e.g. "PUBLISH"
  std::string_view direction;  // "agent→broker", "broker→agent", "both", "client→broker"
  size_t argument_count;       // frames after version and command
  bool first_is_json;          // the first argument is a JSON object
  std::string_view arguments;  // human description, for docs/PROTOCOL.md
};

const std::vector<CommandSpec>& CommandTable();
std::string_view CommandName(Command command);
std::optional<Command> CommandFromName(std::string_view name);

struct Message {
  Command command;
  std::vector<std::string> arguments;
  nlohmann::json object;  // the first argument, parsed, for commands whose first is JSON
};

// JSON arguments may nest at most this deep; deeper input is refused before it is parsed (a
// deeply nested value costs stack to copy and destroy).
inline constexpr size_t kMaxJsonDepth = 32;

// The deepest nesting of arrays and objects in TEXT (strings and escapes respected), counting
// no further than LIMIT + 1.
size_t JsonNestingDepth(std::string_view text, size_t limit = kMaxJsonDepth);

// Checks the version frame, the command name and the argument count (and that a JSON argument
// is a JSON object no deeper than kMaxJsonDepth) against the table. kProtocolError with a short
// reason otherwise. Never echoes frame contents in the message.
Result<Message> Decode(const std::vector<std::string>& frames);

// Version frame, command frame, then the arguments.
std::vector<std::string> Encode(Command command, std::vector<std::string> arguments);

}  // namespace stafett::core::protocol
