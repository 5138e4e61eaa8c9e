// The envelope header's canonical JSON form: serialisation, strict parsing and field validation.
// docs/ENVELOPE.md specifies the format. Thread-safety: pure functions.
#include <nlohmann/json.hpp>
#include <set>

#include "stafett/core/canonical_json.h"
#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"
#include "stafett/core/ids.h"
#include "stafett/core/pseudonym.h"

namespace stafett::core {
namespace {

using Json = nlohmann::json;

// 0001-01-01T00:00:00Z is not representable as Micros >= 0; we accept 1970 .. 9999 only.
constexpr Micros kMaxTime = 253402300799999000;  // 9999-12-31T23:59:59.999Z

Status Invalid(std::string_view why) {
  return Status(Code::kSchemaInvalid, "header: " + std::string(why));
}

bool IsToken(std::string_view text) {
  if (text.empty() || text.size() > 64 || text[0] < 'a' || text[0] > 'z') return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsKeyId(std::string_view text) {
  if (text.size() != kKeyIdHexChars) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsWireTime(Micros time) { return time >= 0 && time <= kMaxTime && time % 1000 == 0; }

// A non-empty list of at most `limit` distinct entries, each passing `valid`.
template <typename Predicate>
bool IsDistinctList(const std::vector<std::string>& list, size_t limit, Predicate valid) {
  if (list.empty() || list.size() > limit) return false;
  std::set<std::string_view> seen;
  for (const std::string& entry : list) {
    if (!valid(entry) || !seen.insert(entry).second) return false;
  }
  return true;
}

Status ValidateConsent(const Header& header) {
  const bool wants_scope = header.type == "consent_granted";
  if (wants_scope != header.consent.has_value()) {
    return Invalid("consent scope must be present exactly on consent_granted");
  }
  if (!header.consent) return Status::Ok();
  const ConsentScope& scope = *header.consent;
  if (!IsDistinctList(scope.parties, kMaxConsentParties, IsValidEndpointId)) {
    return Invalid("consent parties: 1-64 distinct endpoint ids");
  }
  if (!IsDistinctList(scope.purposes, kMaxConsentPurposes, IsToken)) {
    return Invalid("consent purposes: 1-16 distinct tokens");
  }
  if (!IsWireTime(scope.valid_from) || !IsWireTime(scope.valid_until) ||
      scope.valid_until < scope.valid_from) {
    return Invalid("consent validity: bad or reversed times");
  }
  return Status::Ok();
}

Status ValidateKeys(const Header& header) {
  if (header.keys.size() != header.to.size()) {
    return Invalid("keys: exactly one wrapped key per recipient");
  }
  for (size_t i = 0; i < header.keys.size(); ++i) {
    const WrappedKey& key = header.keys[i];
    if (key.recipient != header.to[i]) return Invalid("keys: must follow the order of to");
    if (!IsKeyId(key.key_id)) return Invalid("keys: key_id must be 16 lowercase hex");
    if (key.sealed.size() != kWrappedKeyBytes) return Invalid("keys: wrapped key must be 80 bytes");
  }
  return Status::Ok();
}

Json TimeJson(Micros time) { return FormatRfc3339(time); }

}  // namespace

Status ValidateHeader(const Header& header) {
  if (header.version != kEnvelopeVersion) return Invalid("unsupported version");
  if (!IsValidMessageId(header.message_id)) return Invalid("bad message_id");
  if (!IsToken(header.type)) return Invalid("bad type");
  if (!IsValidEndpointId(header.from)) return Invalid("bad from");
  if (!IsDistinctList(header.to, kMaxRecipients, IsValidEndpointId)) {
    return Invalid("to: 1-64 distinct endpoint ids");
  }
  if (!header.subject.empty() && !IsValidPseudonym(header.subject)) {
    return Invalid("subject must be a pseudonym (64 lowercase hex)");
  }
  if (!header.consent_id.empty() && !IsValidMessageId(header.consent_id)) {
    return Invalid("bad consent_id");
  }
  STAFETT_RETURN_IF_ERROR(ValidateConsent(header));
  if (!header.ref.empty() && !IsValidMessageId(header.ref)) return Invalid("bad ref");
  if (!IsWireTime(header.sent_at) || !IsWireTime(header.expires_at)) {
    return Invalid("sent_at/expires_at: whole milliseconds from 1970 to 9999");
  }
  if (header.payload_size < kMinPayloadBytes) return Invalid("payload size too small");
  if (header.payload_digest.size() != kDigestBytes) return Invalid("payload digest: 32 bytes");
  if (!IsKeyId(header.sender_key_id)) return Invalid("sender_key must be 16 lowercase hex");
  return ValidateKeys(header);
}

namespace {

// The canonical form through nlohmann::json (keys sorted by its std::map, no whitespace):
// the definition, and the path for any header with a string outside printable ASCII.
std::string SerializeHeaderAsJson(const Header& header) {
  Json json = Json::object();
  json["v"] = header.version;
  json["message_id"] = header.message_id;
  json["type"] = header.type;
  json["from"] = header.from;
  json["to"] = header.to;
  json["subject"] = header.subject;
  if (!header.consent_id.empty()) json["consent_id"] = header.consent_id;
  if (header.consent) {
    json["consent"] = {{"parties", header.consent->parties},
                       {"purposes", header.consent->purposes},
                       {"valid_from", TimeJson(header.consent->valid_from)},
                       {"valid_until", TimeJson(header.consent->valid_until)}};
  }
  if (!header.ref.empty()) json["ref"] = header.ref;
  json["sent_at"] = TimeJson(header.sent_at);
  json["expires_at"] = TimeJson(header.expires_at);
  json["payload"] = {{"size", header.payload_size}, {"digest", ToBase64(header.payload_digest)}};
  json["sender_key"] = header.sender_key_id;
  Json keys = Json::array();
  for (const WrappedKey& key : header.keys) {
    keys.push_back(
        {{"to", key.recipient}, {"key_id", key.key_id}, {"wrapped", ToBase64(key.sealed)}});
  }
  json["keys"] = std::move(keys);
  // Never throws: invalid UTF-8 is replaced (and then fails the canonical comparison).
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

// The same bytes written directly when every string is printable ASCII, as in every valid
// header (ids, tokens, hex, base64, RFC 3339). The broker serialises each header it checks
// (the canonical-form test of ParseHeader, and VerifyEnvelope's), so this is its hot path.
std::string SerializeHeader(const Header& header) {
  CanonicalJsonWriter out(400 + 140 * header.keys.size());
  out.Raw("{");
  if (header.consent) {
    out.Key("consent");
    out.Raw("{");
    out.Key("parties");
    out.Strings(header.consent->parties);
    out.Raw(",");
    out.Key("purposes");
    out.Strings(header.consent->purposes);
    out.Raw(",");
    out.Key("valid_from");
    out.String(FormatRfc3339(header.consent->valid_from));
    out.Raw(",");
    out.Key("valid_until");
    out.String(FormatRfc3339(header.consent->valid_until));
    out.Raw("},");
  }
  if (!header.consent_id.empty()) {
    out.Key("consent_id");
    out.String(header.consent_id);
    out.Raw(",");
  }
  out.Key("expires_at");
  out.String(FormatRfc3339(header.expires_at));
  out.Raw(",");
  out.Key("from");
  out.String(header.from);
  out.Raw(",");
  out.Key("keys");
  out.Raw("[");
  for (size_t i = 0; i < header.keys.size(); ++i) {
    const WrappedKey& key = header.keys[i];
    if (i > 0) out.Raw(",");
    out.Raw("{");
    out.Key("key_id");
    out.String(key.key_id);
    out.Raw(",");
    out.Key("to");
    out.String(key.recipient);
    out.Raw(",");
    out.Key("wrapped");
    out.String(ToBase64(key.sealed));
    out.Raw("}");
  }
  out.Raw("],");
  out.Key("message_id");
  out.String(header.message_id);
  out.Raw(",");
  out.Key("payload");
  out.Raw("{");
  out.Key("digest");
  out.String(ToBase64(header.payload_digest));
  out.Raw(",");
  out.Key("size");
  out.Number(header.payload_size);
  out.Raw("},");
  if (!header.ref.empty()) {
    out.Key("ref");
    out.String(header.ref);
    out.Raw(",");
  }
  out.Key("sender_key");
  out.String(header.sender_key_id);
  out.Raw(",");
  out.Key("sent_at");
  out.String(FormatRfc3339(header.sent_at));
  out.Raw(",");
  out.Key("subject");
  out.String(header.subject);
  out.Raw(",");
  out.Key("to");
  out.Strings(header.to);
  out.Raw(",");
  out.Key("type");
  out.String(header.type);
  out.Raw(",");
  out.Key("v");
  out.Raw(std::to_string(header.version));
  out.Raw("}");
  if (!out.plain()) return SerializeHeaderAsJson(header);
  return out.Take();
}

}  // namespace stafett::core
