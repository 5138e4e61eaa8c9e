// Tests for the trust directory: load, lookups, rotation, save, and strict refusals.
// Thread-safety: single-threaded tests.
#include "stafett/keys/trust_directory.h"

#include <gtest/gtest.h>

#include <functional>

#include "stafett/core/encoding.h"
#include "support/sandbox_files.h"

namespace stafett::keys {
namespace {

constexpr core::Micros kSecond = 1000000;
constexpr core::Micros kDay = 86400 * kSecond;

class TrustDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Add("broker", Role::kBroker, "", "");
    Add("flen.school", Role::kEndpoint, "school", "flen");
    Add("flen.social", Role::kEndpoint, "social", "flen");
    Add("region.health", Role::kEndpoint, "health", "region");
    Add("auditor", Role::kAuditor, "", "");
  }
  KeySet Generate(const std::string& id, core::Micros from, core::Micros until) {
    core::Result<KeySet> key_set = GenerateKeySet(id, from, until);
    EXPECT_TRUE(key_set.ok());
    return std::move(key_set).value();
  }
  void Add(const std::string& id, Role role, const std::string& kind,
           const std::string& municipality) {
    KeySet key_set = Generate(id, now_ - kDay, now_ + 365 * kDay);
    Principal principal{id, role, kind, municipality, "unit " + id, {}};
    ASSERT_TRUE(directory_.AddPrincipal(principal, key_set).ok());
    key_sets_.emplace(id, std::move(key_set));
  }
  // The directory's JSON after EDIT, parsed again.
  core::Result<TrustDirectory> Edited(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json json = directory_.ToJson();
    edit(json);
    return TrustDirectory::Parse(json.dump(), "directory.json");
  }
  void ExpectRefused(const std::function<void(nlohmann::json&)>& edit, const std::string& words) {
    core::Result<TrustDirectory> parsed = Edited(edit);
    ASSERT_FALSE(parsed.ok()) << words;
    EXPECT_EQ(parsed.status().code(), core::Code::kConfigInvalid);
    EXPECT_NE(parsed.status().message().find("directory.json: "), std::string::npos);
    EXPECT_NE(parsed.status().message().find(words), std::string::npos)
        << parsed.status().message();
  }

  core::Micros now_ = core::SystemClock::Instance().Now();
  TrustDirectory directory_;
  std::map<std::string, KeySet> key_sets_;
};

TEST_F(TrustDirectoryTest, SavesLoadsAndLooksUp) {
  directory_.set_county("three");
  testing::TempDir dir("stafett-directory-test");
  std::filesystem::path file = std::filesystem::path(dir.path()) / "directory.json";
  ASSERT_TRUE(directory_.Save(file).ok());
  core::Result<TrustDirectory> loaded = TrustDirectory::Load(file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->county(), "three");
  EXPECT_EQ(loaded->principals().size(), 5u);

  const Principal* school = loaded->Find("flen.school");
  ASSERT_NE(school, nullptr);
  EXPECT_EQ(school->role, Role::kEndpoint);
  EXPECT_EQ(school->kind, "school");
  EXPECT_EQ(school->municipality, "flen");
  EXPECT_EQ(school->name, "unit flen.school");
  EXPECT_EQ(loaded->Find("nobody.school"), nullptr);

  const KeySet& keys = key_sets_.at("flen.social");
  TrustDirectory::TransportMatch match = loaded->MatchTransportKey(keys.transport.public_key, now_);
  ASSERT_NE(match.principal, nullptr);
  EXPECT_EQ(match.principal->id, "flen.social");
  EXPECT_EQ(match.keys->key_id, keys.key_id);
  EXPECT_EQ(loaded->FindByTransportKey(keys.transport.public_key, now_ + 400 * kDay), nullptr);
  EXPECT_EQ(loaded->FindByTransportKey(std::string(32, 'x'), now_), nullptr);

  const PublicKeys* by_id = loaded->KeyById("flen.social", keys.key_id);
  ASSERT_NE(by_id, nullptr);
  EXPECT_EQ(by_id->signing, keys.signing.public_key);
  EXPECT_EQ(by_id->encryption, keys.encryption.public_key);
  EXPECT_EQ(by_id->valid_from, keys.valid_from);
  EXPECT_EQ(loaded->KeyById("flen.school", keys.key_id), nullptr);  // another principal's key

  std::vector<const Principal*> endpoints = loaded->Endpoints();
  ASSERT_EQ(endpoints.size(), 3u);
  EXPECT_EQ(endpoints[0]->id, "flen.school");
  EXPECT_EQ(endpoints[1]->id, "flen.social");
  EXPECT_EQ(endpoints[2]->id, "region.health");
  EXPECT_EQ(RoleName(loaded->Find("auditor")->role), "auditor");
}

