// The sandbox presets as tables (docs/DESIGN.md; docs/DOMAIN.md lists the services).
// Thread-safety: constant data.
#include "county_presets.h"

namespace stafett::tools {
namespace {

struct Municipality {
  const char* id;
  const char* name;
};

// Södermanland's nine municipalities.
constexpr Municipality kSormland[] = {
    {"eskilstuna", "Eskilstuna"},   {"flen", "Flen"},         {"gnesta", "Gnesta"},
    {"katrineholm", "Katrineholm"}, {"nykoping", "Nyköping"}, {"oxelosund", "Oxelösund"},
    {"strangnas", "Strängnäs"},     {"trosa", "Trosa"},       {"vingaker", "Vingåker"}};

// Region Sörmland's health endpoints; they serve every municipality.
const EndpointSpec kRegionHealth[] = {
    {"region.bvc", "health", "region", "Region Sörmland, child health centre (BVC)"},
    {"region.vardcentral", "health", "region", "Region Sörmland, primary care (vårdcentral)"},
    {"region.bup", "health", "region", "Region Sörmland, child and adolescent psychiatry (BUP)"},
    {"region.mvc", "health", "region", "Region Sörmland, maternity care (MVC)"}};

EndpointSpec School(const Municipality& m) {
  return {std::string(m.id) + ".school", "school", m.id, std::string(m.name) + ", student health"};
}

EndpointSpec Social(const Municipality& m) {
  return {std::string(m.id) + ".social", "social", m.id,
          std::string(m.name) + ", social services (IFO)"};
}

}  // namespace

std::optional<std::vector<EndpointSpec>> PresetEndpoints(std::string_view preset) {
  if (preset == "three") {
    const Municipality flen{"flen", "Flen"};
    return std::vector<EndpointSpec>{
        School(flen),
        Social(flen),
        {"region.health", "health", "region", "Region Sörmland, health care"}};
  }
  if (preset == "sormland") {
    std::vector<EndpointSpec> endpoints;
    for (const Municipality& municipality : kSormland) {
      endpoints.push_back(School(municipality));
      endpoints.push_back(Social(municipality));
    }
    endpoints.insert(endpoints.end(), std::begin(kRegionHealth), std::end(kRegionHealth));
    return endpoints;
  }
  return std::nullopt;
}

std::vector<std::string> PresetNames() { return {"three", "sormland"}; }

}  // namespace stafett::tools
