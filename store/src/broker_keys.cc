// Broker store key builders.
#include "broker_keys.h"

#include "stafett/core/records/key_encoding.h"

namespace stafett::store::keys {

std::string QueuePrefix(std::string_view endpoint) {
  std::string key(endpoint);
  key.push_back('\0');
  return key;
}

std::string Queue(std::string_view endpoint, uint64_t queue_seq) {
  std::string key = QueuePrefix(endpoint);
  core::AppendBigEndian64(queue_seq, &key);
  return key;
}

std::string Expiry(core::Micros expires_at, std::string_view message_id) {
  std::string key = core::BigEndian64(static_cast<uint64_t>(expires_at));
  key.append(message_id);
  return key;
}

std::string Merkle(uint32_t level, uint64_t index) {
  std::string key(1, static_cast<char>(level));
  core::AppendBigEndian64(index, &key);
  return key;
}

std::string DeadLetter(std::string_view message_id, std::string_view recipient) {
  std::string key(message_id);
  key.push_back('\0');
  key.append(recipient);
  return key;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

}  // namespace stafett::store::keys
