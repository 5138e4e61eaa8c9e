// CanonicalJsonWriter: canonical JSON written directly (see the header for when it applies).
#include "stafett/core/canonical_json.h"

namespace stafett::core {

void CanonicalJsonWriter::Key(std::string_view key) {
  out_.push_back('"');
  out_.append(key);
  out_.append("\":");
}

void CanonicalJsonWriter::String(std::string_view text) {
  out_.push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) plain_ = false;
    if (c == '"' || c == '\\') out_.push_back('\\');
    out_.push_back(c);
  }
  out_.push_back('"');
}

void CanonicalJsonWriter::Strings(const std::vector<std::string>& list) {
  out_.push_back('[');
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out_.push_back(',');
    String(list[i]);
  }
  out_.push_back(']');
}

void CanonicalJsonWriter::Number(uint64_t value) { out_.append(std::to_string(value)); }

}  // namespace stafett::core
