// Tests for key sets and their files: round trip, 0600 enforcement, tampering, key folders.
// Thread-safety: single-threaded tests.
#include "stafett/keys/key_set.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "stafett/core/encoding.h"
#include "support/sandbox_files.h"

namespace stafett::keys {
namespace {

constexpr core::Micros kSecond = 1000000;
constexpr core::Micros kDay = 86400 * kSecond;

class KeySetTest : public ::testing::Test {
 protected:
  KeySet Generate(const std::string& id, core::Micros from, core::Micros until) {
    core::Result<KeySet> key_set = GenerateKeySet(id, from, until);
    EXPECT_TRUE(key_set.ok()) << key_set.status().ToString();
    return std::move(key_set).value();
  }
  std::filesystem::path Written(const KeySet& key_set) {
    EXPECT_TRUE(WriteKeySet(key_set, dir()).ok());
    return SecretKeyFilePath(dir(), key_set);
  }
  std::filesystem::path dir() const { return temp_.path(); }
  // Rewrites FILE (mode 0600) with JSON after EDIT.
  void Edit(const std::filesystem::path& file, void (*edit)(nlohmann::json&)) {
    std::string text;
    ASSERT_TRUE(testing::ReadWholeFile(file, &text));
    nlohmann::json json = nlohmann::json::parse(text);
    edit(json);
    std::ofstream(file, std::ios::trunc) << json.dump();
  }

  core::Micros now_ = core::SystemClock::Instance().Now();
  testing::TempDir temp_{"stafett-keys-test"};
};

TEST_F(KeySetTest, RoundTripsThroughItsFiles) {
  KeySet original = Generate("flen.school", now_, now_ + 365 * kDay);
  EXPECT_EQ(original.key_id.size(), core::kKeyIdHexChars);
  std::filesystem::path secret = Written(original);
  core::Result<KeySet> loaded = LoadSecretKeyFile(secret);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->principal, "flen.school");
  EXPECT_EQ(loaded->key_id, original.key_id);
  EXPECT_EQ(loaded->valid_from, original.valid_from);
  EXPECT_EQ(loaded->valid_until, original.valid_until);
  EXPECT_EQ(loaded->created, original.created);
  EXPECT_EQ(loaded->transport.public_key, original.transport.public_key);
  EXPECT_EQ(loaded->encryption.secret_key.view(), original.encryption.secret_key.view());
  EXPECT_EQ(loaded->signing.secret_key.view(), original.signing.secret_key.view());
  // The keys still work after the round trip.
  std::string signature = core::Sign(loaded->signing, "message");
  EXPECT_TRUE(core::Verify(original.signing.public_key, "message", signature));
}

TEST_F(KeySetTest, WritesSecretFile0600AndPublicFileWithoutSecrets) {
  ::umask(0);  // the umask must not widen the secret file's mode
  KeySet key_set = Generate("broker", now_, now_ + kDay);
  std::filesystem::path secret = Written(key_set);
  ::umask(022);
  struct stat info {};
  ASSERT_EQ(::stat(secret.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(PublicKeyFilePath(dir(), key_set).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644u);
  std::string text;
  ASSERT_TRUE(testing::ReadWholeFile(PublicKeyFilePath(dir(), key_set), &text));
  EXPECT_EQ(text.find("secret"), std::string::npos);
  nlohmann::json json = nlohmann::json::parse(text);
  EXPECT_EQ(json["key_id"], key_set.key_id);
  EXPECT_EQ(json["transport"]["public"], key_set.transport.PublicZ85());
}

TEST_F(KeySetTest, NeverOverwritesAnExistingKeyFile) {
  KeySet key_set = Generate("broker", now_, now_ + kDay);
  Written(key_set);
  core::Status again = WriteKeySet(key_set, dir());
  EXPECT_EQ(again.code(), core::Code::kIoError);
}

TEST_F(KeySetTest, RefusesSecretFilesOpenToGroupOrOthers) {
  std::filesystem::path secret = Written(Generate("flen.social", now_, now_ + kDay));
  for (mode_t mode : {0644, 0640, 0604, 0660, 0700 | 0010}) {
    ASSERT_EQ(::chmod(secret.c_str(), mode), 0);
    core::Result<KeySet> loaded = LoadSecretKeyFile(secret);
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    EXPECT_EQ(loaded.status().code(), core::Code::kKeyInvalid);
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(loaded.status().message().find(secret.string()), std::string::npos);
    EXPECT_NE(loaded.status().message().find(std::string("mode ") + octal), std::string::npos)
        << loaded.status().message();
    EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
  }
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
  EXPECT_TRUE(LoadSecretKeyFile(secret).ok());
  ASSERT_EQ(::chmod(secret.c_str(), 0400), 0);
  EXPECT_TRUE(LoadSecretKeyFile(secret).ok());
}

TEST_F(KeySetTest, RefusesASymbolicLink) {
  std::filesystem::path secret = Written(Generate("flen.social", now_, now_ + kDay));
  std::filesystem::path link = dir() / "link.secret.json";
  std::filesystem::create_symlink(secret, link);
  core::Result<KeySet> loaded = LoadSecretKeyFile(link);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("symbolic link"), std::string::npos);
}

TEST_F(KeySetTest, RefusesAKeyIdThatDoesNotMatchTheKeys) {
  std::filesystem::path secret = Written(Generate("flen.school", now_, now_ + kDay));
  Edit(secret, [](nlohmann::json& json) { json["key_id"] = "0123456789abcdef"; });
  core::Result<KeySet> loaded = LoadSecretKeyFile(secret);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), core::Code::kKeyInvalid);
  EXPECT_NE(loaded.status().message().find("key_id does not match"), std::string::npos);
}

