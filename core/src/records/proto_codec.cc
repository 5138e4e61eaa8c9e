// The record codecs' shared strict parsing and checks.
#include "records/proto_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <vector>

#include "stafett/core/ids.h"

namespace stafett::core::records_internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

}  // namespace

std::string UnknownFieldPath(const Message& message, const std::string& at) {
  const Reflection* reflection = message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    return (at.empty() ? "" : at + ".") + "#" + std::to_string(unknown.field(0).number());
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    // Maps are the codec's to walk, through its typed map (proto_codec.h says why).
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) continue;
    std::string path = (at.empty() ? "" : at + ".") + field->name();
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        std::string found =
            UnknownFieldPath(reflection->GetRepeatedMessage(message, field, i), path);
        if (!found.empty()) return found;
      }
    } else {
      std::string found = UnknownFieldPath(reflection->GetMessage(message, field), path);
      if (!found.empty()) return found;
    }
  }
  return "";
}

namespace {

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Status ParseStrict(std::string_view bytes, std::string_view record, Message* message) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Corrupt(
        record, "not a " + std::string(record) + " (" + std::to_string(bytes.size()) + " bytes)");
  }
  std::string unknown = UnknownFieldPath(*message, "");
  if (!unknown.empty()) {
    return Corrupt(record, "field " + unknown + " is not one this build knows");
  }
  return Status::Ok();
}

std::string SerializeDeterministic(const Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

Status Corrupt(std::string_view record, std::string_view problem) {
  return Status(Code::kCorruption,
                "a stored " + std::string(record) + " does not decode: " + std::string(problem));
}

Status Unwritable(std::string_view record, std::string_view problem) {
  return Status(Code::kInternal, std::string(record) + " not written: " + std::string(problem));
}

std::string CheckDigest(std::string_view field, std::string_view bytes) {
  if (bytes.size() == 32) return "";
  return std::string(field) + " is " + std::to_string(bytes.size()) + " bytes, not 32";
}

std::string CheckMessageId(std::string_view field, std::string_view id, bool may_be_empty) {
  if (id.empty()) return may_be_empty ? "" : std::string(field) + " missing";
  return IsValidMessageId(id) ? "" : std::string(field) + " is not a valid id";
}

std::string CheckPrincipal(std::string_view field, std::string_view id) {
  if (id.empty()) return std::string(field) + " missing";
  return IsValidPrincipalId(id) ? "" : std::string(field) + " is not a valid principal id";
}

std::string CheckPseudonym(std::string_view field, std::string_view subject, bool may_be_empty) {
  if (subject.empty()) return may_be_empty ? "" : std::string(field) + " missing";
  return subject.size() == 64 && IsLowerHex(subject)
             ? ""
             : std::string(field) + " is not a pseudonym (64 lowercase hex)";
}

std::string CodeToStored(Code code) {
  return code == Code::kOk ? std::string() : std::string(CodeName(code));
}

bool CodeFromStored(std::string_view name, Code* code) {
  if (name.empty()) {
    *code = Code::kOk;
    return true;
  }
  std::optional<Code> parsed = CodeFromName(name);
  if (!parsed || *parsed == Code::kOk) return false;
  *code = *parsed;
  return true;
}

}  // namespace stafett::core::records_internal
