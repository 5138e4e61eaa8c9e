// Tests for `stafett county init`: both presets' layout, file modes, manifest, configs that parse
// and name existing files, keys that match the directory, and refusals.
// Thread-safety: single-threaded tests.
#include "county_init.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "stafett/core/config.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"
#include "support/sandbox_files.h"

namespace stafett::tools {
namespace {

namespace fs = std::filesystem;

unsigned ModeOf(const fs::path& file) {
  struct stat info {};
  EXPECT_EQ(::stat(file.c_str(), &info), 0) << file;
  return info.st_mode & 07777;
}

nlohmann::json ReadJson(const fs::path& file) {
  std::string text;
  EXPECT_TRUE(testing::ReadWholeFile(file, &text)) << file;
  return nlohmann::json::parse(text, nullptr, false);
}

// Every path KEYS of SECTION in CONFIG_FILE names exists.
void ExpectPathsExist(const fs::path& config_file, const std::string& section,
                      const std::vector<std::string>& keys) {
  core::Result<core::Config> config = core::Config::Load(config_file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  for (const std::string& key : keys) {
    core::Result<fs::path> path = config->GetPath(section + "." + key, std::nullopt);
    ASSERT_TRUE(path.ok()) << config_file << " " << key << ": " << path.status().ToString();
    EXPECT_TRUE(fs::exists(*path)) << config_file << " " << key << " -> " << *path;
  }
}

// The principal whose keys live in KEYS_DIR is in DIRECTORY with these keys as current.
void ExpectKeysMatchDirectory(const fs::path& keys_dir, const std::string& id,
                              const keys::TrustDirectory& directory, core::Micros now) {
  core::Result<std::vector<keys::KeySet>> key_sets = keys::LoadKeyDir(keys_dir);
  ASSERT_TRUE(key_sets.ok()) << key_sets.status().ToString();
  ASSERT_EQ(key_sets->size(), 1u);
  EXPECT_EQ(key_sets->front().principal, id);
  const keys::PublicKeys* current = directory.CurrentKeys(id, now);
  ASSERT_NE(current, nullptr) << id;
  EXPECT_EQ(current->key_id, key_sets->front().key_id);
  EXPECT_EQ(current->transport, key_sets->front().transport.public_key);
}

class CountyInitTest : public ::testing::TestWithParam<std::pair<std::string, size_t>> {
 protected:
  fs::path dir() const { return fs::path(temp_.path()) / "county"; }
  testing::TempDir temp_{"stafett-county-test"};
  core::Micros now_ = core::SystemClock::Instance().Now();
};

TEST_P(CountyInitTest, WritesACompleteDeployment) {
  const auto& [preset, agent_count] = GetParam();
  CountyInitOptions options{dir(), preset, 23400, 365, now_};
  core::Result<CountyInitReport> report = InitCounty(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->agents.size(), agent_count);

  nlohmann::json manifest = ReadJson(dir() / "county.json");
  ASSERT_TRUE(manifest.is_object());
  EXPECT_EQ(manifest["broker"]["config"], "broker/broker.toml");
  EXPECT_EQ(manifest["broker"]["zmq"], "tcp://127.0.0.1:23400");
  EXPECT_EQ(manifest["broker"]["http"], "127.0.0.1:23401");
  EXPECT_EQ(manifest["auditor"]["config"], "auditor/auditor.toml");
  EXPECT_EQ(manifest["operator"]["config"], "operator/operator.toml");
  ASSERT_EQ(manifest["agents"].size(), agent_count);

  core::Result<keys::TrustDirectory> directory =
      keys::TrustDirectory::Load(dir() / "trust" / "directory.json");
  ASSERT_TRUE(directory.ok()) << directory.status().ToString();
  EXPECT_EQ(directory->county(), preset);
  EXPECT_EQ(directory->principals().size(), agent_count + 3);
  std::vector<const keys::Principal*> endpoints = directory->Endpoints();
  ASSERT_EQ(endpoints.size(), agent_count);

  std::set<std::string> ports;
  std::set<std::string> tokens;
  for (size_t i = 0; i < agent_count; ++i) {
    const nlohmann::json& agent = manifest["agents"][i];
    std::string id = agent["id"];
    SCOPED_TRACE(id);
    EXPECT_EQ(id, endpoints[i]->id);  // directory order
    EXPECT_EQ(agent["kind"], endpoints[i]->kind);
    EXPECT_EQ(agent["http"], "127.0.0.1:" + std::to_string(23410 + i));
    EXPECT_TRUE(ports.insert(agent["http"]).second);
    for (const char* key : {"config", "outbox", "inbox"}) {
      EXPECT_TRUE(fs::exists(dir() / agent[key].get<std::string>())) << key;
    }
    fs::path config = dir() / agent["config"].get<std::string>();
    ExpectPathsExist(
        config, "agent",
        {"keys_dir", "trust_directory", "pseudonym_key", "outbox", "inbox", "data_dir"});
    core::Result<core::Config> loaded = core::Config::Load(config);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(*loaded->GetString("agent.id", std::nullopt), id);
    EXPECT_EQ(*loaded->GetString("agent.http_bind", std::nullopt), agent["http"]);
    EXPECT_EQ(*loaded->GetString("agent.broker_zmq", std::nullopt), "tcp://127.0.0.1:23400");
    ExpectKeysMatchDirectory(dir() / "agents" / id / "keys", id, *directory, now_);
    // Issue 14 item 8: a random bearer token per agent (before: http_token = "").
    EXPECT_FALSE(loaded->Has("agent.http_token"));
    EXPECT_EQ(*loaded->GetString("agent.http_token_file", std::nullopt), "http.token");
    EXPECT_EQ(agent["http_token_file"], "agents/" + id + "/http.token");
    std::ifstream token_in(dir() / "agents" / id / "http.token");
    std::string token;
    token_in >> token;
    EXPECT_EQ(token.size(), 64u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
    EXPECT_TRUE(tokens.insert(token).second) << "two agents share a token";
  }

  ExpectPathsExist(dir() / "broker" / "broker.toml", "broker",
                   {"data_dir", "keys_dir", "trust_directory"});
  ExpectPathsExist(dir() / "auditor" / "auditor.toml", "auditor",
                   {"keys_dir", "trust_directory", "pseudonym_key", "state_dir"});
  ExpectPathsExist(dir() / "operator" / "operator.toml", "operator",
                   {"keys_dir", "trust_directory"});
  ExpectKeysMatchDirectory(dir() / "broker" / "keys", "broker", *directory, now_);
  ExpectKeysMatchDirectory(dir() / "auditor" / "keys", "auditor", *directory, now_);
  ExpectKeysMatchDirectory(dir() / "operator" / "keys", "operator", *directory, now_);
  EXPECT_EQ(directory->Find("auditor")->role, keys::Role::kAuditor);
  EXPECT_EQ(directory->Find("operator")->role, keys::Role::kOperator);

  // Every secret is 0600, every key folder and county/ 0700.
  size_t secrets = 0;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir())) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".secret.json") || name == "pseudonym.key" || name == "http.token") {
      EXPECT_EQ(ModeOf(entry.path()), 0600u) << entry.path();
      ++secrets;
    }
    if (entry.is_directory() && (name == "keys" || name == "county")) {
      EXPECT_EQ(ModeOf(entry.path()), 0700u) << entry.path();
    }
  }
  EXPECT_EQ(secrets, 2 * agent_count + 3 + 1);
  EXPECT_TRUE(keys::LoadPseudonymKeyFile(dir() / "county" / "pseudonym.key").ok());
}

