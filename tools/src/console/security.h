// The console's security pieces: the one-time login token, sessions with their CSRF tokens,
// the cookie, and the headers every response carries (docs/CONSOLE.md, "Security").
// Thread-safety: LoginToken and SessionStore are safe to use from the server's threads.
#pragma once

#include <httplib.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "stafett/core/clock.h"

namespace stafett::tools::console {

// "stafett_console_PORT": cookies are kept per host, not per port, so an operator's and an
// auditor's console on one machine must not share a name.
std::string SessionCookieName(int port);

// 32 random bytes (256 bits) as 64 hex digits.
std::string RandomToken();

// The token in the login link: redeemable once, compared in constant time.
class LoginToken {
 public:
  explicit LoginToken(std::string token) : token_(std::move(token)) {}
  // True the first time OFFERED equals the token; false for a wrong token and for every later
  // attempt (a wrong one does not use it up).
  bool Redeem(std::string_view offered);
  const std::string& value() const { return token_; }

 private:
  std::mutex mutex_;
  const std::string token_;
  bool used_ = false;
};

struct Session {
  std::string id;    // the cookie's value
  std::string csrf;  // the hidden form field every POST must carry
  std::string language = "sv";
  core::Micros expires_at = 0;
};

// Sessions in memory, found by cookie value in constant time per session; they end after
// LIFETIME or with End.
class SessionStore {
 public:
  explicit SessionStore(const core::Clock& clock, core::Micros lifetime = 8LL * 3600 * 1000000)
      : clock_(clock), lifetime_(lifetime) {}
  Session Create();
  std::optional<Session> Find(std::string_view id) const;
  void SetLanguage(std::string_view id, const std::string& language);
  void End(std::string_view id);

 private:
  const core::Clock& clock_;
  const core::Micros lifetime_;
  mutable std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

// Whether OFFERED is SESSION's CSRF token (constant time; an empty one never is).
bool CsrfMatches(const Session& session, std::string_view offered);

// The Set-Cookie value for a session: HttpOnly, SameSite=Strict, Path=/.
std::string SessionCookieHeader(const std::string& name, const std::string& session_id);
// The value of cookie NAME in a Cookie header, if present.
std::optional<std::string> CookieValue(const std::string& cookie_header, std::string_view name);

// Content-Security-Policy (no inline script), nosniff, no referrer, no caching, no framing.
void AddSecurityHeaders(httplib::Response& response);

}  // namespace stafett::tools::console
