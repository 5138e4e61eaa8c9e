// CanonicalJsonWriter: writes the project's canonical JSON (the signed envelope header, the
// audit leaf) directly, byte for byte what nlohmann::json's dump() gives for the same object —
// keys sorted as its std::map sorts them, no whitespace — when every string is printable ASCII
// (0x20–0x7e), where dump() escapes only '"' and '\'. Keys are written in the order given:
// the caller writes them sorted. plain() says whether that held; when it did not (a control
// character, UTF-8, bytes that are not UTF-8), the caller must serialise through nlohmann
// instead, which escapes and replaces as its definition says. Building the nlohmann object and
// dumping it costs several times more: the broker writes one header and one leaf per message.
// Thread-safety: a value; one writer per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stafett::core {

class CanonicalJsonWriter {
 public:
  explicit CanonicalJsonWriter(size_t reserve = 256) { out_.reserve(reserve); }

  // Structural text, as is: "{", "},", "[", ","…
  void Raw(std::string_view text) { out_.append(text); }
  // "KEY": — KEY is a literal of the caller's, printable, with nothing to escape.
  void Key(std::string_view key);
  void String(std::string_view text);
  void Strings(const std::vector<std::string>& list);  // ["a","b"]
  void Number(uint64_t value);

  bool plain() const { return plain_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  bool plain_ = true;
};

}  // namespace stafett::core
