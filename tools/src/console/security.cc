// The console's login token, sessions, CSRF check, cookie and response headers.
#include "console/security.h"

#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::tools::console {

std::string RandomToken() { return core::ToHex(core::RandomBytes(32)); }

bool LoginToken::Redeem(std::string_view offered) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (used_ || token_.empty() || !core::ConstantTimeEquals(offered, token_)) return false;
  used_ = true;
  return true;
}

Session SessionStore::Create() {
  Session session;
  session.id = RandomToken();
  session.csrf = RandomToken();
  session.expires_at = clock_.Now() + lifetime_;
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_[session.id] = session;
  return session;
}

std::optional<Session> SessionStore::Find(std::string_view id) const {
  if (id.empty()) return std::nullopt;
  core::Micros now = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  // Compare with every session rather than look up by key: no timing hint about a prefix.
  std::optional<Session> found;
  for (const auto& [key, session] : sessions_) {
    if (core::ConstantTimeEquals(key, id) && now < session.expires_at) found = session;
  }
  return found;
}

void SessionStore::SetLanguage(std::string_view id, const std::string& language) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto session = sessions_.find(std::string(id));
  if (session != sessions_.end()) session->second.language = language;
}

void SessionStore::End(std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(std::string(id));
}

bool CsrfMatches(const Session& session, std::string_view offered) {
  return !session.csrf.empty() && core::ConstantTimeEquals(offered, session.csrf);
}

std::string SessionCookieName(int port) { return "stafett_console_" + std::to_string(port); }

std::string SessionCookieHeader(const std::string& name, const std::string& session_id) {
  return name + "=" + session_id + "; Path=/; HttpOnly; SameSite=Strict";
}

std::optional<std::string> CookieValue(const std::string& cookie_header, std::string_view name) {
  size_t position = 0;
  while (position < cookie_header.size()) {
    size_t end = cookie_header.find(';', position);
    if (end == std::string::npos) end = cookie_header.size();
    std::string_view pair(cookie_header.data() + position, end - position);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) {
      return std::string(pair.substr(equals + 1));
    }
    position = end + 1;
  }
  return std::nullopt;
}

void AddSecurityHeaders(httplib::Response& response) {
  response.set_header("Content-Security-Policy",
                      "default-src 'self'; script-src 'self'; style-src 'self'; "
                      "frame-ancestors 'none'; form-action 'self'");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("Cache-Control", "no-store");
  response.set_header("X-Frame-Options", "DENY");
}

}  // namespace stafett::tools::console
