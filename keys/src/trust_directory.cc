// TrustDirectory: strict parsing, validation, lookups and rotation.
#include "stafett/keys/trust_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "stafett/core/encoding.h"
#include "stafett/core/ids.h"

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

Status Bad(const std::string& origin, const std::string& problem) {
  return Status(Code::kConfigInvalid, origin + ": " + problem);
}

core::Result<PublicKeys> ParseKeys(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) return Status(Code::kConfigInvalid, where + ": not an object");
  PublicKeys keys;
  keys.key_id = json.value("key_id", "");
  std::optional<std::string> transport = core::FromZ85(json.value("transport", ""));
  std::optional<std::string> encryption = core::FromBase64(json.value("encryption", ""));
  std::optional<std::string> signing = core::FromBase64(json.value("signing", ""));
  std::optional<core::Micros> from = core::ParseRfc3339(json.value("valid_from", ""));
  std::optional<core::Micros> until = core::ParseRfc3339(json.value("valid_until", ""));
  if (!transport || transport->size() != 32) {
    return Status(Code::kConfigInvalid, where + ": transport must be a 40-character Z85 key");
  }
  if (!signing || signing->size() != 32) {
    return Status(Code::kConfigInvalid, where + ": signing must be a base64 32-byte key");
  }
  if (json.contains("encryption") && (!encryption || encryption->size() != 32)) {
    return Status(Code::kConfigInvalid, where + ": encryption must be a base64 32-byte key");
  }
  if (!from || !until || *from >= *until) {
    return Status(Code::kConfigInvalid, where + ": valid_from/valid_until missing or empty");
  }
  keys.transport = *transport;
  keys.encryption = encryption.value_or("");
  keys.signing = *signing;
  keys.valid_from = *from;
  keys.valid_until = *until;
  std::string expected = core::KeyIdOf(keys.transport, keys.encryption, keys.signing);
  if (keys.key_id != expected) {
    return Status(Code::kConfigInvalid, where + ": key_id does not match the keys");
  }
  return keys;
}

nlohmann::json KeysToJson(const PublicKeys& keys) {
  nlohmann::json json = {{"key_id", keys.key_id},
                         {"transport", core::ToZ85(keys.transport)},
                         {"signing", core::ToBase64(keys.signing)},
                         {"valid_from", core::FormatRfc3339(keys.valid_from)},
                         {"valid_until", core::FormatRfc3339(keys.valid_until)}};
  if (!keys.encryption.empty()) json["encryption"] = core::ToBase64(keys.encryption);
  return json;
}

PublicKeys PublicOf(const KeySet& key_set) {
  return PublicKeys{key_set.key_id,          key_set.transport.public_key,
                    key_set.encryption.public_key, key_set.signing.public_key,
                    key_set.valid_from,      key_set.valid_until};
}

}  // namespace

std::string_view RoleName(Role role) {
  for (const RoleRow& row : kRoles) {
    if (row.role == role) return row.name;
  }
  return "unknown";
}

core::Result<TrustDirectory> TrustDirectory::Load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Bad(file.string(), "cannot read the trust directory");
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), file.string());
}

core::Result<TrustDirectory> TrustDirectory::Parse(const std::string& text,
                                                   const std::string& origin) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return Bad(origin, "not a JSON object");
  if (json.value("version", 0) != 1) return Bad(origin, "unsupported version (expected 1)");
  if (!json.contains("principals") || !json["principals"].is_array()) {
    return Bad(origin, "principals must be a list");
  }
  TrustDirectory directory;
  directory.county_ = json.value("county", "");
  size_t index = 0;
  for (const nlohmann::json& item : json["principals"]) {
    std::string where = origin + ": principals[" + std::to_string(index++) + "]";
    if (!item.is_object()) return Status(Code::kConfigInvalid, where + ": not an object");
    Principal principal;
    principal.id = item.value("id", "");
    std::optional<Role> role = RoleFromName(item.value("role", ""));
    if (!role) return Status(Code::kConfigInvalid, where + ": unknown role");
    principal.role = *role;
    principal.kind = item.value("kind", "");
    principal.municipality = item.value("municipality", "");
    principal.name = item.value("name", "");
    if (!item.contains("keys") || !item["keys"].is_array() || item["keys"].empty()) {
      return Status(Code::kConfigInvalid, where + ": keys must be a non-empty list");
    }
    for (size_t k = 0; k < item["keys"].size(); ++k) {
      core::Result<PublicKeys> keys =
          ParseKeys(item["keys"][k], where + ".keys[" + std::to_string(k) + "]");
      if (!keys.ok()) return keys.status();
      principal.keys.push_back(std::move(keys).value());
    }
    directory.principals_.push_back(std::move(principal));
  }
  STAFETT_RETURN_IF_ERROR(directory.Validate(origin));
  return directory;
}

