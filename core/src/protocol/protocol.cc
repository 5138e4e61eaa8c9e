// The protocol command table and the frame codec.
#include "stafett/core/protocol.h"

#include <algorithm>

namespace stafett::core::protocol {

const std::vector<CommandSpec>& CommandTable() {
  static const std::vector<CommandSpec> kTable = {
      {Command::kHello, "HELLO", "agent→broker", 1, true, "hello object"},
      {Command::kWelcome, "WELCOME", "broker→peer", 1, true, "welcome object"},
      {Command::kPublish, "PUBLISH", "agent→broker", 3, false,
       "header bytes, signature (64 bytes), payload (nonce ‖ ciphertext)"},
      {Command::kAccepted, "ACCEPTED", "broker→agent", 1, true, "{message_id, seq, duplicate}"},
      {Command::kRefused, "REFUSED", "broker→agent", 1, true, "{message_id, code, message}"},
      {Command::kDeliver, "DELIVER", "broker→agent", 4, true,
       "{delivery, attempt, accepted_at, seq}, header bytes, signature, payload"},
      {Command::kDelivered, "DELIVERED", "agent→broker", 1, true,
       "{message_id, delivery, receipt_key, receipt_signature}"},
      {Command::kRejected, "REJECTED", "agent→broker", 1, true,
       "{message_id, delivery, code, message}"},
      {Command::kReceipt, "RECEIPT", "broker→agent", 1, true, "delivery receipt object"},
      {Command::kAck, "ACK", "agent→broker", 1, true, "{delivery}"},
      {Command::kHeartbeat, "HEARTBEAT", "both", 1, true, "{} (reserved for future fields)"},
      {Command::kQuery, "QUERY", "client→broker", 1, true, "{id, op, …}"},
      {Command::kResult, "RESULT", "broker→client", 1, true, "{id, ok, …}"},
      {Command::kError, "ERROR", "broker→peer", 1, true, "{code, message}"},
  };
  return kTable;
}

std::string_view CommandName(Command command) {
  return CommandTable()[static_cast<size_t>(command)].name;
}

std::optional<Command> CommandFromName(std::string_view name) {
  for (const CommandSpec& spec : CommandTable()) {
    if (spec.name == name) return spec.command;
  }
  return std::nullopt;
}

size_t JsonNestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<Message> Decode(const std::vector<std::string>& frames) {
  if (frames.size() < 2) return Status(Code::kProtocolError, "fewer than two frames");
  if (frames[0] != kVersion) return Status(Code::kProtocolError, "unsupported protocol version");
  std::optional<Command> command = CommandFromName(frames[1]);
  if (!command) return Status(Code::kProtocolError, "unknown command");
  const CommandSpec& spec = CommandTable()[static_cast<size_t>(*command)];
  if (frames.size() - 2 != spec.argument_count) {
    return Status(Code::kProtocolError, std::string(spec.name) + ": expected " +
                                            std::to_string(spec.argument_count) + " argument(s)");
  }
  Message message{*command, std::vector<std::string>(frames.begin() + 2, frames.end()), {}};
  if (spec.first_is_json) {
    if (JsonNestingDepth(frames[2]) > kMaxJsonDepth) {
      return Status(Code::kProtocolError, std::string(spec.name) + ": JSON nested too deeply");
    }
    message.object = nlohmann::json::parse(frames[2], nullptr, /*allow_exceptions=*/false);
    if (!message.object.is_object()) {
      return Status(Code::kProtocolError,
                    std::string(spec.name) + ": argument is not a JSON object");
    }
  }
  return message;
}

std::vector<std::string> Encode(Command command, std::vector<std::string> arguments) {
  std::vector<std::string> frames;
  frames.reserve(arguments.size() + 2);
  frames.emplace_back(kVersion);
  frames.emplace_back(CommandName(command));
  for (std::string& argument : arguments) frames.push_back(std::move(argument));
  return frames;
}

}  // namespace stafett::core::protocol
