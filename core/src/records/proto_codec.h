// What every record codec shares: strict parsing (bad bytes, unknown fields and unknown enum
// values are errors, never defaults), deterministic serialisation, and the two error forms —
// CORRUPTION for stored bytes that do not decode, INTERNAL for a record the code tried to write
// that breaks its own rules (a bug; nothing is written).
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "stafett/core/status.h"

namespace stafett::core::records_internal {

// Parses BYTES into *MESSAGE; CORRUPTION naming RECORD if they are not a RECORD or carry a
// field this build does not know (at any depth).
// The path of the first field under MESSAGE (named AT) that this build does not know, or "".
// Map fields are skipped: a codec whose record has a map walks its values itself, through the
// generated map, because protobuf's reflection over a map builds a repeated view of it lazily,
// which crashed under ThreadSanitizer (the sanitizer-built inline code and the uninstrumented
// libprotobuf disagree there) and copies every entry besides.
std::string UnknownFieldPath(const google::protobuf::Message& message, const std::string& at);

Status ParseStrict(std::string_view bytes, std::string_view record,
                   google::protobuf::Message* message);

// The same record always gives the same bytes (map entries sorted).
std::string SerializeDeterministic(const google::protobuf::Message& message);

// "a stored RECORD does not decode: PROBLEM".
Status Corrupt(std::string_view record, std::string_view problem);
// Encoding refused: INTERNAL "RECORD not written: PROBLEM".
Status Unwritable(std::string_view record, std::string_view problem);

// The checks the records share; each returns "" when the value is fine, else the problem.
std::string CheckDigest(std::string_view field, std::string_view bytes);  // exactly 32 bytes
std::string CheckMessageId(std::string_view field, std::string_view id, bool may_be_empty);
std::string CheckPrincipal(std::string_view field, std::string_view id);
// 64 lowercase hex; "" allowed only with MAY_BE_EMPTY (a message about no child).
std::string CheckPseudonym(std::string_view field, std::string_view subject, bool may_be_empty);

// A code as it is stored: its catalogue name, "" for kOk.
std::string CodeToStored(Code code);
// The code for a stored name ("" is kOk); false for a name not in the catalogue.
bool CodeFromStored(std::string_view name, Code* code);

}  // namespace stafett::core::records_internal
