// TrustDirectory <-> JSON: the strict parser and the writer of trust/directory.json
// (docs/DESIGN.md, "The trust directory"). Every malformed member is an error naming its place.
// Thread-safety: Parse builds a new object; ToJson only reads.
#include <optional>

#include "json_fields.h"
#include "stafett/core/encoding.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::keys {

using core::Code;
using core::Status;

namespace {

struct RoleRow {
  Role role;
  std::string_view name;
};
constexpr RoleRow kRoles[] = {{Role::kBroker, "broker"},
                              {Role::kEndpoint, "endpoint"},
                              {Role::kAuditor, "auditor"},
                              {Role::kOperator, "operator"}};

std::optional<Role> RoleFromName(std::string_view name) {
  for (const RoleRow& row : kRoles) {
    if (row.name == name) return row.role;
  }
  return std::nullopt;
}

Status Bad(const std::string& where, const std::string& problem) {
  return Status(Code::kConfigInvalid, where + ": " + problem);
}

core::Result<std::string> Text(const nlohmann::json& object, const char* name,
                               const std::string& where) {
  return internal::StringMember(object, name, where, Code::kConfigInvalid);
}

// A raw 32-byte key from member NAME, decoded with DECODE; "" when absent and not REQUIRED.
template <typename Decode>
core::Result<std::string> KeyMember(const nlohmann::json& object, const char* name,
                                    const std::string& where, bool required, Decode decode,
                                    const char* form) {
  if (!object.contains(name)) {
    if (!required) return std::string();
    return Bad(where, std::string(name) + " is missing");
  }
  core::Result<std::string> text = Text(object, name, where);
  if (!text.ok()) return text.status();
  std::optional<std::string> raw = decode(*text);
  if (!raw || raw->size() != 32) return Bad(where, std::string(name) + " must be " + form);
  return *raw;
}

core::Result<PublicKeys> ParseKeys(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) return Bad(where, "not an object");
  PublicKeys keys;
  core::Result<std::string> key_id = Text(json, "key_id", where);
  if (!key_id.ok()) return key_id.status();
  auto z85 = [](const std::string& text) { return core::FromZ85(text); };
  auto base64 = [](const std::string& text) { return core::FromBase64(text); };
  core::Result<std::string> transport =
      KeyMember(json, "transport", where, true, z85, "a 40-character Z85 key");
  if (!transport.ok()) return transport.status();
  core::Result<std::string> encryption =
      KeyMember(json, "encryption", where, false, base64, "a base64 32-byte key");
  if (!encryption.ok()) return encryption.status();
  core::Result<std::string> signing =
      KeyMember(json, "signing", where, true, base64, "a base64 32-byte key");
  if (!signing.ok()) return signing.status();
  core::Result<core::Micros> from =
      internal::TimeMember(json, "valid_from", where, Code::kConfigInvalid);
  if (!from.ok()) return from.status();
  core::Result<core::Micros> until =
      internal::TimeMember(json, "valid_until", where, Code::kConfigInvalid);
  if (!until.ok()) return until.status();
  if (*from >= *until) return Bad(where, "valid_from is not before valid_until");
  keys.key_id = *key_id;
  keys.transport = *transport;
  keys.encryption = *encryption;
  keys.signing = *signing;
  keys.valid_from = *from;
  keys.valid_until = *until;
  if (keys.key_id != core::KeyIdOf(keys.transport, keys.encryption, keys.signing)) {
    return Bad(where, "key_id " + keys.key_id + " does not match the keys");
  }
  return keys;
}

core::Result<Principal> ParsePrincipal(const nlohmann::json& item, const std::string& where) {
  if (!item.is_object()) return Bad(where, "not an object");
  Principal principal;
  core::Result<std::string> role = Text(item, "role", where);
  if (!role.ok()) return role.status();
  std::optional<Role> parsed_role = RoleFromName(*role);
  if (!parsed_role) {
    return Bad(where, "role must be broker, endpoint, auditor or operator");
  }
  principal.role = *parsed_role;
  for (auto [name, target] :
       {std::pair{"id", &principal.id}, std::pair{"kind", &principal.kind},
        std::pair{"municipality", &principal.municipality}, std::pair{"name", &principal.name}}) {
    core::Result<std::string> value = Text(item, name, where);
    if (!value.ok()) return value.status();
    *target = *value;
  }
  auto keys = item.find("keys");
  if (keys == item.end() || !keys->is_array() || keys->empty()) {
    return Bad(where, "keys must be a non-empty list");
  }
  for (size_t k = 0; k < keys->size(); ++k) {
    core::Result<PublicKeys> entry =
        ParseKeys((*keys)[k], where + ".keys[" + std::to_string(k) + "]");
    if (!entry.ok()) return entry.status();
    principal.keys.push_back(std::move(entry).value());
  }
  return principal;
}

nlohmann::json KeysToJson(const PublicKeys& keys) {
  nlohmann::json json = {{"key_id", keys.key_id}, {"transport", core::ToZ85(keys.transport)}};
  if (!keys.encryption.empty()) json["encryption"] = core::ToBase64(keys.encryption);
  json["signing"] = core::ToBase64(keys.signing);
  json["valid_from"] = core::FormatRfc3339(keys.valid_from);
  json["valid_until"] = core::FormatRfc3339(keys.valid_until);
  return json;
}

}  // namespace

std::string_view RoleName(Role role) {
  for (const RoleRow& row : kRoles) {
    if (row.role == role) return row.name;
  }
  return "unknown";
}

core::Result<TrustDirectory> TrustDirectory::Parse(const std::string& text,
                                                   const std::string& origin) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return Bad(origin, "not a JSON object");
  auto version = json.find("version");
  if (version == json.end() || !version->is_number_integer() || *version != 1) {
    return Bad(origin, "unsupported version (expected 1)");
  }
  TrustDirectory directory;
  core::Result<std::string> county = Text(json, "county", origin);
  if (!county.ok()) return county.status();
  directory.county_ = *county;
  auto principals = json.find("principals");
  if (principals == json.end() || !principals->is_array()) {
    return Bad(origin, "principals must be a list");
  }
  for (size_t index = 0; index < principals->size(); ++index) {
    core::Result<Principal> principal = ParsePrincipal(
        (*principals)[index], origin + ": principals[" + std::to_string(index) + "]");
    if (!principal.ok()) return principal.status();
    directory.principals_.push_back(std::move(principal).value());
  }
  STAFETT_RETURN_IF_ERROR(directory.Validate(origin));
  return directory;
}

nlohmann::json TrustDirectory::ToJson() const {
  nlohmann::json principals = nlohmann::json::array();
  for (const Principal& principal : principals_) {
    nlohmann::json item = {{"id", principal.id}, {"role", std::string(RoleName(principal.role))}};
    if (!principal.kind.empty()) item["kind"] = principal.kind;
    if (!principal.municipality.empty()) item["municipality"] = principal.municipality;
    if (!principal.name.empty()) item["name"] = principal.name;
    nlohmann::json keys = nlohmann::json::array();
    for (const PublicKeys& key : principal.keys) keys.push_back(KeysToJson(key));
    item["keys"] = keys;
    principals.push_back(item);
  }
  return {{"version", 1}, {"county", county_}, {"principals", principals}};
}

}  // namespace stafett::keys
