// Trust: what the agent needs from the trust directory and its own key sets (keys module) —
// the broker's transport key, recipients' current encryption keys, senders' signing keys by
// key id, and this endpoint's key sets (every secret file in keys_dir, for rotation).
// Thread-safety: immutable after Load(); concurrent reads are safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/status.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::agent {

using DirectoryKey = keys::PublicKeys;
using OwnKeySet = keys::KeySet;

class Trust {
 public:
  // Loads the directory and every *.secret.json in KEYS_DIR; checks that they belong to SELF_ID
  // and are in the directory. kConfigInvalid / kKeyInvalid with a one-line reason.
  static core::Result<Trust> Load(const std::filesystem::path& directory_file,
                                  const std::filesystem::path& keys_dir,
                                  const std::string& self_id);

  bool IsEndpoint(const std::string& id) const;
  // An endpoint's kind (school, social, health), or empty when ID is not an endpoint.
  std::string EndpointKind(const std::string& id) const;
  // The key set of endpoint ID valid now with the latest valid_from: whose encryption key new
  // messages are sealed to. kUnknownRecipient when none.
  core::Result<core::RecipientKey> CurrentEncryptionKey(const std::string& id,
                                                        core::Micros now) const;
  // A principal's key by id (any validity: older messages still verify), or nullptr.
  const DirectoryKey* KeyById(const std::string& id, const std::string& key_id) const;
  // The broker's current transport public key, raw 32 bytes.
  core::Result<std::string> BrokerTransportKey(core::Micros now) const;
  // This endpoint's newest key set valid now (or the newest at all), for signing and CURVE.
  const OwnKeySet& CurrentOwn(core::Micros now) const;
  // Own key set by id (for unwrapping), or nullptr.
  const OwnKeySet* OwnById(const std::string& key_id) const;

 private:
  keys::TrustDirectory directory_;
  std::vector<OwnKeySet> own_;  // newest valid_from first
};

}  // namespace stafett::agent
