// TrustDirectory: the county's registry of principals and their public keys (broker,
// endpoints, auditors, operators), loaded by broker, agents and CLI. docs/DESIGN.md.
// Thread-safety: immutable after Load(); concurrent reads are safe. Mutators are for tools.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"
#include "stafett/keys/key_set.h"

namespace stafett::keys {

enum class Role { kBroker, kEndpoint, kAuditor, kOperator };
std::string_view RoleName(Role role);

struct PublicKeys {
  std::string key_id;
  std::string transport;   // raw 32 bytes
  std::string encryption;  // raw 32 bytes
  std::string signing;     // raw 32 bytes
  core::Micros valid_from = 0, valid_until = 0;
  bool ValidAt(core::Micros now) const { return valid_from <= now && now < valid_until; }
};

struct Principal {
  std::string id;
  Role role = Role::kEndpoint;
  std::string kind;          // endpoints: school, social, health
  std::string municipality;  // endpoints
  std::string name;          // a display name of the unit (not a person)
  std::vector<PublicKeys> keys;
};

class TrustDirectory {
 public:
  // Reads and validates FILE. kConfigInvalid "FILE: principals[3].keys[0]: problem" etc.
  static core::Result<TrustDirectory> Load(const std::filesystem::path& file);
  // Parses TEXT; ORIGIN names it in errors.
  static core::Result<TrustDirectory> Parse(const std::string& text, const std::string& origin);
  nlohmann::json ToJson() const;
  // Writes atomically (temp file, fsync, rename), mode 0644.
  core::Status Save(const std::filesystem::path& file) const;

  const std::string& county() const { return county_; }
  void set_county(std::string county) { county_ = std::move(county); }
  const std::vector<Principal>& principals() const { return principals_; }

  const Principal* Find(std::string_view id) const;
  // The principal whose transport key is RAW_KEY and valid at NOW, or nullptr.
  const Principal* FindByTransportKey(std::string_view raw_key, core::Micros now) const;
  // The same, with the matching key entry; both nullptr when none matches.
  struct TransportMatch {
    const Principal* principal = nullptr;
    const PublicKeys* keys = nullptr;
  };
  TransportMatch MatchTransportKey(std::string_view raw_key, core::Micros now) const;
  // A key by id, whatever its validity (older messages still verify), or nullptr.
  const PublicKeys* KeyById(std::string_view principal, std::string_view key_id) const;
  // The key valid now with the latest valid_from (ties: the later entry), or nullptr.
  const PublicKeys* CurrentKeys(std::string_view principal, core::Micros now) const;
  // Endpoints in directory order.
  std::vector<const Principal*> Endpoints() const;

  // Adds a principal (id, role, kind, municipality, name) with KEY_SET's public keys; refuses
  // an invalid or duplicate id, kind, or key (kConfigInvalid) and leaves the directory unchanged.
  core::Status AddPrincipal(Principal principal, const KeySet& key_set);
  // Adds KEY_SET to its principal and ends the older keys' validity at OLD_VALID_UNTIL (never
  // extending it); kNotFound for an unknown principal. Unchanged on error.
  core::Status Rotate(const KeySet& key_set, core::Micros old_valid_until);

  // The directory entry for a key set's public half.
  static PublicKeys PublicPartOf(const KeySet& key_set);

 private:
  // Every rule a loaded directory must satisfy; errors name ORIGIN and the principal.
  core::Status Validate(const std::string& origin) const;
  std::string county_;
  std::vector<Principal> principals_;
};

}  // namespace stafett::keys
