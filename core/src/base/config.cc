// Config: TOML loading over toml++ (exceptions disabled at this boundary: parse errors become
// Status values that name the file, line and problem).
#include "stafett/core/config.h"

#include <toml++/toml.h>

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace stafett::core {

struct Config::ReadKeys {
  std::mutex mutex;
  std::set<std::string> keys;
};

void Config::MarkRead(const std::string& key) const {
  if (!read_keys_) return;
  std::lock_guard<std::mutex> lock(read_keys_->mutex);
  read_keys_->keys.insert(key);
}

void Config::Allow(const std::string& key) const { MarkRead(key); }

namespace {

// The first key under TABLE (dotted PREFIX) that is not in KNOWN, as "FILE: unknown key ...".
std::optional<std::string> FindUnknown(const toml::table& table, const std::string& prefix,
                                       const std::set<std::string>& known) {
  for (const auto& [name, node] : table) {
    std::string key =
        prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (known.count(key) != 0) continue;
    const toml::table* child = node.as_table();
    auto below = known.lower_bound(key + ".");
    bool any_below = below != known.end() && below->starts_with(key + ".");
    if (child != nullptr && any_below) {
      std::optional<std::string> found = FindUnknown(*child, key, known);
      if (found) return found;
      continue;
    }
    if (prefix.empty()) {
      return child != nullptr ? "unknown table [" + key + "]" : "unknown key '" + key + "'";
    }
    return "unknown key '" + key.substr(prefix.size() + 1) + "' in [" + prefix + "]";
  }
  return std::nullopt;
}

}  // namespace

Status Config::RejectUnknownKeys(const std::vector<std::string>& tables) const {
  if (!table_ || !read_keys_) return Status::Ok();
  std::set<std::string> known;
  {
    std::lock_guard<std::mutex> lock(read_keys_->mutex);
    known = read_keys_->keys;
  }
  std::optional<std::string> unknown;
  if (tables.empty()) {
    unknown = FindUnknown(*table_, "", known);
  } else {
    for (const std::string& name : tables) {
      const toml::table* table = (*table_)[name].as_table();
      if (table != nullptr) unknown = FindUnknown(*table, name, known);
      if (unknown) break;
    }
  }
  if (!unknown) return Status::Ok();
  return Status(Code::kConfigInvalid, file_.string() + ": " + *unknown);
}

Result<Config> Config::Load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status(Code::kConfigInvalid, file.string() + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), file);
}

Result<Config> Config::Parse(const std::string& text, const std::filesystem::path& file) {
  Config config;
  config.file_ = file;
  config.read_keys_ = std::make_shared<ReadKeys>();
  try {
    config.table_ = std::make_shared<const toml::table>(toml::parse(text, file.string()));
  } catch (const toml::parse_error& error) {
    std::ostringstream message;
    message << file.string() << ": line " << error.source().begin.line << ": "
            << error.description();
    return Status(Code::kConfigInvalid, message.str());
  }
  return config;
}

Status Config::Error(const std::string& key, const std::string& problem) const {
  return Status(Code::kConfigInvalid, file_.string() + ": " + key + ": " + problem);
}

bool Config::Has(const std::string& key) const {
  MarkRead(key);
  return table_ && static_cast<bool>(table_->at_path(key).node());
}

Result<std::string> Config::GetString(const std::string& key,
                                      std::optional<std::string> fallback) const {
  MarkRead(key);
  toml::node_view<const toml::node> node = table_->at_path(key);
  if (!node) {
    if (fallback) return *fallback;
    return Error(key, "missing (required)");
  }
  if (!node.is_string()) return Error(key, "expected a string");
  return std::string(*node.value<std::string>());
}

Result<int64_t> Config::GetInt(const std::string& key, std::optional<int64_t> fallback, int64_t min,
                               int64_t max) const {
  MarkRead(key);
  toml::node_view<const toml::node> node = table_->at_path(key);
  if (!node) {
    if (fallback) return *fallback;
    return Error(key, "missing (required)");
  }
  if (!node.is_integer()) return Error(key, "expected an integer");
  int64_t value = *node.value<int64_t>();
  if (value < min || value > max) {
    return Error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

Result<bool> Config::GetBool(const std::string& key, std::optional<bool> fallback) const {
  MarkRead(key);
  toml::node_view<const toml::node> node = table_->at_path(key);
  if (!node) {
    if (fallback) return *fallback;
    return Error(key, "missing (required)");
  }
  if (!node.is_boolean()) return Error(key, "expected true or false");
  return *node.value<bool>();
}

Result<std::vector<std::string>> Config::GetStringList(
    const std::string& key, std::optional<std::vector<std::string>> fallback) const {
  MarkRead(key);
  toml::node_view<const toml::node> node = table_->at_path(key);
  if (!node) {
    if (fallback) return *fallback;
    return Error(key, "missing (required)");
  }
  const toml::array* array = node.as_array();
  if (array == nullptr) return Error(key, "expected a list of strings");
  std::vector<std::string> values;
  for (const toml::node& element : *array) {
    if (!element.is_string()) return Error(key, "expected a list of strings");
    values.push_back(*element.value<std::string>());
  }
  return values;
}

Result<std::filesystem::path> Config::GetPath(const std::string& key,
                                              std::optional<std::string> fallback) const {
  Result<std::string> text = GetString(key, std::move(fallback));
  if (!text.ok()) return text.status();
  if (text->empty()) return Error(key, "must not be empty");
  std::filesystem::path path(*text);
  if (path.is_relative()) path = file_.parent_path() / path;
  return path.lexically_normal();
}

}  // namespace stafett::core