TEST_F(TrustDirectoryTest, RotationKeepsOldKeysFindableAndPrefersTheNewest) {
  const KeySet& old_keys = key_sets_.at("flen.school");
  KeySet new_keys = Generate("flen.school", now_, now_ + 365 * kDay);
  ASSERT_TRUE(directory_.Rotate(new_keys, now_ + 7 * kDay).ok());

  const Principal* school = directory_.Find("flen.school");
  ASSERT_EQ(school->keys.size(), 2u);
  const PublicKeys* old_entry = directory_.KeyById("flen.school", old_keys.key_id);
  ASSERT_NE(old_entry, nullptr);
  EXPECT_EQ(old_entry->valid_until, (now_ + 7 * kDay) / 1000 * 1000);
  EXPECT_EQ(directory_.CurrentKeys("flen.school", now_ + kSecond)->key_id, new_keys.key_id);
  EXPECT_EQ(directory_.CurrentKeys("flen.school", now_ - kSecond)->key_id, old_keys.key_id);
  // Both transport keys authenticate during the overlap; only the new one after it.
  EXPECT_NE(directory_.FindByTransportKey(old_keys.transport.public_key, now_ + kDay), nullptr);
  EXPECT_EQ(directory_.FindByTransportKey(old_keys.transport.public_key, now_ + 8 * kDay), nullptr);
  EXPECT_NE(directory_.FindByTransportKey(new_keys.transport.public_key, now_ + 8 * kDay), nullptr);
  // The old key still verifies older messages by key_id after its validity ended.
  EXPECT_NE(directory_.KeyById("flen.school", old_keys.key_id), nullptr);

  // It survives a save and a load.
  core::Result<TrustDirectory> reloaded =
      TrustDirectory::Parse(directory_.ToJson().dump(), "directory.json");
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->CurrentKeys("flen.school", now_ + kSecond)->key_id, new_keys.key_id);
}

TEST_F(TrustDirectoryTest, RotationRefusesUnknownPrincipalsAndReusedKeys) {
  KeySet stranger = Generate("stranger.school", now_, now_ + kDay);
  EXPECT_EQ(directory_.Rotate(stranger, now_).code(), core::Code::kNotFound);
  KeySet reused = key_sets_.at("flen.social");
  core::Status status = directory_.Rotate(reused, now_ + kDay);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(directory_.Find("flen.social")->keys.size(), 1u);  // unchanged
  EXPECT_EQ(directory_.Find("flen.social")->keys[0].valid_until, reused.valid_until);
}

TEST_F(TrustDirectoryTest, AddPrincipalRefusesDuplicatesAndBadEntries) {
  KeySet again = Generate("flen.school", now_, now_ + kDay);
  EXPECT_FALSE(
      directory_.AddPrincipal({"flen.school", Role::kEndpoint, "school", "flen", "", {}}, again)
          .ok());
  KeySet other = Generate("gnesta.school", now_, now_ + kDay);
  EXPECT_FALSE(
      directory_
          .AddPrincipal({"gnesta.school", Role::kEndpoint, "library", "gnesta", "", {}}, other)
          .ok());
  EXPECT_FALSE(
      directory_.AddPrincipal({"trosa.school", Role::kEndpoint, "school", "trosa", "", {}}, other)
          .ok());  // the key set is gnesta.school's
  EXPECT_EQ(directory_.principals().size(), 5u);
}