Status TrustDirectory::Validate(const std::string& origin) const {
  std::set<std::string> ids, key_ids, transports;
  size_t brokers = 0;
  for (const Principal& principal : principals_) {
    std::string where = origin + ": " + principal.id;
    if (principal.role == Role::kEndpoint) {
      if (!core::IsValidEndpointId(principal.id)) return Bad(origin, "invalid endpoint id");
      if (principal.kind != "school" && principal.kind != "social" && principal.kind != "health") {
        return Status(Code::kConfigInvalid, where + ": kind must be school, social or health");
      }
      for (const PublicKeys& keys : principal.keys) {
        if (keys.encryption.size() != 32) {
          return Status(Code::kConfigInvalid, where + ": an endpoint needs an encryption key");
        }
      }
    } else if (!core::IsValidPrincipalId(principal.id)) {
      return Bad(origin, "invalid principal id");
    }
    brokers += principal.role == Role::kBroker ? 1 : 0;
    if (!ids.insert(principal.id).second) return Status(Code::kConfigInvalid, where + ": duplicate id");
    for (const PublicKeys& keys : principal.keys) {
      if (!key_ids.insert(keys.key_id).second) {
        return Status(Code::kConfigInvalid, where + ": duplicate key_id " + keys.key_id);
      }
      if (!transports.insert(keys.transport).second) {
        return Status(Code::kConfigInvalid, where + ": a transport key is used twice");
      }
    }
  }
  if (brokers > 1) return Bad(origin, "more than one broker");
  return Status::Ok();
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

Status TrustDirectory::Save(const std::filesystem::path& file) const {
  std::filesystem::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << ToJson().dump(2) << "\n";
    if (!out) return Status(Code::kIoError, temp.string() + ": cannot write");
  }
  int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code error;
  std::filesystem::rename(temp, file, error);
  if (error) return Status(Code::kIoError, file.string() + ": " + error.message());
  return Status::Ok();
}

const Principal* TrustDirectory::Find(std::string_view id) const {
  for (const Principal& principal : principals_) {
    if (principal.id == id) return &principal;
  }
  return nullptr;
}

const Principal* TrustDirectory::FindByTransportKey(std::string_view raw_key,
                                                    core::Micros now) const {
  for (const Principal& principal : principals_) {
    for (const PublicKeys& keys : principal.keys) {
      if (keys.transport == raw_key && keys.ValidAt(now)) return &principal;
    }
  }
  return nullptr;
}

const PublicKeys* TrustDirectory::KeyById(std::string_view principal, std::string_view key_id) const {
  const Principal* found = Find(principal);
  if (found == nullptr) return nullptr;
  for (const PublicKeys& keys : found->keys) {
    if (keys.key_id == key_id) return &keys;
  }
  return nullptr;
}

const PublicKeys* TrustDirectory::CurrentKeys(std::string_view principal, core::Micros now) const {
  const Principal* found = Find(principal);
  if (found == nullptr) return nullptr;
  const PublicKeys* best = nullptr;
  for (const PublicKeys& keys : found->keys) {
    if (keys.ValidAt(now) && (best == nullptr || keys.valid_from > best->valid_from)) best = &keys;
  }
  return best;
}

std::vector<const Principal*> TrustDirectory::Endpoints() const {
  std::vector<const Principal*> endpoints;
  for (const Principal& principal : principals_) {
    if (principal.role == Role::kEndpoint) endpoints.push_back(&principal);
  }
  return endpoints;
}

Status TrustDirectory::AddPrincipal(Principal principal, const KeySet& key_set) {
  principal.keys = {PublicOf(key_set)};
  principals_.push_back(std::move(principal));
  Status valid = Validate("trust directory");
  if (!valid.ok()) principals_.pop_back();
  return valid;
}

Status TrustDirectory::Rotate(const KeySet& key_set, core::Micros old_valid_until) {
  for (Principal& principal : principals_) {
    if (principal.id != key_set.principal) continue;
    std::vector<PublicKeys> before = principal.keys;
    for (PublicKeys& keys : principal.keys) {
      keys.valid_until = std::min(keys.valid_until, std::max(old_valid_until, keys.valid_from + 1));
    }
    principal.keys.push_back(PublicOf(key_set));
    Status valid = Validate("trust directory");
    if (!valid.ok()) principal.keys = std::move(before);
    return valid;
  }
  return Status(Code::kNotFound, "no principal " + key_set.principal + " in the directory");
}

}  // namespace stafett::keys
