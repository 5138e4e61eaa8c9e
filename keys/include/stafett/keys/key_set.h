// KeySet: one principal's keys (CURVE transport, X25519 encryption, Ed25519 signing) and the
// files that hold them: <key_id>.secret.json (mode 0600, refused when group or others may access
// it) and <key_id>.public.json. docs/DESIGN.md, "Keys"; keys/README.md for handling.
// Thread-safety: values and free functions; no shared state.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/status.h"
#include "stafett/keys/pseudonym_key_file.h"  // IWYU pragma: export (older includes)
#include "stafett/keys/secret_file.h"         // IWYU pragma: export (older includes)

namespace stafett::keys {

// Every principal gets all three key pairs (the encryption pair is used by endpoints only).
struct KeySet {
  std::string principal;
  std::string key_id;  // 16 hex: core::KeyIdOf(transport, encryption, signing)
  core::Micros created = 0, valid_from = 0, valid_until = 0;
  core::TransportKeyPair transport;
  core::BoxKeyPair encryption;
  core::SigningKeyPair signing;

  bool ValidAt(core::Micros now) const { return valid_from <= now && now < valid_until; }
};

// Fresh keys for PRINCIPAL, valid in [VALID_FROM, VALID_UNTIL) (times truncated to whole
// milliseconds, what survives the files' RFC 3339). kKeyInvalid for a bad id or empty period.
core::Result<KeySet> GenerateKeySet(const std::string& principal, core::Micros valid_from,
                                    core::Micros valid_until);

// Writes <key_id>.secret.json (created exclusively with mode 0600, fsynced) and
// <key_id>.public.json (0644) into DIR, which must exist.
core::Status WriteKeySet(const KeySet& key_set, const std::filesystem::path& dir);

// The secret file's path in DIR.
std::filesystem::path SecretKeyFilePath(const std::filesystem::path& dir, const KeySet& key_set);
// The public file's path in DIR.
std::filesystem::path PublicKeyFilePath(const std::filesystem::path& dir, const KeySet& key_set);

// Loads a secret key file; kKeyInvalid naming FILE for a mode open to group or others,
// malformed JSON, wrong key lengths, public keys that do not match their secrets, and a key_id
// that does not match the keys.
core::Result<KeySet> LoadSecretKeyFile(const std::filesystem::path& file);

// Every *.secret.json in DIR (rotation leaves several), newest valid_from (then created) first.
// kKeyInvalid when DIR is missing, holds none, holds one that does not load, or holds several
// principals.
core::Result<std::vector<KeySet>> LoadKeyDir(const std::filesystem::path& dir);

// Of KEY_SETS, the one valid at NOW with the latest valid_from (ties: the latest created) — what
// to sign with — or nullptr.
const KeySet* CurrentKeySet(const std::vector<KeySet>& key_sets, core::Micros now);

// The public key file's text: the secret file without its "secret" members.
std::string PublicKeyFileJson(const KeySet& key_set);

}  // namespace stafett::keys
