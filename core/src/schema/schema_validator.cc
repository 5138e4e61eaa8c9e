// SchemaValidator: the embedded schemas compiled with valijson (nlohmann adapter), $ref resolved
// between them by $id, "format": "date-time" checked with ParseRfc3339, and valijson's results
// turned into JSON pointers and rule names that never quote the document.
// Thread-safety: the compiled schemas are immutable; each thread has its own valijson::Validator
// (which caches compiled regexes).
#include <algorithm>
#include <map>
#include <memory>
#include <new>
#include <regex>
#include <stdexcept>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "stafett/core/clock.h"
#include "stafett/core/schema.h"
#include "stafett/schemas/schemas.h"

namespace stafett::core {
namespace {

// valijson 1.0's own "format" check throws when the value is not a string, and its date-time
// pattern admits years of any length; its "pattern" check calls std::regex_search, which tries
// every start position of a string (seconds for a multi-megabyte id). So these keywords are
// renamed at load time and checked by the constraints below instead.
constexpr const char* kFormatKeyword = "x-stafett-format";
constexpr const char* kPatternKeyword = "x-stafett-pattern";
constexpr std::string_view kDateTimeRule = "String should be an RFC 3339 date-time.";
constexpr std::string_view kPatternRule =
    "Failed to match regex specified by 'pattern' constraint.";

// "pattern", compiled once. A pattern anchored with '^' (all of ours) can only match at the
// start, so it is tried there only: the same result as regex_search, in time bounded by the
// pattern rather than by the string.
class PatternConstraint final : public valijson::constraints::PolyConstraint {
 public:
  explicit PatternConstraint(const std::string& pattern)
      : regex_(std::make_shared<const std::regex>(pattern, std::regex::ECMAScript)),
        anchored_(pattern.starts_with("^")) {}

  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;  // the schema's "type" reports that
    std::string text = target.getString();
    auto flags =
        anchored_ ? std::regex_constants::match_continuous : std::regex_constants::match_default;
    if (std::regex_search(text, *regex_, flags)) return true;
    if (results != nullptr) results->pushError(context, std::string(kPatternRule));
    return false;
  }

 private:
  Constraint* cloneInto(void* memory) const override {
    return new (memory) PatternConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(PatternConstraint); }

  std::shared_ptr<const std::regex> regex_;  // shared by the clones; matching is const
  bool anchored_;
};

class PatternBuilder final : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& value) const override {
    if (!value.isString()) throw std::runtime_error("\"pattern\" must be a string");
    return new PatternConstraint(value.getString());
  }
};

class DateTimeConstraint final : public valijson::constraints::PolyConstraint {
 public:
  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;  // the schema's "type" reports that
    if (ParseRfc3339(target.getString()).has_value()) return true;
    if (results != nullptr) results->pushError(context, std::string(kDateTimeRule));
    return false;
  }

 private:
  Constraint* cloneInto(void* memory) const override {
    return new (memory) DateTimeConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(DateTimeConstraint); }
};

// Formats other than date-time are not used by our schemas and not checked.
class AcceptConstraint final : public valijson::constraints::PolyConstraint {
 public:
  bool validate(const valijson::adapters::Adapter&, const std::vector<std::string>&,
                valijson::ValidationResults*) const override {
    return true;
  }

 private:
  Constraint* cloneInto(void* memory) const override {
    return new (memory) AcceptConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(AcceptConstraint); }
};

class FormatBuilder final : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& value) const override {
    if (value.isString() && value.getString() == "date-time") return new DateTimeConstraint();
    return new AcceptConstraint();
  }
};

// Renames "format" and "pattern" to our keywords wherever they are keywords (not property names).
void RenameKeywords(nlohmann::json& schema) {
  if (schema.is_array()) {
    for (nlohmann::json& item : schema) RenameKeywords(item);
    return;
  }
  if (!schema.is_object()) return;
  for (auto [keyword, ours] : {std::pair{"format", kFormatKeyword}, {"pattern", kPatternKeyword}}) {
    if (schema.contains(keyword) && schema[keyword].is_string()) {
      schema[ours] = schema[keyword];
      schema.erase(keyword);
    }
  }
  for (auto& [key, value] : schema.items()) {
    if (key == "properties" || key == "definitions" || key == "patternProperties") {
      for (auto& [name, subschema] : value.items()) RenameKeywords(subschema);
    } else if (key != "enum" && key != "const") {
      RenameKeywords(value);
    }
  }
}