TEST_F(TrustDirectoryTest, RefusesMalformedDirectoriesWithClearErrors) {
  ExpectRefused([](nlohmann::json& j) { j["version"] = 2; }, "unsupported version");
  ExpectRefused([](nlohmann::json& j) { j["version"] = "1"; }, "unsupported version");
  ExpectRefused([](nlohmann::json& j) { j["principals"] = "all"; }, "principals must be a list");
  ExpectRefused([](nlohmann::json& j) { j["principals"][1]["id"] = "Flen School"; },
                "principals[1]: id \"Flen School\" is not a valid endpoint id");
  ExpectRefused([](nlohmann::json& j) { j["principals"][1]["id"] = 7; }, "id must be a string");
  ExpectRefused([](nlohmann::json& j) { j["principals"][2]["role"] = "admin"; },
                "principals[2]: role must be");
  ExpectRefused([](nlohmann::json& j) { j["principals"][2]["kind"] = "police"; },
                "kind must be school, social or health");
  ExpectRefused([](nlohmann::json& j) { j["principals"][0]["kind"] = "school"; },
                "only endpoints have a kind");
  ExpectRefused([](nlohmann::json& j) { j["principals"][2]["municipality"] = "Flen"; },
                "municipality");
  ExpectRefused([](nlohmann::json& j) { j["principals"][2]["id"] = "flen.school"; },
                "principals[2] (flen.school): duplicate id");
  ExpectRefused(
      [](nlohmann::json& j) {
        j["principals"][2]["keys"].push_back(j["principals"][1]["keys"][0]);
      },
      "duplicate key_id");
  ExpectRefused([](nlohmann::json& j) { j["principals"][3]["keys"] = nlohmann::json::array(); },
                "keys must be a non-empty list");
  ExpectRefused([](nlohmann::json& j) { j["principals"][3]["keys"][0]["transport"] = "short"; },
                "principals[3].keys[0]: transport must be a 40-character Z85 key");
  ExpectRefused([](nlohmann::json& j) { j["principals"][3]["keys"][0].erase("signing"); },
                "signing is missing");
  ExpectRefused(
      [](nlohmann::json& j) {
        j["principals"][3]["keys"][0]["signing"] = core::ToBase64(std::string(31, 'k'));
      },
      "signing must be a base64 32-byte key");
  ExpectRefused(
      [](nlohmann::json& j) {
        nlohmann::json& key = j["principals"][3]["keys"][0];
        key.erase("encryption");
        key["key_id"] = core::KeyIdOf(*core::FromZ85(key["transport"].get<std::string>()), "",
                                      *core::FromBase64(key["signing"].get<std::string>()));
      },
      "an endpoint needs an encryption key");
  ExpectRefused([](nlohmann::json& j) { j["principals"][3]["keys"][0]["key_id"] = "00"; },
                "does not match the keys");
  ExpectRefused(
      [](nlohmann::json& j) {
        j["principals"][3]["keys"][0]["valid_until"] = j["principals"][3]["keys"][0]["valid_from"];
      },
      "valid_from is not before valid_until");
  ExpectRefused([](nlohmann::json& j) { j["principals"][3]["keys"][0]["valid_from"] = "soon"; },
                "valid_from must be an RFC 3339 time");
  ExpectRefused([](nlohmann::json& j) { j["principals"][4]["role"] = "broker"; },
                "more than one broker");
  EXPECT_FALSE(TrustDirectory::Parse("{", "directory.json").ok());
  EXPECT_FALSE(TrustDirectory::Load("/nonexistent/directory.json").ok());
}

TEST_F(TrustDirectoryTest, RefusesATransportKeyUsedByTwoPrincipals) {
  // Same transport key under a different key id (the key id covers all three keys).
  KeySet copy = Generate("flen.social", now_, now_ + kDay);
  copy.transport = key_sets_.at("flen.school").transport;
  copy.key_id =
      core::KeyIdOf(copy.transport.public_key, copy.encryption.public_key, copy.signing.public_key);
  core::Status status = directory_.Rotate(copy, now_ + kDay);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("transport key already used"), std::string::npos);
}

}  // namespace
}  // namespace stafett::keys
