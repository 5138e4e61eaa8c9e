// Config: TOML configuration files with errors that name the file, the key and the problem.
// Relative paths in a config resolve against the folder of the config file.
// Thread-safety: a loaded Config's values are immutable; concurrent reads are safe (the record of
// which keys were read is guarded by a mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stafett/core/status.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace stafett::core {

class Config {
 public:
  // Reads and parses FILE. Errors: kConfigInvalid "FILE: line L: problem" or "FILE: cannot read".
  static Result<Config> Load(const std::filesystem::path& file);
  // Parses TEXT as if read from FILE (tests, embedded defaults).
  static Result<Config> Parse(const std::string& text, const std::filesystem::path& file);

  const std::filesystem::path& file() const { return file_; }

  // Typed getters for dotted keys ("delivery.credit_window"). A missing key yields the fallback;
  // a key of the wrong type or out of range is an error naming file and key.
  Result<std::string> GetString(const std::string& key, std::optional<std::string> fallback) const;
  Result<int64_t> GetInt(const std::string& key, std::optional<int64_t> fallback,
                         int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  Result<bool> GetBool(const std::string& key, std::optional<bool> fallback) const;
  Result<std::vector<std::string>> GetStringList(
      const std::string& key, std::optional<std::vector<std::string>> fallback) const;
  // A path; relative values resolve against the config file's folder.
  Result<std::filesystem::path> GetPath(const std::string& key,
                                        std::optional<std::string> fallback) const;
  // Whether the key is present at all.
  bool Has(const std::string& key) const;

  // A Status naming this file and KEY: "FILE: KEY: problem".
  Status Error(const std::string& key, const std::string& problem) const;

  // Marks KEY as known without reading it (a key another program reads from the same file).
  void Allow(const std::string& key) const;
  // After the getters: kConfigInvalid "FILE: unknown key 'K' in [TABLE]" (or "unknown table
  // [T]") for the first key no getter, Has() or Allow() asked for, so a mistyped key is an
  // error instead of a silent default. TABLES limits the check to those top-level tables (a
  // file shared with other programs); empty: the whole file.
  Status RejectUnknownKeys(const std::vector<std::string>& tables = {}) const;

 private:
  void MarkRead(const std::string& key) const;

  std::filesystem::path file_;
  std::shared_ptr<const toml::table> table_;
  // Keys asked for so far (dotted). Shared by copies; guarded by its own mutex.
  struct ReadKeys;
  std::shared_ptr<ReadKeys> read_keys_;
};

}  // namespace stafett::core