std::string EscapePointerToken(std::string_view token) {
  std::string escaped;
  for (char c : token) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// valijson's context {"<root>", "[body]", "[to]", "[0]"} as the pointer "/body/to/0".
std::string PointerFromContext(const std::vector<std::string>& context) {
  std::string pointer;
  for (size_t i = 1; i < context.size(); ++i) {
    std::string_view token = context[i];
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    pointer += "/" + EscapePointerToken(token);
  }
  return pointer;
}

struct Failure {
  std::string pointer;
  std::string rule;
};

// Maps one valijson error to a failure naming only schema facts; nullopt for the errors that
// merely repeat a child's failure at its parent (allOf, if/then, properties, items).
std::optional<Failure> Classify(const valijson::ValidationResults::Error& error) {
  const std::string& text = error.description;
  std::string pointer = PointerFromContext(error.context);
  auto starts = [&](std::string_view prefix) { return text.rfind(prefix, 0) == 0; };
  if (starts("Failed to validate") || starts("Cannot validate item")) return std::nullopt;
  if (starts("Missing required property '")) {
    // The name comes from the schema's "required" list, not from the document.
    size_t begin = text.find('\'') + 1;
    size_t end = text.find('\'', begin);
    return Failure{pointer + "/" + EscapePointerToken(text.substr(begin, end - begin)), "required"};
  }
  // The document's own property name is in valijson's text; it is not repeated.
  if (starts("Object contains a property")) return Failure{pointer, "additionalProperties"};
  static const std::pair<std::string_view, std::string_view> kRules[] = {
      {"Value type not permitted", "type"},
      {"Failed to match against any enum", "enum"},
      {"Failed to match expected value set by 'const'", "const"},
      {kPatternRule, "pattern"},
      {"String should be no fewer", "minLength"},
      {"String should be no more", "maxLength"},
      {"Array should contain no fewer", "minItems"},
      {"Array should contain no more", "maxItems"},
      {"Array contains more items", "maxItems"},
      {"Elements at indexes", "uniqueItems"},
      {"Expected number greater", "minimum"},
      {"Expected number less", "maximum"},
      {"Value should be a multiple", "multipleOf"},
      {"Object should have no fewer", "minProperties"},
      {"Object should have no more", "maxProperties"},
      {"Target should not validate", "not"},
      {"String should be a valid date-time", "format date-time"},
      {kDateTimeRule, "format date-time"},
  };
  for (const auto& [prefix, rule] : kRules) {
    if (starts(prefix)) return Failure{pointer, std::string(rule)};
  }
  return Failure{pointer, "schema"};
}

}  // namespace

struct SchemaValidator::Compiled {
  Status load_status;
  std::map<std::string, nlohmann::json, std::less<>> by_id;  // preprocessed schema documents
  std::map<std::string, std::unique_ptr<valijson::Schema>, std::less<>> by_name;
};

const SchemaValidator& SchemaValidator::Default() {
  static const SchemaValidator* const validator = new SchemaValidator();
  return *validator;
}

