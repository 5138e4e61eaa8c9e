// The endpoints of the sandbox presets of `stafett county init`: "three" (flen.school,
// flen.social, region.health) and "sormland" (a school and a social-services endpoint for each
// of the nine municipalities, and the region's health endpoints). Thread-safety: constant data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stafett::tools {

struct EndpointSpec {
  std::string id;            // org.unit
  std::string kind;          // school, social or health
  std::string municipality;  // lowercase; "region" for Region Sörmland
  std::string name;          // the unit's display name
};

// The endpoints of PRESET in directory order, or nullopt for an unknown preset.
std::optional<std::vector<EndpointSpec>> PresetEndpoints(std::string_view preset);

// The preset names, for --help and errors.
std::vector<std::string> PresetNames();

}  // namespace stafett::tools
