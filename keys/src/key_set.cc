// KeySet: generation, the secret and public key files, and the pseudonym key file.
#include "stafett/keys/key_set.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "stafett/core/encoding.h"
#include "stafett/core/ids.h"

namespace stafett::keys {

using core::Code;
using core::Status;

namespace {

// Writes TEXT to a new file with MODE, exclusively (never over an existing key), and fsyncs.
Status WriteNewFile(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Status(Code::kIoError, file.string() + ": cannot create: " + std::strerror(errno));
  }
  ::fchmod(fd, mode);  // the umask must not widen or narrow what we ask for
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Status(Code::kIoError, file.string() + ": write failed: " + std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Status(Code::kIoError, file.string() + ": fsync failed");
  return Status::Ok();
}

core::Result<std::string> ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status(Code::kKeyInvalid, file.string() + ": cannot read the key file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Status Invalid(const std::filesystem::path& file, const std::string& problem) {
  return Status(Code::kKeyInvalid, file.string() + ": " + problem);
}

std::string Field(const nlohmann::json& json, const char* group, const char* member) {
  if (!json.contains(group) || !json[group].is_object()) return "";
  return json[group].value(member, "");
}

}  // namespace

core::Result<KeySet> GenerateKeySet(const std::string& principal, core::Micros valid_from,
                                    core::Micros valid_until) {
  if (!core::IsValidPrincipalId(principal)) {
    return Status(Code::kKeyInvalid, "invalid principal id");
  }
  if (valid_from >= valid_until) return Status(Code::kKeyInvalid, "empty validity period");
  KeySet key_set;
  key_set.principal = principal;
  // Millisecond precision: what survives the RFC 3339 round trip through the files.
  key_set.created = core::SystemClock::Instance().Now() / 1000 * 1000;
  key_set.valid_from = valid_from / 1000 * 1000;
  key_set.valid_until = valid_until / 1000 * 1000;
  key_set.transport = core::TransportKeyPair::Generate();
  key_set.encryption = core::BoxKeyPair::Generate();
  key_set.signing = core::SigningKeyPair::Generate();
  key_set.key_id = core::KeyIdOf(key_set.transport.public_key, key_set.encryption.public_key,
                                 key_set.signing.public_key);
  return key_set;
}

std::string PublicKeyFileJson(const KeySet& key_set) {
  nlohmann::json json = {{"version", 1},
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

Status WriteKeySet(const KeySet& key_set, const std::filesystem::path& dir) {
  nlohmann::json secret = nlohmann::json::parse(PublicKeyFileJson(key_set));
  secret["transport"]["secret"] = key_set.transport.SecretZ85();
  secret["encryption"]["secret"] = core::ToBase64(key_set.encryption.secret_key.view());
  secret["signing"]["secret"] = core::ToBase64(key_set.signing.secret_key.view());
  std::string secret_text = secret.dump(2) + "\n";
  Status written = WriteNewFile(dir / (key_set.key_id + ".secret.json"), secret_text, 0600);
  std::fill(secret_text.begin(), secret_text.end(), '\0');
  STAFETT_RETURN_IF_ERROR(written);
  return WriteNewFile(dir / (key_set.key_id + ".public.json"), PublicKeyFileJson(key_set), 0644);
}

Status CheckSecretFileMode(const std::filesystem::path& file) {
  struct stat info {};
  if (::lstat(file.c_str(), &info) != 0) return Invalid(file, "cannot read the key file");
  if (S_ISLNK(info.st_mode)) return Invalid(file, "is a symbolic link; refusing to follow it");
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", info.st_mode & 07777);
    return Invalid(file, std::string("mode ") + mode +
                             " lets group or others access a secret key; chmod 600 it");
  }
  return Status::Ok();
}

core::Result<KeySet> LoadSecretKeyFile(const std::filesystem::path& file) {
  STAFETT_RETURN_IF_ERROR(CheckSecretFileMode(file));
  core::Result<std::string> text = ReadFile(file);
  if (!text.ok()) return text.status();
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, false);
  std::fill(text->begin(), text->end(), '\0');
  if (!json.is_object()) return Invalid(file, "not a JSON key file");
  KeySet key_set;
  key_set.principal = json.value("principal", "");
  key_set.key_id = json.value("key_id", "");
  std::optional<core::Micros> created = core::ParseRfc3339(json.value("created", ""));
  std::optional<core::Micros> valid_from = core::ParseRfc3339(json.value("valid_from", ""));
  std::optional<core::Micros> valid_until = core::ParseRfc3339(json.value("valid_until", ""));
  if (!core::IsValidPrincipalId(key_set.principal) || !valid_from || !valid_until) {
    return Invalid(file, "principal or validity missing or malformed");
  }
  key_set.created = created.value_or(0);
  key_set.valid_from = *valid_from;
  key_set.valid_until = *valid_until;
  core::Result<core::TransportKeyPair> transport =
      core::TransportKeyPair::FromSecretZ85(Field(json, "transport", "secret"));
  std::optional<std::string> box_secret = core::FromBase64(Field(json, "encryption", "secret"));
  std::optional<std::string> signing_secret = core::FromBase64(Field(json, "signing", "secret"));
  if (!transport.ok() || !box_secret || !signing_secret) {
    return Invalid(file, "a secret key is missing or malformed");
  }
  core::Result<core::BoxKeyPair> box = core::BoxKeyPair::FromSecret(*box_secret);
  core::Result<core::SigningKeyPair> signing = core::SigningKeyPair::FromSecret(*signing_secret);
  std::fill(box_secret->begin(), box_secret->end(), '\0');
  std::fill(signing_secret->begin(), signing_secret->end(), '\0');
  if (!box.ok() || !signing.ok()) return Invalid(file, "a secret key has the wrong length");
  key_set.transport = std::move(transport).value();
  key_set.encryption = std::move(box).value();
  key_set.signing = std::move(signing).value();
  if (Field(json, "transport", "public") != key_set.transport.PublicZ85() ||
      core::FromBase64(Field(json, "encryption", "public")) != key_set.encryption.public_key ||
      core::FromBase64(Field(json, "signing", "public")) != key_set.signing.public_key) {
    return Invalid(file, "a public key does not match its secret key");
  }
  if (key_set.key_id != core::KeyIdOf(key_set.transport.public_key, key_set.encryption.public_key,
                                      key_set.signing.public_key)) {
    return Invalid(file, "key_id does not match the keys");
  }
  return key_set;
}

core::Result<std::vector<KeySet>> LoadKeyDir(const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return Status(Code::kKeyInvalid, dir.string() + ": no such key folder");
  }
  std::vector<KeySet> key_sets;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.size() < 12 || name.substr(name.size() - 12) != ".secret.json") continue;
    core::Result<KeySet> key_set = LoadSecretKeyFile(entry.path());
    if (!key_set.ok()) return key_set.status();
    key_sets.push_back(std::move(key_set).value());
  }
  if (error) return Status(Code::kKeyInvalid, dir.string() + ": " + error.message());
  if (key_sets.empty()) return Status(Code::kKeyInvalid, dir.string() + ": no *.secret.json key file");
  std::sort(key_sets.begin(), key_sets.end(), [](const KeySet& a, const KeySet& b) {
    return a.valid_from != b.valid_from ? a.valid_from > b.valid_from : a.key_id < b.key_id;
  });
  for (const KeySet& key_set : key_sets) {
    if (key_set.principal != key_sets.front().principal) {
      return Status(Code::kKeyInvalid, dir.string() + ": key files of more than one principal");
    }
  }
  return key_sets;
}

Status WritePseudonymKeyFile(const std::filesystem::path& file, const core::PseudonymKey& key) {
  return WriteNewFile(file, key.ToHex() + "\n", 0600);
}

core::Result<core::PseudonymKey> LoadPseudonymKeyFile(const std::filesystem::path& file) {
  STAFETT_RETURN_IF_ERROR(CheckSecretFileMode(file));
  core::Result<std::string> text = ReadFile(file);
  if (!text.ok()) return text.status();
  core::Result<core::PseudonymKey> key = core::PseudonymKey::FromHex(*text);
  std::fill(text->begin(), text->end(), '\0');
  if (!key.ok()) return Invalid(file, "not a 64-hex-digit pseudonym key");
  return key;
}

}  // namespace stafett::keys