SchemaValidator::SchemaValidator() : compiled_(std::make_unique<Compiled>()) {
  std::map<std::string, std::string, std::less<>> id_of;  // name → $id
  for (std::string_view name : schemas::Names()) {
    nlohmann::json schema = nlohmann::json::parse(schemas::Find(name), nullptr, false);
    if (!schema.is_object() || !schema.contains("$id") || !schema["$id"].is_string()) {
      compiled_->load_status =
          Status(Code::kInternal, "embedded schema " + std::string(name) + " is not a schema");
      return;
    }
    RenameKeywords(schema);
    std::string id = schema["$id"].get<std::string>();
    id_of[std::string(name)] = id;
    compiled_->by_id[id] = std::move(schema);
  }
  // $ref targets are found among the embedded schemas only; nothing is fetched. valijson passes
  // a relative reference ("definitions.json") as written; every schema shares one base URI, so
  // it names the schema whose $id ends in "/" + the reference.
  auto fetch = [this](const std::string& uri) -> const nlohmann::json* {
    auto found = compiled_->by_id.find(uri);
    if (found != compiled_->by_id.end()) return &found->second;
    for (const auto& [id, schema] : compiled_->by_id) {
      if (id.size() > uri.size() && id.ends_with("/" + uri)) return &schema;
    }
    return nullptr;
  };
  auto release = [](const nlohmann::json*) {};
  for (const auto& [name, id] : id_of) {
    if (name == "definitions") continue;
    auto schema = std::make_unique<valijson::Schema>();
    try {
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      parser.addConstraintBuilder(kFormatKeyword, new FormatBuilder());  // the parser owns them
      parser.addConstraintBuilder(kPatternKeyword, new PatternBuilder());
      valijson::adapters::NlohmannJsonAdapter adapter(compiled_->by_id.at(id));
      parser.populateSchema(adapter, *schema, fetch, release);
    } catch (const std::exception& error) {
      compiled_->load_status =
          Status(Code::kInternal, "embedded schema " + name + " does not compile: " + error.what());
      return;
    }
    compiled_->by_name[name] = std::move(schema);
  }
}

SchemaValidator::~SchemaValidator() = default;

const Status& SchemaValidator::load_status() const { return compiled_->load_status; }

std::vector<std::string> SchemaValidator::Names() const {
  std::vector<std::string> names;
  for (const auto& entry : compiled_->by_name) names.push_back(entry.first);
  return names;
}

bool SchemaValidator::Has(std::string_view schema_name) const {
  return compiled_->by_name.find(schema_name) != compiled_->by_name.end();
}

Status SchemaValidator::Validate(std::string_view schema_name, const nlohmann::json& document,
                                 std::vector<std::string>* failing_pointers) const {
  auto schema = compiled_->by_name.find(schema_name);
  if (schema == compiled_->by_name.end()) {
    return Status(Code::kInternal, "no schema named " + std::string(schema_name));
  }
  thread_local valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  bool valid = false;
  try {
    valid = validator.validate(*schema->second, valijson::adapters::NlohmannJsonAdapter(document),
                               &results);
  } catch (const std::exception&) {
    // valijson threw on an input it does not expect; its text may quote the value.
    if (failing_pointers != nullptr) failing_pointers->push_back("");
    return Status(Code::kSchemaInvalid,
                  "could not be checked against schema " + std::string(schema_name));
  }
  if (valid) return Status::Ok();

  std::vector<Failure> failures;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::optional<Failure> failure = Classify(error);
    if (!failure) continue;
    bool seen = std::any_of(failures.begin(), failures.end(), [&](const Failure& other) {
      return other.pointer == failure->pointer && other.rule == failure->rule;
    });
    if (!seen) failures.push_back(std::move(*failure));
  }
  if (failures.empty()) failures.push_back(Failure{"", "schema"});

  constexpr size_t kMaxNamed = 10;
  std::string message = "does not match schema " + std::string(schema_name) + ": ";
  std::vector<std::string> pointers;
  for (size_t i = 0; i < failures.size(); ++i) {
    const Failure& failure = failures[i];
    if (std::find(pointers.begin(), pointers.end(), failure.pointer) == pointers.end()) {
      pointers.push_back(failure.pointer);
    }
    if (i < kMaxNamed) {
      if (i > 0) message += "; ";
      message += (failure.pointer.empty() ? "(document)" : failure.pointer) + ": " + failure.rule;
    }
  }
  if (failures.size() > kMaxNamed) {
    message += "; and " + std::to_string(failures.size() - kMaxNamed) + " more";
  }
  if (failing_pointers != nullptr) {
    failing_pointers->insert(failing_pointers->end(), pointers.begin(), pointers.end());
  }
  return Status(Code::kSchemaInvalid, std::move(message));
}

}  // namespace stafett::core
