// Config: TOML loading over toml++ (exceptions disabled at this boundary: parse errors become
// Status values that name the file, line and problem).
#include "stafett/core/config.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace stafett::core {

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
  return table_ && static_cast<bool>(table_->at_path(key).node());
}

Result<std::string> Config::GetString(const std::string& key,
                                      std::optional<std::string> fallback) const {
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
