// `stafett keys generate | rotate | show`: a principal's key files and the trust directory's keys.
// Thread-safety: CLI wiring, single-threaded; commands run one at a time.
#include "keys_commands.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_errors.h"
#include "key_operations.h"

namespace stafett::tools {
namespace {

struct KeysOptions {
  std::string id, out, keys_dir, directory, format = "table";
  int valid_days = 365;
  int overlap_days = 7;
};

core::Micros Now() { return core::SystemClock::Instance().Now(); }

void PrintKeyFiles(const KeyFiles& files) {
  std::printf("key_id  %s\n", files.key_set.key_id.c_str());
  std::printf("public  %s\n", files.public_file.c_str());
  std::printf("secret  %s (mode 0600; it never leaves this machine)\n", files.secret_file.c_str());
}

int RunGenerate(const KeysOptions& options) {
  core::Result<KeyFiles> files =
      GenerateKeyFiles(options.id, options.out, options.valid_days, Now());
  if (!files.ok()) return ReportFailure(files.status());
  PrintKeyFiles(*files);
  std::printf("valid   %s .. %s\n", core::FormatRfc3339(files->key_set.valid_from).c_str(),
              core::FormatRfc3339(files->key_set.valid_until).c_str());
  return 0;
}

int RunRotate(const KeysOptions& options) {
  core::Result<Rotation> rotation = RotateKeys(options.id, options.keys_dir, options.directory,
                                               options.overlap_days, options.valid_days, Now());
  if (!rotation.ok()) return ReportFailure(rotation.status());
  PrintKeyFiles(rotation->created);
  for (const std::string& key_id : rotation->ended_key_ids) {
    std::printf("ends    %s at %s at the latest\n", key_id.c_str(),
                core::FormatRfc3339(rotation->old_valid_until).c_str());
  }
  std::printf("updated %s; distribute it to the broker and every agent\n",
              options.directory.c_str());
  return 0;
}

nlohmann::json KeysJson(const keys::TrustDirectory& directory, core::Micros now) {
  nlohmann::json out = nlohmann::json::array();
  for (const keys::Principal& principal : directory.principals()) {
    const keys::PublicKeys* current = directory.CurrentKeys(principal.id, now);
    nlohmann::json keys = nlohmann::json::array();
    for (const keys::PublicKeys& entry : principal.keys) {
      keys.push_back({{"key_id", entry.key_id},
                      {"valid_from", core::FormatRfc3339(entry.valid_from)},
                      {"valid_until", core::FormatRfc3339(entry.valid_until)},
                      {"current", &entry == current}});
    }
    out.push_back({{"id", principal.id},
                   {"role", std::string(keys::RoleName(principal.role))},
                   {"kind", principal.kind},
                   {"municipality", principal.municipality},
                   {"keys", keys}});
  }
  return out;
}

int RunShow(const KeysOptions& options) {
  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(options.directory);
  if (!directory.ok()) return ReportFailure(directory.status());
  if (options.format == "json") {
    std::printf("%s\n", KeysJson(*directory, Now()).dump(2).c_str());
  } else {
    std::fputs(RenderKeyTable(*directory, Now()).c_str(), stdout);
  }
  return 0;
}

}  // namespace

void AddKeysCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<KeysOptions>();
  CLI::App* keys = app.add_subcommand("keys", "Key sets and the trust directory's keys");
  keys->require_subcommand(1);

  CLI::App* generate = keys->add_subcommand(
      "generate", "Generate a key set: <key_id>.secret.json (0600) and <key_id>.public.json");
  generate->add_option("--id", options->id, "the principal id, e.g. flen.school")->required();
  generate->add_option("--out", options->out, "the key folder (created 0700 if missing)")
      ->required();
  generate->add_option("--valid-days", options->valid_days, "days of validity (default 365)")
      ->check(CLI::Range(1, 36500));
  generate->callback([=] { *exit_code = RunGenerate(*options); });

  CLI::App* rotate = keys->add_subcommand(
      "rotate", "New key set beside the old; add it to the directory, end the old after overlap");
  rotate->add_option("--id", options->id, "the principal id")->required();
  rotate->add_option("--keys-dir", options->keys_dir, "the principal's key folder")->required();
  rotate->add_option("--directory", options->directory, "trust/directory.json to update")
      ->required();
  rotate
      ->add_option("--overlap-days", options->overlap_days,
                   "days the old keys stay valid (default 7)")
      ->check(CLI::Range(0, 3650));
  rotate->add_option("--valid-days", options->valid_days, "days of validity (default 365)")
      ->check(CLI::Range(1, 36500));
  rotate->callback([=] { *exit_code = RunRotate(*options); });

  CLI::App* show =
      keys->add_subcommand("show", "The principals of a trust directory and their keys");
  show->add_option("--directory", options->directory, "trust/directory.json")->required();
  show->add_option("--format", options->format, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  show->callback([=] { *exit_code = RunShow(*options); });
}

}  // namespace stafett::tools
