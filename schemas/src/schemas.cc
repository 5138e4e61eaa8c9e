// Lookup over the embedded schema table generated from schemas/*.schema.json.
// Thread-safety: constant data; Names() is built once under the static-initialisation guard.
#include "stafett/schemas/schemas.h"

#include <vector>

#include "embedded.h"

namespace stafett::schemas {

std::string_view Find(std::string_view name) {
  constexpr std::string_view kSuffix = ".schema.json";
  if (name.size() > kSuffix.size() && name.ends_with(kSuffix)) {
    name.remove_suffix(kSuffix.size());
  }
  for (size_t i = 0; i < internal::kEmbeddedCount; ++i) {
    if (internal::kEmbedded[i].name == name) return internal::kEmbedded[i].text;
  }
  return {};
}

std::span<const std::string_view> Names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> all;
    for (size_t i = 0; i < internal::kEmbeddedCount; ++i)
      all.push_back(internal::kEmbedded[i].name);
    return all;
  }();
  return names;
}

}  // namespace stafett::schemas
