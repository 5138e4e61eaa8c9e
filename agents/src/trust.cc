// Trust: the keys module's directory and key files, seen from one endpoint.
#include "trust.h"

namespace stafett::agent {

using core::Code;
using core::Status;

core::Result<Trust> Trust::Load(const std::filesystem::path& directory_file,
                                const std::filesystem::path& keys_dir, const std::string& self_id) {
  Trust trust;
  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(directory_file);
  if (!directory.ok()) return directory.status();
  trust.directory_ = std::move(directory).value();
  const keys::Principal* self = trust.directory_.Find(self_id);
  if (self == nullptr || self->role != keys::Role::kEndpoint) {
    return Status(Code::kConfigInvalid,
                  directory_file.string() + ": endpoint " + self_id + " is not in the directory");
  }
  core::Result<std::vector<keys::KeySet>> own = keys::LoadKeyDir(keys_dir);
  if (!own.ok()) return own.status();
  if (own->empty()) {
    return Status(Code::kKeyInvalid, keys_dir.string() + ": no *.secret.json key file");
  }
  for (const keys::KeySet& set : *own) {
    if (set.principal != self_id) {
      return Status(Code::kKeyInvalid,
                    keys_dir.string() + ": key set " + set.key_id + " belongs to " + set.principal);
    }
    if (trust.directory_.KeyById(self_id, set.key_id) == nullptr) {
      return Status(Code::kKeyInvalid,
                    keys_dir.string() + ": key set " + set.key_id + " is not in the directory");
    }
  }
  trust.own_ = std::move(own).value();
  return trust;
}

bool Trust::IsEndpoint(const std::string& id) const {
  const keys::Principal* principal = directory_.Find(id);
  return principal != nullptr && principal->role == keys::Role::kEndpoint;
}

std::string Trust::EndpointKind(const std::string& id) const {
  const keys::Principal* principal = directory_.Find(id);
  if (principal == nullptr || principal->role != keys::Role::kEndpoint) return "";
  return principal->kind;
}

core::Result<core::RecipientKey> Trust::CurrentEncryptionKey(const std::string& id,
                                                             core::Micros now) const {
  if (!IsEndpoint(id)) return Status(Code::kUnknownRecipient, "unknown recipient " + id);
  const keys::PublicKeys* current = directory_.CurrentKeys(id, now);
  if (current == nullptr || current->encryption.size() != 32) {
    return Status(Code::kUnknownRecipient, "no valid key for recipient " + id);
  }
  return core::RecipientKey{id, current->key_id, current->encryption};
}

const DirectoryKey* Trust::KeyById(const std::string& id, const std::string& key_id) const {
  return directory_.KeyById(id, key_id);
}

core::Result<std::string> Trust::BrokerTransportKey(core::Micros now) const {
  for (const keys::Principal& principal : directory_.principals()) {
    if (principal.role != keys::Role::kBroker) continue;
    const keys::PublicKeys* current = directory_.CurrentKeys(principal.id, now);
    if (current != nullptr && current->transport.size() == 32) return current->transport;
  }
  return Status(Code::kConfigInvalid, "no valid broker key in the trust directory");
}

const OwnKeySet& Trust::CurrentOwn(core::Micros now) const {
  for (const OwnKeySet& set : own_) {
    if (now >= set.valid_from && now < set.valid_until) return set;
  }
  return own_.front();
}

const OwnKeySet* Trust::OwnById(const std::string& key_id) const {
  for (const OwnKeySet& set : own_) {
    if (set.key_id == key_id) return &set;
  }
  return nullptr;
}

}  // namespace stafett::agent
