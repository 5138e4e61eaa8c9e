// A minimal HTTP/1.1 client over POSIX sockets.
#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace stafett::testing {
namespace {

std::mutex tokens_mutex;
std::map<std::string, std::string> tokens;  // host_port -> bearer token

std::string TokenFor(const std::string& host_port) {
  std::lock_guard lock(tokens_mutex);
  auto found = tokens.find(host_port);
  return found == tokens.end() ? "" : found->second;
}

}  // namespace

void SetBearerToken(const std::string& host_port, const std::string& token) {
  std::lock_guard lock(tokens_mutex);
  tokens[host_port] = token;
}

HttpResponse HttpRequest(const std::string& host_port, const std::string& method,
                         const std::string& path, const std::string& body,
                         const std::map<std::string, std::string>& headers, int timeout_ms) {
  HttpResponse response;
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return response;
  std::string host = host_port.substr(0, colon);
  int port = std::atoi(host_port.c_str() + colon + 1);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return response;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return response;
  }
  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (std::string token = TokenFor(host_port);
      !token.empty() && !headers.contains("Authorization")) {
    request += "Authorization: Bearer " + token + "\r\n";
  }
  if (!body.empty() || method == "POST") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  request += body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t wrote = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (wrote <= 0) break;  // the server may answer (413) before reading everything
    sent += static_cast<size_t>(wrote);
  }
  std::string raw;
  char buffer[65536];
  for (;;) {
    pollfd item{fd, POLLIN, 0};
    if (::poll(&item, 1, timeout_ms) <= 0) break;
    ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    raw.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  if (raw.compare(0, 5, "HTTP/") != 0) return response;
  size_t space = raw.find(' ');
  response.status = std::atoi(raw.c_str() + space + 1);
  size_t end = raw.find("\r\n\r\n");
  if (end != std::string::npos) response.body = raw.substr(end + 4);
  return response;
}

}  // namespace stafett::testing
