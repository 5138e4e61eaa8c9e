// KeySet: generation, and the secret and public key files (docs/DESIGN.md, "Keys").
// Thread-safety: free functions; no shared state.
#include "stafett/keys/key_set.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "json_fields.h"
#include "stafett/core/encoding.h"
#include "stafett/core/ids.h"

namespace stafett::keys {

using core::Code;
using core::Status;

namespace {

constexpr std::string_view kSecretSuffix = ".secret.json";

Status Invalid(const std::filesystem::path& file, const std::string& problem) {
  return Status(Code::kKeyInvalid, file.string() + ": " + problem);
}

// The text member GROUP.MEMBER, "" when absent or not text.
std::string GroupText(const nlohmann::json& json, const char* group, const char* member) {
  const nlohmann::json* object = internal::ObjectMember(json, group);
  if (object == nullptr) return "";
  auto found = object->find(member);
  return found != object->end() && found->is_string() ? found->get<std::string>() : "";
}

// Overwrites the secret members of a parsed key file before it is destroyed.
void WipeSecrets(nlohmann::json* json) {
  for (const char* group : {"transport", "encryption", "signing"}) {
    auto object = json->find(group);
    if (object == json->end() || !object->is_object()) continue;
    auto secret = object->find("secret");
    if (secret == object->end() || !secret->is_string()) continue;
    std::string& text = secret->get_ref<std::string&>();
    std::fill(text.begin(), text.end(), '\0');
  }
}

// Decodes base64 TEXT that must hold SIZE bytes, into secret storage.
std::optional<core::SecretBytes> DecodeSecret(const std::string& text, size_t size) {
  std::optional<std::string> raw = core::FromBase64(text);
  if (!raw) return std::nullopt;
  std::optional<core::SecretBytes> secret;
  if (raw->size() == size) secret.emplace(*raw);
  std::fill(raw->begin(), raw->end(), '\0');
  return secret;
}

// The identity and validity members of a key file.
Status ParseHeader(const nlohmann::json& json, const std::filesystem::path& file, KeySet* out) {
  auto version = json.find("version");
  if (version == json.end() || !version->is_number_integer() || *version != 1) {
    return Invalid(file, "unsupported key file version (expected 1)");
  }
  const std::string where = file.string();
  core::Result<std::string> principal =
      internal::StringMember(json, "principal", where, Code::kKeyInvalid);
  if (!principal.ok()) return principal.status();
  if (!core::IsValidPrincipalId(*principal)) return Invalid(file, "principal missing or invalid");
  core::Result<std::string> key_id =
      internal::StringMember(json, "key_id", where, Code::kKeyInvalid);
  if (!key_id.ok()) return key_id.status();
  core::Result<core::Micros> from =
      internal::TimeMember(json, "valid_from", where, Code::kKeyInvalid);
  if (!from.ok()) return from.status();
  core::Result<core::Micros> until =
      internal::TimeMember(json, "valid_until", where, Code::kKeyInvalid);
  if (!until.ok()) return until.status();
  if (*from >= *until) return Invalid(file, "valid_from is not before valid_until");
  out->principal = *principal;
  out->key_id = *key_id;
  out->valid_from = *from;
  out->valid_until = *until;
  auto created = json.find("created");  // informational; not checked
  if (created != json.end() && created->is_string()) {
    out->created = core::ParseRfc3339(created->get<std::string>()).value_or(0);
  }
  return Status::Ok();
}

// The three key pairs from their secrets, checked against the stored public keys and key_id.
Status ParseKeyPairs(const nlohmann::json& json, const std::filesystem::path& file, KeySet* out) {
  core::Result<core::TransportKeyPair> transport =
      core::TransportKeyPair::FromSecretZ85(GroupText(json, "transport", "secret"));
  if (!transport.ok()) return Invalid(file, "transport.secret must be a 40-character Z85 key");
  std::optional<core::SecretBytes> box_secret =
      DecodeSecret(GroupText(json, "encryption", "secret"), core::kBoxSecretKeyBytes);
  if (!box_secret) return Invalid(file, "encryption.secret must be a base64 32-byte key");
  std::optional<core::SecretBytes> signing_secret =
      DecodeSecret(GroupText(json, "signing", "secret"), core::kSigningSecretKeyBytes);
  if (!signing_secret) return Invalid(file, "signing.secret must be a base64 64-byte key");
  core::Result<core::BoxKeyPair> box = core::BoxKeyPair::FromSecret(box_secret->view());
  core::Result<core::SigningKeyPair> signing =
      core::SigningKeyPair::FromSecret(signing_secret->view());
  if (!box.ok()) return Invalid(file, "encryption.secret is not a valid key");
  if (!signing.ok()) return Invalid(file, "signing.secret is not a valid Ed25519 key");
  out->transport = std::move(transport).value();
  out->encryption = std::move(box).value();
  out->signing = std::move(signing).value();
  if (GroupText(json, "transport", "public") != out->transport.PublicZ85()) {
    return Invalid(file, "transport.public does not match its secret key");
  }
  if (core::FromBase64(GroupText(json, "encryption", "public")) != out->encryption.public_key) {
    return Invalid(file, "encryption.public does not match its secret key");
  }
  if (core::FromBase64(GroupText(json, "signing", "public")) != out->signing.public_key) {
    return Invalid(file, "signing.public does not match its secret key");
  }
  if (out->key_id != core::KeyIdOf(out->transport.public_key, out->encryption.public_key,
                                   out->signing.public_key)) {
    return Invalid(file, "key_id does not match the keys");
  }
  return Status::Ok();
}

bool IsSecretFileName(const std::string& name) {
  return name.size() > kSecretSuffix.size() &&
         name.compare(name.size() - kSecretSuffix.size(), kSecretSuffix.size(), kSecretSuffix) == 0;
}

}  // namespace

core::Result<KeySet> GenerateKeySet(const std::string& principal, core::Micros valid_from,
                                    core::Micros valid_until) {
  if (!core::IsValidPrincipalId(principal)) {
    return Status(Code::kKeyInvalid, "invalid principal id \"" + principal + "\"");
  }
  KeySet key_set;
  key_set.principal = principal;
  key_set.created = core::SystemClock::Instance().Now() / 1000 * 1000;
  key_set.valid_from = valid_from / 1000 * 1000;
  key_set.valid_until = valid_until / 1000 * 1000;
  if (key_set.valid_from >= key_set.valid_until) {
    return Status(Code::kKeyInvalid, "empty validity period");
  }
  key_set.transport = core::TransportKeyPair::Generate();
  key_set.encryption = core::BoxKeyPair::Generate();
  key_set.signing = core::SigningKeyPair::Generate();
  key_set.key_id = core::KeyIdOf(key_set.transport.public_key, key_set.encryption.public_key,
                                 key_set.signing.public_key);
  return key_set;
}

std::string PublicKeyFileJson(const KeySet& key_set) {
  nlohmann::json json = {
      {"version", 1},
      {"principal", key_set.principal},
      {"key_id", key_set.key_id},
      {"created", core::FormatRfc3339(key_set.created)},
      {"valid_from", core::FormatRfc3339(key_set.valid_from)},
      {"valid_until", core::FormatRfc3339(key_set.valid_until)},
      {"transport", {{"public", key_set.transport.PublicZ85()}}},
      {"encryption", {{"public", core::ToBase64(key_set.encryption.public_key)}}},
      {"signing", {{"public", core::ToBase64(key_set.signing.public_key)}}}};
  return json.dump(2) + "\n";
}

std::filesystem::path SecretKeyFilePath(const std::filesystem::path& dir, const KeySet& key_set) {
  return dir / (key_set.key_id + std::string(kSecretSuffix));
}

std::filesystem::path PublicKeyFilePath(const std::filesystem::path& dir, const KeySet& key_set) {
  return dir / (key_set.key_id + ".public.json");
}

Status WriteKeySet(const KeySet& key_set, const std::filesystem::path& dir) {
  nlohmann::json secret = nlohmann::json::parse(PublicKeyFileJson(key_set));
  secret["transport"]["secret"] = key_set.transport.SecretZ85();
  secret["encryption"]["secret"] = core::ToBase64(key_set.encryption.secret_key.view());
  secret["signing"]["secret"] = core::ToBase64(key_set.signing.secret_key.view());
  std::string secret_text = secret.dump(2) + "\n";
  WipeSecrets(&secret);
  Status written = WriteNewFile(SecretKeyFilePath(dir, key_set), secret_text, 0600);
  std::fill(secret_text.begin(), secret_text.end(), '\0');
  STAFETT_RETURN_IF_ERROR(written);
  return WriteNewFile(PublicKeyFilePath(dir, key_set), PublicKeyFileJson(key_set), 0644);
}

core::Result<KeySet> LoadSecretKeyFile(const std::filesystem::path& file) {
  core::Result<core::SecretBytes> text = ReadSecretFile(file);
  if (!text.ok()) return text.status();
  std::string_view view = text->view();
  nlohmann::json json = nlohmann::json::parse(view.begin(), view.end(), nullptr, false);
  if (!json.is_object()) return Invalid(file, "not a JSON key file");
  KeySet key_set;
  Status parsed = ParseHeader(json, file, &key_set);
  if (parsed.ok()) parsed = ParseKeyPairs(json, file, &key_set);
  WipeSecrets(&json);
  if (!parsed.ok()) return parsed;
  return key_set;
}

core::Result<std::vector<KeySet>> LoadKeyDir(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return Status(Code::kKeyInvalid, dir.string() + ": no such key folder");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (IsSecretFileName(entry.path().filename().string())) files.push_back(entry.path());
  }
  if (error) return Status(Code::kKeyInvalid, dir.string() + ": " + error.message());
  std::sort(files.begin(), files.end());
  std::vector<KeySet> key_sets;
  for (const std::filesystem::path& file : files) {
    core::Result<KeySet> key_set = LoadSecretKeyFile(file);
    if (!key_set.ok()) return key_set.status();
    if (!key_sets.empty() && key_set->principal != key_sets.front().principal) {
      return Status(Code::kKeyInvalid, dir.string() + ": key files of more than one principal (" +
                                           key_sets.front().principal + ", " + key_set->principal +
                                           ")");
    }
    key_sets.push_back(std::move(key_set).value());
  }
  if (key_sets.empty()) {
    return Status(Code::kKeyInvalid, dir.string() + ": no *.secret.json key file");
  }
  std::sort(key_sets.begin(), key_sets.end(), [](const KeySet& a, const KeySet& b) {
    if (a.valid_from != b.valid_from) return a.valid_from > b.valid_from;
    return a.created != b.created ? a.created > b.created : a.key_id < b.key_id;
  });
  return key_sets;
}

const KeySet* CurrentKeySet(const std::vector<KeySet>& key_sets, core::Micros now) {
  const KeySet* best = nullptr;
  for (const KeySet& key_set : key_sets) {
    if (key_set.ValidAt(now) &&
        (best == nullptr || key_set.valid_from > best->valid_from ||
         (key_set.valid_from == best->valid_from && key_set.created > best->created))) {
      best = &key_set;
    }
  }
  return best;
}

}  // namespace stafett::keys
