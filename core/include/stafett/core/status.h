// Status and Result<T>: the error type used at every module boundary.
// The codes are stable: the same names travel on the wire, land in error files and in the audit
// log. Thread-safety: values; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stafett::core {

// The error catalogue: one row per code, (Name, "WIRE_NAME", "what it means").
// docs/ERRORS.md is tested against this table.
#define STAFETT_ERROR_CODES(X)                                                                   \
  X(kOk, "OK", "success")                                                                        \
  X(kSchemaInvalid, "SCHEMA_INVALID",                                                            \
    "not JSON, not matching its schema, or a field failing validation")                          \
  X(kUnknownRecipient, "UNKNOWN_RECIPIENT", "a recipient is not in the trust directory")         \
  X(kNotAllowed, "NOT_ALLOWED", "the rules forbid this route for this message type")             \
  X(kConsentRequired, "CONSENT_REQUIRED",                                                        \
    "the type needs consent and none (or an unknown one) "                                       \
    "was given")                                                                                 \
  X(kConsentScope, "CONSENT_SCOPE", "the consent does not cover this child, party or purpose")   \
  X(kConsentRevoked, "CONSENT_REVOKED", "the consent was revoked")                               \
  X(kConsentExpired, "CONSENT_EXPIRED", "now is outside the consent's validity")                 \
  X(kTooLarge, "TOO_LARGE", "the document or frame exceeds the configured size limit")           \
  X(kBadSignature, "BAD_SIGNATURE", "a signature does not verify against the directory's key")   \
  X(kDecryptFailed, "DECRYPT_FAILED", "the payload could not be decrypted or authenticated")     \
  X(kSpoofedSender, "SPOOFED_SENDER", "the header's sender differs from the authenticated peer") \
  X(kUnknownKey, "UNKNOWN_KEY", "a key id is not in the trust directory or not valid now")       \
  X(kProtocolError, "PROTOCOL_ERROR", "a malformed frame, unknown command or wrong version")     \
  X(kForbidden, "FORBIDDEN", "the authenticated role may not do this")                           \
  X(kDuplicate, "DUPLICATE", "the message id was already used for a different message")          \
  X(kExpired, "EXPIRED", "the message was not delivered within its time to live")                \
  X(kNotFound, "NOT_FOUND", "no such message, consent or record")                                \
  X(kStorageFull, "STORAGE_FULL", "the broker cannot persist new work now; retry later")         \
  X(kUnavailable, "UNAVAILABLE", "the service is not reachable or not ready; retry later")       \
  X(kSessionReplaced, "SESSION_REPLACED",                                                        \
    "a newer session with the same endpoint key took over; reconnect")                           \
  X(kConfigInvalid, "CONFIG_INVALID", "a configuration file is missing or invalid")              \
  X(kKeyInvalid, "KEY_INVALID", "a key file is missing, malformed or too permissive")            \
  X(kIoError, "IO_ERROR", "an operating-system call failed")                                     \
  X(kCorruption, "CORRUPTION", "stored data failed an integrity check")                          \
  X(kInternal, "INTERNAL", "a bug: an invariant did not hold")

enum class Code {
#define STAFETT_X(name, wire, text) name,
  STAFETT_ERROR_CODES(STAFETT_X)
#undef STAFETT_X
};

// The wire name of a code, e.g. "CONSENT_REVOKED".
std::string_view CodeName(Code code);
// The one-line description of a code from the catalogue.
std::string_view CodeDescription(Code code);
// Parses a wire name; nullopt for an unknown name.
std::optional<Code> CodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE: message", for logs and one-line errors.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  Result(Code code, std::string message) : state_(Status(code, std::move(message))) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

// Moves RESULT's value into *OUT, or returns why there is none (*OUT is left as it was).
template <typename T>
Status Assign(Result<T> result, T* out) {
  if (!result.ok()) return result.status();
  *out = std::move(result).value();
  return Status::Ok();
}

}  // namespace stafett::core

// Returns early with the Status when `expr` is not ok.
#define STAFETT_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::stafett::core::Status status__ = (expr); \
    if (!status__.ok()) return status__;       \
  } while (0)