TEST_F(KeySetTest, RefusesMalformedFiles) {
  struct Case {
    const char* name;
    void (*edit)(nlohmann::json&);
    const char* expected;
  };
  const Case cases[] = {
      {"short box secret",
       [](nlohmann::json& j) { j["encryption"]["secret"] = core::ToBase64("short"); },
       "encryption.secret"},
      {"bad z85", [](nlohmann::json& j) { j["transport"]["secret"] = "not z85"; },
       "transport.secret"},
      {"signing secret wrong length",
       [](nlohmann::json& j) { j["signing"]["secret"] = core::ToBase64(std::string(32, 'x')); },
       "signing.secret"},
      {"public mismatch",
       [](nlohmann::json& j) { j["signing"]["public"] = core::ToBase64(std::string(32, 'x')); },
       "signing.public does not match"},
      {"principal of wrong type", [](nlohmann::json& j) { j["principal"] = 42; },
       "principal must be a string"},
      {"bad time", [](nlohmann::json& j) { j["valid_until"] = "tomorrow"; }, "valid_until"},
      {"version", [](nlohmann::json& j) { j["version"] = "1"; }, "version"},
      {"not an object", [](nlohmann::json& j) { j = nlohmann::json::array(); }, "not a JSON"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.name);
    testing::TempDir folder("stafett-keys-malformed");
    KeySet key_set = Generate("flen.school", now_, now_ + kDay);
    ASSERT_TRUE(WriteKeySet(key_set, folder.path()).ok());
    std::filesystem::path secret = SecretKeyFilePath(folder.path(), key_set);
    Edit(secret, test.edit);
    core::Result<KeySet> loaded = LoadSecretKeyFile(secret);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), core::Code::kKeyInvalid);
    EXPECT_NE(loaded.status().message().find(test.expected), std::string::npos)
        << loaded.status().message();
  }
  std::ofstream(dir() / "garbage.secret.json") << "{not json";
  ::chmod((dir() / "garbage.secret.json").c_str(), 0600);
  EXPECT_FALSE(LoadSecretKeyFile(dir() / "garbage.secret.json").ok());
  EXPECT_FALSE(LoadSecretKeyFile(dir() / "missing.secret.json").ok());
}

TEST_F(KeySetTest, LoadsAKeyFolderNewestFirstAndFindsTheCurrentSet) {
  KeySet old_set = Generate("flen.school", now_ - 30 * kDay, now_ + 7 * kDay);
  KeySet new_set = Generate("flen.school", now_ - kDay, now_ + 365 * kDay);
  KeySet future = Generate("flen.school", now_ + 300 * kDay, now_ + 700 * kDay);
  for (const KeySet* key_set : {&old_set, &new_set, &future}) Written(*key_set);
  core::Result<std::vector<KeySet>> loaded = LoadKeyDir(dir());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 3u);
  EXPECT_EQ((*loaded)[0].key_id, future.key_id);
  EXPECT_EQ((*loaded)[1].key_id, new_set.key_id);
  EXPECT_EQ((*loaded)[2].key_id, old_set.key_id);
  const KeySet* current = CurrentKeySet(*loaded, now_);
  ASSERT_NE(current, nullptr);
  EXPECT_EQ(current->key_id, new_set.key_id);
  EXPECT_EQ(CurrentKeySet(*loaded, now_ + 400 * kDay)->key_id, future.key_id);
  EXPECT_EQ(CurrentKeySet(*loaded, now_ + 800 * kDay), nullptr);
}

TEST_F(KeySetTest, RefusesEmptyMixedOrMissingKeyFolders) {
  EXPECT_EQ(LoadKeyDir(dir() / "nope").status().code(), core::Code::kKeyInvalid);
  EXPECT_EQ(LoadKeyDir(dir()).status().code(), core::Code::kKeyInvalid);
  Written(Generate("flen.school", now_, now_ + kDay));
  Written(Generate("flen.social", now_, now_ + kDay));
  core::Result<std::vector<KeySet>> mixed = LoadKeyDir(dir());
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("more than one principal"), std::string::npos);
}

TEST_F(KeySetTest, RefusesBadIdsAndEmptyPeriods) {
  EXPECT_FALSE(GenerateKeySet("Flen School", now_, now_ + kDay).ok());
  EXPECT_FALSE(GenerateKeySet("flen.school", now_, now_).ok());
  EXPECT_FALSE(GenerateKeySet("flen.school", now_, now_ + 10).ok());  // under a millisecond
}

}  // namespace
}  // namespace stafett::keys
