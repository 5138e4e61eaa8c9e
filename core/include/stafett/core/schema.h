// SchemaValidator: checks JSON documents against the embedded JSON Schemas (schemas/, draft 7),
// including RFC 3339 for every "format": "date-time". Messages name JSON pointers and rules, never
// values. Thread-safety: immutable after construction; Validate is safe from any thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::core {

// The schema version this release writes and reads (docs/SCHEMAS.md): a document may name any
// 1.x in `schema_version`; another major is refused.
inline constexpr int kSchemaVersionMajor = 1;
inline constexpr int kSchemaVersionMinor = 0;
inline constexpr std::string_view kSchemaVersion = "1.0";

class SchemaValidator {
 public:
  // The validator over every embedded schema, loaded on first use.
  static const SchemaValidator& Default();

  // Loads and compiles every embedded schema, resolving $ref between them. A schema that fails
  // to load is reported by load_status() (a build defect, caught by the tests).
  SchemaValidator();
  ~SchemaValidator();
  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;

  // Ok, or why the embedded schemas could not be compiled.
  const Status& load_status() const;

  // The names Validate accepts: "document", "inbox_document", "delivery_receipt", and one per
  // body type ("support_request", ...). "definitions" holds only building blocks.
  std::vector<std::string> Names() const;
  bool Has(std::string_view schema_name) const;

  // Ok, or kSchemaInvalid with a message such as
  //   "does not match schema document: /body/reason: required; /to/0: pattern"
  // naming each failing JSON pointer (RFC 6901) and its rule. An unknown schema name is
  // kInternal. FAILING_POINTERS (may be null) receives the pointers, each once, in the order
  // found; a missing property is reported at its own pointer ("/body/reason"), a property the
  // schema does not define at its parent object ("/body").
  Status Validate(std::string_view schema_name, const nlohmann::json& document,
                  std::vector<std::string>* failing_pointers) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace stafett::core
