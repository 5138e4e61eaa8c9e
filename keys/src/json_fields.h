// Type-checked reads of JSON members for the key-file and directory parsers: a member of the
// wrong type is an error, never a nlohmann exception. Private to stafett_keys.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "stafett/core/clock.h"
#include "stafett/core/status.h"

namespace stafett::keys::internal {

// The string member NAME of OBJECT; "" when absent; CODE "WHERE: NAME must be a string" when
// present with another type.
inline core::Result<std::string> StringMember(const nlohmann::json& object, const char* name,
                                              const std::string& where, core::Code code) {
  auto found = object.find(name);
  if (found == object.end()) return std::string();
  if (!found->is_string()) {
    return core::Status(code, where + ": " + name + " must be a string");
  }
  return found->get<std::string>();
}

// The RFC 3339 member NAME of OBJECT, required.
inline core::Result<core::Micros> TimeMember(const nlohmann::json& object, const char* name,
                                             const std::string& where, core::Code code) {
  core::Result<std::string> text = StringMember(object, name, where, code);
  if (!text.ok()) return text.status();
  std::optional<core::Micros> time = core::ParseRfc3339(*text);
  if (!time) {
    return core::Status(code, where + ": " + name + " must be an RFC 3339 time");
  }
  return *time;
}

// OBJECT[GROUP] as an object, or nullptr when absent or not an object.
inline const nlohmann::json* ObjectMember(const nlohmann::json& object, const char* group) {
  auto found = object.find(group);
  if (found == object.end() || !found->is_object()) return nullptr;
  return &*found;
}

}  // namespace stafett::keys::internal
