// Strict parsing of envelope header bytes: JSON -> typed Header, then the canonical-bytes check
// and field validation. Thread-safety: pure functions.
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"

namespace stafett::core {
namespace {

using Json = nlohmann::json;

// Reads typed members of one JSON object; the first fault is kept and later reads are no-ops.
class MemberReader {
 public:
  MemberReader(const Json& object, std::string_view where) : object_(object), where_(where) {}

  // Fails on any member not in `allowed`.
  void OnlyMembers(std::initializer_list<std::string_view> allowed) {
    for (const auto& [name, value] : object_.items()) {
      bool known = false;
      for (std::string_view candidate : allowed) known = known || name == candidate;
      if (!known) Fail("unknown member");
    }
  }

  bool Has(const char* name) const { return object_.contains(name); }

  const Json* Member(const char* name, Json::value_t type) {
    auto it = object_.find(name);
    if (it == object_.end()) {
      Fail(std::string("missing ") + name);
      return nullptr;
    }
    if (it->type() != type) {
      Fail(std::string("wrong type for ") + name);
      return nullptr;
    }
    return &*it;
  }

  std::string String(const char* name) {
    const Json* value = Member(name, Json::value_t::string);
    return value ? value->get<std::string>() : std::string();
  }

  std::vector<std::string> Strings(const char* name) {
    std::vector<std::string> out;
    const Json* value = Member(name, Json::value_t::array);
    if (!value) return out;
    for (const Json& entry : *value) {
      if (!entry.is_string()) {
        Fail(std::string("wrong type in ") + name);
        return {};
      }
      out.push_back(entry.get<std::string>());
    }
    return out;
  }

  uint64_t Unsigned(const char* name) {
    const Json* value = Member(name, Json::value_t::number_unsigned);
    return value ? value->get<uint64_t>() : 0;
  }

  Micros Time(const char* name) {
    std::optional<Micros> time = ParseRfc3339(String(name));
    if (!time) {
      Fail(std::string("bad time in ") + name);
      return 0;
    }
    return *time;
  }

  std::string Base64(const char* name) {
    std::optional<std::string> bytes = FromBase64(String(name));
    if (!bytes) {
      Fail(std::string("bad base64 in ") + name);
      return {};
    }
    return *bytes;
  }

  const Status& FirstFault() const { return status_; }

 private:
  // Keeps only the first fault: later ones are usually its consequences.
  void Fail(const std::string& why) {
    if (status_.ok()) status_ = Status(Code::kSchemaInvalid, "header: " + where_ + why);
  }

  const Json& object_;
  std::string where_;
  Status status_;
};

Status ReadConsent(const Json& json, ConsentScope* scope) {
  if (!json.is_object()) return Status(Code::kSchemaInvalid, "header: consent must be an object");
  MemberReader reader(json, "consent: ");
  reader.OnlyMembers({"parties", "purposes", "valid_from", "valid_until"});
  scope->parties = reader.Strings("parties");
  scope->purposes = reader.Strings("purposes");
  scope->valid_from = reader.Time("valid_from");
  scope->valid_until = reader.Time("valid_until");
  return reader.FirstFault();
}

Status ReadPayload(const Json& json, Header* header) {
  if (!json.is_object()) return Status(Code::kSchemaInvalid, "header: payload must be an object");
  MemberReader reader(json, "payload: ");
  reader.OnlyMembers({"size", "digest"});
  header->payload_size = reader.Unsigned("size");
  header->payload_digest = reader.Base64("digest");
  return reader.FirstFault();
}

Status ReadKeys(const Json& json, Header* header) {
  if (!json.is_array()) return Status(Code::kSchemaInvalid, "header: keys must be an array");
  for (const Json& entry : json) {
    if (!entry.is_object()) return Status(Code::kSchemaInvalid, "header: keys entry not an object");
    MemberReader reader(entry, "keys: ");
    reader.OnlyMembers({"to", "key_id", "wrapped"});
    WrappedKey key;
    key.recipient = reader.String("to");
    key.key_id = reader.String("key_id");
    key.sealed = reader.Base64("wrapped");
    STAFETT_RETURN_IF_ERROR(reader.FirstFault());
    header->keys.push_back(std::move(key));
  }
  return Status::Ok();
}

// JSON object -> Header, checking members and their types (not their values).
Status ReadHeader(const Json& json, Header* header) {
  MemberReader reader(json, "");
  reader.OnlyMembers({"v", "message_id", "type", "from", "to", "subject", "consent_id", "consent",
                      "ref", "sent_at", "expires_at", "payload", "sender_key", "keys"});
  header->message_id = reader.String("message_id");
  header->type = reader.String("type");
  header->from = reader.String("from");
  header->to = reader.Strings("to");
  header->subject = reader.String("subject");
  if (reader.Has("consent_id")) header->consent_id = reader.String("consent_id");
  if (reader.Has("ref")) header->ref = reader.String("ref");
  header->sent_at = reader.Time("sent_at");
  header->expires_at = reader.Time("expires_at");
  header->sender_key_id = reader.String("sender_key");
  const Json* payload = reader.Member("payload", Json::value_t::object);
  const Json* keys = reader.Member("keys", Json::value_t::array);
  STAFETT_RETURN_IF_ERROR(reader.FirstFault());
  if (json.contains("consent")) {
    header->consent.emplace();
    STAFETT_RETURN_IF_ERROR(ReadConsent(json["consent"], &*header->consent));
  }
  STAFETT_RETURN_IF_ERROR(ReadPayload(*payload, header));
  return ReadKeys(*keys, header);
}

}  // namespace

Result<Header> ParseHeader(std::string_view header_bytes) {
  if (header_bytes.size() > kMaxHeaderBytes) {
    return Status(Code::kTooLarge, "header: larger than 64 KiB");
  }
  const Json json = Json::parse(header_bytes.begin(), header_bytes.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Status(Code::kProtocolError, "header: not a JSON object");
  }
  auto version = json.find("v");
  if (version == json.end() || !version->is_number_unsigned() ||
      version->get<uint64_t>() != static_cast<uint64_t>(kEnvelopeVersion)) {
    return Status(Code::kProtocolError, "header: missing or unsupported version");
  }
  Header header;
  STAFETT_RETURN_IF_ERROR(ReadHeader(json, &header));
  if (SerializeHeader(header) != header_bytes) {
    return Status(Code::kProtocolError, "header: not in canonical form");
  }
  STAFETT_RETURN_IF_ERROR(ValidateHeader(header));
  return header;
}

}  // namespace stafett::core
