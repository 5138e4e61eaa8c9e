// KeySet: one principal's keys (CURVE transport, X25519 encryption, Ed25519 signing) and the
// files that hold them: <key_id>.secret.json (mode 0600, refused when group or others may read
// it) and <key_id>.public.json. Also the county pseudonym key file. docs/DESIGN.md, "Keys".
// Thread-safety: values and free functions; no shared state.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/pseudonym.h"
#include "stafett/core/status.h"

namespace stafett::keys {

struct KeySet {
  std::string principal;
  std::string key_id;  // 16 hex: core::KeyIdOf(transport, encryption, signing)
  core::Micros created = 0, valid_from = 0, valid_until = 0;
  core::TransportKeyPair transport;
  core::BoxKeyPair encryption;
  core::SigningKeyPair signing;
};

// Fresh keys for PRINCIPAL, valid in [VALID_FROM, VALID_UNTIL).
core::Result<KeySet> GenerateKeySet(const std::string& principal, core::Micros valid_from,
                                    core::Micros valid_until);

// Writes <key_id>.secret.json (created exclusively with mode 0600, fsynced) and
// <key_id>.public.json into DIR, which must exist.
core::Status WriteKeySet(const KeySet& key_set, const std::filesystem::path& dir);

// Loads a secret key file; refuses group/other permissions, malformed JSON, wrong key lengths,
// public keys that do not match their secrets, and a key_id that does not match the keys.
core::Result<KeySet> LoadSecretKeyFile(const std::filesystem::path& file);

// Every *.secret.json in DIR, the newest valid_from first (the current set for signing).
core::Result<std::vector<KeySet>> LoadKeyDir(const std::filesystem::path& dir);

// The public half as the directory's key entry JSON.
std::string PublicKeyFileJson(const KeySet& key_set);

// kKeyInvalid when FILE is readable or writable by group or others.
core::Status CheckSecretFileMode(const std::filesystem::path& file);

// The county pseudonym key: 64 hex characters and a newline, mode 0600.
core::Status WritePseudonymKeyFile(const std::filesystem::path& file, const core::PseudonymKey& key);
core::Result<core::PseudonymKey> LoadPseudonymKeyFile(const std::filesystem::path& file);

}  // namespace stafett::keys