INSTANTIATE_TEST_SUITE_P(Presets, CountyInitTest,
                         ::testing::Values(std::make_pair(std::string("three"), size_t{3}),
                                           std::make_pair(std::string("sormland"),
                                                          size_t{9 * 2 + 4})));

TEST(CountyInitRefusalTest, RefusesANonEmptyFolderAndLeavesItAlone) {
  testing::TempDir temp("stafett-county-test");
  fs::path dir = temp.path();
  std::ofstream(dir / "notes.txt") << "mine";
  core::Result<CountyInitReport> report = InitCounty({dir, "three", 7700, 365, 0});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), core::Code::kConfigInvalid);
  EXPECT_NE(report.status().message().find("not empty"), std::string::npos);
  EXPECT_EQ(testing::ListNames(dir), std::vector<std::string>{"notes.txt"});
  EXPECT_FALSE(InitCounty({dir / "notes.txt", "three", 7700, 365, 0}).ok());
}

TEST(CountyInitRefusalTest, RefusesUnknownPresetsAndPortsBeyondTheRange) {
  testing::TempDir temp("stafett-county-test");
  fs::path dir = fs::path(temp.path()) / "county";
  EXPECT_EQ(InitCounty({dir, "gotland", 7700, 365, 0}).status().code(), core::Code::kConfigInvalid);
  EXPECT_EQ(InitCounty({dir, "sormland", 65510, 365, 0}).status().code(),
            core::Code::kConfigInvalid);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(InitCounty({dir, "three", 65523, 365, 0}).ok());  // agents end at 65535
}

TEST(CountyInitRefusalTest, AcceptsAnExistingEmptyFolder) {
  testing::TempDir temp("stafett-county-test");
  EXPECT_TRUE(InitCounty({temp.path(), "three", 7700, 365, 0}).ok());
}

}  // namespace
}  // namespace stafett::tools
