// A minimal blocking HTTP/1.1 client for integration tests (loopback only, no TLS, no chunked
// requests). Standard library and POSIX only. Thread-safety: free functions.
#pragma once

#include <map>
#include <string>

namespace stafett::testing {

struct HttpResponse {
  int status = 0;  // 0: no connection or no valid answer
  std::string body;
};

// From now on every request to HOST_PORT that brings no Authorization header of its own sends
// "Authorization: Bearer TOKEN" (the sandboxes register each agent's token from county init).
void SetBearerToken(const std::string& host_port, const std::string& token);

// METHOD PATH on HOST_PORT ("127.0.0.1:7710"), with BODY (sent with Content-Length when not
// empty or for POST) and extra HEADERS. Reads to the end of the connection (Connection: close).
HttpResponse HttpRequest(const std::string& host_port, const std::string& method,
                         const std::string& path, const std::string& body = "",
                         const std::map<std::string, std::string>& headers = {},
                         int timeout_ms = 30000);

}  // namespace stafett::testing
