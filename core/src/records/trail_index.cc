// Trail index key codecs.
#include "stafett/core/records/trail_index.h"

#include "records/proto_codec.h"
#include "stafett/core/records/key_encoding.h"

namespace stafett::core {
namespace {

namespace internal = records_internal;

bool IsEntryKind(char kind) { return kind == 's' || kind == 'e' || kind == 'm'; }
bool IsLinkKind(char kind) { return kind == 'c' || kind == 'k'; }

bool IsPlainId(std::string_view id) {
  return !id.empty() && id.find('\0') == std::string_view::npos;
}

}  // namespace

std::string TrailIndexPrefix(TrailKind kind, std::string_view id) {
  std::string out(1, static_cast<char>(kind));
  out.push_back('\0');
  out.append(id);
  out.push_back('\0');
  return out;
}

Result<std::string> EncodeTrailEntryKey(const TrailEntry& entry) {
  if (!IsEntryKind(static_cast<char>(entry.kind))) {
    return internal::Unwritable("TrailEntry", "kind is not s, e or m");
  }
  if (!IsPlainId(entry.id)) return internal::Unwritable("TrailEntry", "id empty or holds 0x00");
  std::string key = TrailIndexPrefix(entry.kind, entry.id);
  AppendBigEndian64(entry.seq, &key);
  return key;
}

Result<TrailEntry> DecodeTrailEntryKey(std::string_view key) {
  if (key.size() < 2 || !IsEntryKind(key[0]) || key[1] != '\0') {
    return internal::Corrupt("TrailEntry key", "unknown kind");
  }
  TrailEntry entry;
  entry.kind = static_cast<TrailKind>(key[0]);
  std::string_view rest = key.substr(2);
  std::optional<std::string_view> id = TakePart(&rest);
  std::optional<uint64_t> seq = ReadBigEndian64(rest);
  if (!id || id->empty() || !seq) return internal::Corrupt("TrailEntry key", "malformed");
  entry.id = std::string(*id);
  entry.seq = *seq;
  return entry;
}

Result<std::string> EncodeTrailLinkKey(const TrailLink& link) {
  if (!IsLinkKind(static_cast<char>(link.kind))) {
    return internal::Unwritable("TrailLink", "kind is not c or k");
  }
  if (!IsPlainId(link.id) || !IsPlainId(link.other)) {
    return internal::Unwritable("TrailLink", "an id is empty or holds 0x00");
  }
  return TrailIndexPrefix(link.kind, link.id) + link.other;
}

Result<TrailLink> DecodeTrailLinkKey(std::string_view key) {
  if (key.size() < 2 || !IsLinkKind(key[0]) || key[1] != '\0') {
    return internal::Corrupt("TrailLink key", "unknown kind");
  }
  TrailLink link;
  link.kind = static_cast<TrailKind>(key[0]);
  std::string_view rest = key.substr(2);
  std::optional<std::string_view> id = TakePart(&rest);
  if (!id || id->empty() || !IsPlainId(rest))
    return internal::Corrupt("TrailLink key", "malformed");
  link.id = std::string(*id);
  link.other = std::string(rest);
  return link;
}

}  // namespace stafett::core
