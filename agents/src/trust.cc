// Trust: reading trust/directory.json and the endpoint's secret key files (docs/DESIGN.md).
#include "trust.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "stafett/core/encoding.h"

namespace stafett::agent {

using core::Code;
using core::Status;

namespace {

core::Result<nlohmann::json> ReadJson(const std::filesystem::path& file, Code code) {
  std::ifstream in(file);
  if (!in) return Status(code, file.string() + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (!parsed.is_object()) return Status(code, file.string() + ": not a JSON object");
  return parsed;
}

std::string Decode32(const nlohmann::json& value, bool z85) {
  if (!value.is_string()) return "";
  std::optional<std::string> raw =
      z85 ? core::FromZ85(value.get<std::string>()) : core::FromBase64(value.get<std::string>());
  return raw && raw->size() == 32 ? *raw : "";
}

core::Micros Time(const nlohmann::json& object, const char* key, core::Micros fallback) {
  if (!object.contains(key) || !object[key].is_string()) return fallback;
  return core::ParseRfc3339(object[key].get<std::string>()).value_or(fallback);
}

core::Result<OwnKeySet> LoadSecretFile(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    return Status(Code::kKeyInvalid, file.string() + ": cannot read");
  }
  if ((info.st_mode & 077) != 0) {
    return Status(Code::kKeyInvalid, file.string() + ": readable or writable by group or others");
  }
  core::Result<nlohmann::json> loaded = ReadJson(file, Code::kKeyInvalid);
  if (!loaded.ok()) return loaded.status();
  const nlohmann::json& json = *loaded;
  auto invalid = [&](const std::string& what) {
    return Status(Code::kKeyInvalid, file.string() + ": " + what);
  };
  OwnKeySet set;
  set.principal = json.value("principal", "");
  set.key_id = json.value("key_id", "");
  set.valid_from = Time(json, "valid_from", 0);
  set.valid_until = Time(json, "valid_until", INT64_MAX);
  if (!json.contains("transport") || !json.contains("encryption") || !json.contains("signing")) {
    return invalid("needs transport, encryption and signing keys");
  }
  const nlohmann::json& transport = json["transport"];
  core::Result<core::TransportKeyPair> transport_pair =
      core::TransportKeyPair::FromSecretZ85(transport.value("secret", ""));
  if (!transport_pair.ok()) return invalid("bad transport secret");
  set.transport = std::move(transport_pair).value();
  std::optional<std::string> box = core::FromBase64(json["encryption"].value("secret", ""));
  if (!box) return invalid("bad encryption secret");
  core::Result<core::BoxKeyPair> box_pair = core::BoxKeyPair::FromSecret(*box);
  if (!box_pair.ok()) return invalid("bad encryption secret");
  set.encryption = std::move(box_pair).value();
  std::optional<std::string> signing = core::FromBase64(json["signing"].value("secret", ""));
  if (!signing) return invalid("bad signing secret");
  core::Result<core::SigningKeyPair> signing_pair =
      signing->size() == 32 ? core::SigningKeyPair::FromSeed(*signing)
                            : core::SigningKeyPair::FromSecret(*signing);
  if (!signing_pair.ok()) return invalid("bad signing secret");
  set.signing = std::move(signing_pair).value();
  std::string expected =
      core::KeyIdOf(set.transport.public_key, set.encryption.public_key, set.signing.public_key);
  if (set.key_id != expected) return invalid("key_id does not match the keys");
  return set;
}

}  // namespace

core::Result<Trust> Trust::Load(const std::filesystem::path& directory_file,
                                const std::filesystem::path& keys_dir, const std::string& self_id) {
  Trust trust;
  core::Result<nlohmann::json> directory = ReadJson(directory_file, Code::kConfigInvalid);
  if (!directory.ok()) return directory.status();
  if (!directory->contains("principals") || !(*directory)["principals"].is_array()) {
    return Status(Code::kConfigInvalid, directory_file.string() + ": no principals");
  }
  for (const nlohmann::json& entry : (*directory)["principals"]) {
    if (!entry.is_object()) continue;
    DirectoryPrincipal principal{
        entry.value("id", ""), entry.value("role", ""), entry.value("kind", ""), {}};
    if (entry.contains("keys") && entry["keys"].is_array()) {
      for (const nlohmann::json& key : entry["keys"]) {
        if (!key.is_object()) continue;
        principal.keys.push_back(DirectoryKey{
            key.value("key_id", ""), Decode32(key.value("transport", nlohmann::json()), true),
            Decode32(key.value("encryption", nlohmann::json()), false),
            Decode32(key.value("signing", nlohmann::json()), false), Time(key, "valid_from", 0),
            Time(key, "valid_until", INT64_MAX)});
      }
    }
    trust.principals_.push_back(std::move(principal));
  }
  const DirectoryPrincipal* self = trust.Find(self_id);
  if (self == nullptr || self->role != "endpoint") {
    return Status(Code::kConfigInvalid,
                  directory_file.string() + ": endpoint " + self_id + " is not in the directory");
  }
  std::error_code error;
  std::filesystem::directory_iterator files(keys_dir, error);
  if (error) return Status(Code::kKeyInvalid, keys_dir.string() + ": " + error.message());
  for (const auto& file : files) {
    std::string name = file.path().filename().string();
    if (!name.ends_with(".secret.json")) continue;
    core::Result<OwnKeySet> set = LoadSecretFile(file.path());
    if (!set.ok()) return set.status();
    if (set->principal != self_id) {
      return Status(Code::kKeyInvalid, file.path().string() + ": belongs to " + set->principal);
    }
    if (trust.KeyById(self_id, set->key_id) == nullptr) {
      return Status(Code::kKeyInvalid,
                    file.path().string() + ": key_id is not in the trust directory");
    }
    trust.own_.push_back(std::move(set).value());
  }
  if (trust.own_.empty()) {
    return Status(Code::kKeyInvalid, keys_dir.string() + ": no *.secret.json key file");
  }
  std::sort(trust.own_.begin(), trust.own_.end(),
            [](const OwnKeySet& a, const OwnKeySet& b) { return a.valid_from > b.valid_from; });
  return trust;
}

const DirectoryPrincipal* Trust::Find(const std::string& id) const {
  for (const DirectoryPrincipal& principal : principals_) {
    if (principal.id == id) return &principal;
  }
  return nullptr;
}

bool Trust::IsEndpoint(const std::string& id) const {
  const DirectoryPrincipal* principal = Find(id);
  return principal != nullptr && principal->role == "endpoint";
}

core::Result<core::RecipientKey> Trust::CurrentEncryptionKey(const std::string& id,
                                                             core::Micros now) const {
  const DirectoryPrincipal* principal = Find(id);
  if (principal == nullptr || principal->role != "endpoint") {
    return Status(Code::kUnknownRecipient, "unknown recipient " + id);
  }
  const DirectoryKey* best = nullptr;
  for (const DirectoryKey& key : principal->keys) {
    if (key.encryption.empty() || now < key.valid_from || now >= key.valid_until) continue;
    if (best == nullptr || key.valid_from > best->valid_from) best = &key;
  }
  if (best == nullptr) return Status(Code::kUnknownRecipient, "no valid key for recipient " + id);
  return core::RecipientKey{id, best->key_id, best->encryption};
}

const DirectoryKey* Trust::KeyById(const std::string& id, const std::string& key_id) const {
  const DirectoryPrincipal* principal = Find(id);
  if (principal == nullptr) return nullptr;
  for (const DirectoryKey& key : principal->keys) {
    if (key.key_id == key_id) return &key;
  }
  return nullptr;
}

core::Result<std::string> Trust::BrokerTransportKey(core::Micros now) const {
  const DirectoryKey* best = nullptr;
  for (const DirectoryPrincipal& principal : principals_) {
    if (principal.role != "broker") continue;
    for (const DirectoryKey& key : principal.keys) {
      if (key.transport.empty() || now < key.valid_from || now >= key.valid_until) continue;
      if (best == nullptr || key.valid_from > best->valid_from) best = &key;
    }
  }
  if (best == nullptr) return Status(Code::kConfigInvalid, "no valid broker key in the directory");
  return best->transport;
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
