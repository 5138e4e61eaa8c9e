// TrustDirectory: validation, loading and atomic saving, lookups, adding and rotating keys.
// Thread-safety: const members only read; mutators are for single-threaded tools.
#include "stafett/keys/trust_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "stafett/core/ids.h"
#include "stafett/keys/secret_file.h"

namespace stafett::keys {

using core::Code;
using core::Status;

namespace {

constexpr core::Micros kMillisecond = 1000;

Status Bad(const std::string& where, const std::string& problem) {
  return Status(Code::kConfigInvalid, where + ": " + problem);
}

bool IsLabel(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsKind(std::string_view kind) {
  return kind == "school" || kind == "social" || kind == "health";
}

Status ValidatePrincipal(const Principal& principal, const std::string& where) {
  if (principal.role != Role::kEndpoint) {
    if (!core::IsValidPrincipalId(principal.id)) {
      return Bad(where, "id \"" + principal.id + "\" is not a valid principal id ([a-z0-9.-]+)");
    }
    if (!principal.kind.empty()) return Bad(where, "only endpoints have a kind");
    return Status::Ok();
  }
  if (!core::IsValidEndpointId(principal.id)) {
    return Bad(where, "id \"" + principal.id + "\" is not a valid endpoint id (org.unit)");
  }
  if (!IsKind(principal.kind)) return Bad(where, "kind must be school, social or health");
  if (!principal.municipality.empty() && !IsLabel(principal.municipality)) {
    return Bad(where, "municipality must be lowercase [a-z0-9-]+");
  }
  for (const PublicKeys& keys : principal.keys) {
    if (keys.encryption.size() != core::kBoxPublicKeyBytes) {
      return Bad(where, "key " + keys.key_id + ": an endpoint needs an encryption key");
    }
  }
  return Status::Ok();
}

}  // namespace

Status TrustDirectory::Validate(const std::string& origin) const {
  std::set<std::string> ids, key_ids, transports;
  size_t brokers = 0;
  for (size_t index = 0; index < principals_.size(); ++index) {
    const Principal& principal = principals_[index];
    std::string where = origin + ": principals[" + std::to_string(index) + "]";
    STAFETT_RETURN_IF_ERROR(ValidatePrincipal(principal, where));
    where += " (" + principal.id + ")";
    if (principal.keys.empty()) return Bad(where, "has no keys");
    if (!ids.insert(principal.id).second) return Bad(where, "duplicate id");
    for (const PublicKeys& keys : principal.keys) {
      if (!key_ids.insert(keys.key_id).second) return Bad(where, "duplicate key_id " + keys.key_id);
      if (!transports.insert(keys.transport).second) {
        return Bad(where, "key " + keys.key_id + ": transport key already used in the directory");
      }
    }
    brokers += principal.role == Role::kBroker ? 1 : 0;
  }
  if (brokers > 1) return Bad(origin, "more than one broker");
  return Status::Ok();
}

core::Result<TrustDirectory> TrustDirectory::Load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Bad(file.string(), "cannot read the trust directory");
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), file.string());
}

Status TrustDirectory::Save(const std::filesystem::path& file) const {
  std::filesystem::path temp = file.string() + ".tmp";
  std::error_code ignored;
  std::filesystem::remove(temp, ignored);  // a leftover of an interrupted save
  STAFETT_RETURN_IF_ERROR(WriteNewFile(temp, ToJson().dump(2) + "\n", 0644));
  std::error_code error;
  std::filesystem::rename(temp, file, error);
  if (error) return Status(Code::kIoError, file.string() + ": " + error.message());
  std::filesystem::path parent = file.parent_path().empty() ? "." : file.parent_path();
  int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {  // make the rename durable
    ::fsync(fd);
    ::close(fd);
  }
  return Status::Ok();
}

const Principal* TrustDirectory::Find(std::string_view id) const {
  for (const Principal& principal : principals_) {
    if (principal.id == id) return &principal;
  }
  return nullptr;
}

TrustDirectory::TransportMatch TrustDirectory::MatchTransportKey(std::string_view raw_key,
                                                                 core::Micros now) const {
  for (const Principal& principal : principals_) {
    for (const PublicKeys& keys : principal.keys) {
      if (keys.transport == raw_key && keys.ValidAt(now)) return {&principal, &keys};
    }
  }
  return {};
}

const Principal* TrustDirectory::FindByTransportKey(std::string_view raw_key,
                                                    core::Micros now) const {
  return MatchTransportKey(raw_key, now).principal;
}

const PublicKeys* TrustDirectory::KeyById(std::string_view principal,
                                          std::string_view key_id) const {
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
    // On a tie the later entry wins: rotation appends.
    if (keys.ValidAt(now) && (best == nullptr || keys.valid_from >= best->valid_from)) best = &keys;
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

PublicKeys TrustDirectory::PublicPartOf(const KeySet& key_set) {
  return PublicKeys{key_set.key_id,
                    key_set.transport.public_key,
                    key_set.encryption.public_key,
                    key_set.signing.public_key,
                    key_set.valid_from,
                    key_set.valid_until};
}

Status TrustDirectory::AddPrincipal(Principal principal, const KeySet& key_set) {
  if (principal.id != key_set.principal) {
    return Bad("trust directory",
               "the key set belongs to " + key_set.principal + ", not " + principal.id);
  }
  principal.keys = {PublicPartOf(key_set)};
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
      // Whole milliseconds survive the file; a key never ends before it begins.
      core::Micros end =
          std::max(old_valid_until / kMillisecond * kMillisecond, keys.valid_from + kMillisecond);
      keys.valid_until = std::min(keys.valid_until, end);
    }
    principal.keys.push_back(PublicPartOf(key_set));
    Status valid = Validate("trust directory");
    if (!valid.ok()) principal.keys = std::move(before);
    return valid;
  }
  return Status(Code::kNotFound, "no principal " + key_set.principal + " in the trust directory");
}

}  // namespace stafett::keys
