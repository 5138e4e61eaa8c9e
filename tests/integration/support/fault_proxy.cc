// FaultProxy: accept, connect through, forward with poll(); faults applied between polls.
#include "integration/support/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace stafett::testing {

namespace {

constexpr size_t kBufferLimit = 256 * 1024;  // per direction, before we stop reading
constexpr size_t kChunk = 64 * 1024;

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Closes FD so that the peer sees a reset, not an orderly end.
void Reset(int fd) {
  linger hard{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(fd);
}

struct Link {
  int agent = -1, broker = -1;
  bool held = false, dead = false;
  std::string to_broker, to_agent;
};

// Reads what FROM has (at most LIMIT bytes) into OUT; false when FROM is closed or failed.
bool Pull(int from, std::string* out, size_t limit) {
  char buffer[kChunk];
  ssize_t got = ::read(from, buffer, std::min(limit, sizeof buffer));
  if (got > 0) {
    out->append(buffer, static_cast<size_t>(got));
    return true;
  }
  return got < 0 && (errno == EAGAIN || errno == EINTR);
}

// Writes what it can of PENDING to TO; false when TO failed.
bool Push(int to, std::string* pending) {
  ssize_t put = ::send(to, pending->data(), pending->size(), MSG_NOSIGNAL);
  if (put > 0) {
    pending->erase(0, static_cast<size_t>(put));
    return true;
  }
  return put < 0 && (errno == EAGAIN || errno == EINTR);
}

}  // namespace

FaultProxy::FaultProxy(int target_port) : target_port_(target_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    return;
  }
  SetNonBlocking(fd);
  listen_fd_ = fd;
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Run(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void FaultProxy::CutAll() {
  std::lock_guard lock(mutex_);
  cut_requested_ = true;
}

void FaultProxy::Blackhole(bool blackhole_new) {
  std::lock_guard lock(mutex_);
  blackhole_requested_ = true;
  blackhole_new_ = blackhole_new;
}

void FaultProxy::Restore() {
  std::lock_guard lock(mutex_);
  blackhole_new_ = false;
}

void FaultProxy::Run() {
  std::vector<Link> links;
  double tokens = 0;
  auto refilled_at = std::chrono::steady_clock::now();
  while (!stop_) {
    bool hold_new = false;
    {
      std::lock_guard lock(mutex_);
      for (Link& link : links) {
        if (cut_requested_ && !link.held) {
          Reset(link.agent);
          Reset(link.broker);
          link.dead = true;
        }
        if (blackhole_requested_) link.held = true;
      }
      cut_requested_ = blackhole_requested_ = false;
      hold_new = blackhole_new_;
    }
    std::erase_if(links, [](const Link& link) { return link.dead; });

    uint64_t throttle = throttle_;
    auto now = std::chrono::steady_clock::now();
    if (throttle > 0) {
      tokens +=
          static_cast<double>(throttle) * std::chrono::duration<double>(now - refilled_at).count();
      tokens = std::min(tokens, std::max(4096.0, static_cast<double>(throttle) / 10));
    }
    refilled_at = now;

    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
    std::vector<size_t> owner;  // index into links of fds[i + 1] (agent, broker alternate)
    for (size_t i = 0; i < links.size(); ++i) {
      Link& link = links[i];
      if (link.held) continue;
      bool may_read_broker = link.to_agent.size() < kBufferLimit && (throttle == 0 || tokens >= 1);
      short agent_events = static_cast<short>((link.to_broker.size() < kBufferLimit ? POLLIN : 0) |
                                              (link.to_agent.empty() ? 0 : POLLOUT));
      short broker_events = static_cast<short>((may_read_broker ? POLLIN : 0) |
                                               (link.to_broker.empty() ? 0 : POLLOUT));
      fds.push_back({link.agent, agent_events, 0});
      fds.push_back({link.broker, broker_events, 0});
      owner.push_back(i);
    }
    if (::poll(fds.data(), fds.size(), 10) < 0) continue;

    if (fds[0].revents & POLLIN) {
      int agent = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (agent >= 0) {
        int broker = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in target = Loopback(target_port_);
        if (broker >= 0 &&
            ::connect(broker, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0) {
          SetNonBlocking(agent);
          SetNonBlocking(broker);
          int on = 1;
          ::setsockopt(agent, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          ::setsockopt(broker, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          links.push_back(Link{agent, broker, hold_new, false, {}, {}});
          ++connections_;
        } else {
          // The broker is down: the agent sees the connection refused, as it would directly.
          if (broker >= 0) ::close(broker);
          Reset(agent);
        }
      }
    }
    for (size_t k = 0; k < owner.size(); ++k) {
      Link& link = links[owner[k]];
      const pollfd& agent = fds[1 + 2 * k];
      const pollfd& broker = fds[2 + 2 * k];
      bool alive = true;
      if (agent.revents & (POLLIN | POLLHUP | POLLERR)) {
        size_t limit = kBufferLimit - link.to_broker.size();
        alive = limit == 0 || Pull(link.agent, &link.to_broker, limit);
      }
      if (alive && (broker.revents & (POLLIN | POLLHUP | POLLERR))) {
        size_t limit = kBufferLimit - link.to_agent.size();
        if (throttle > 0) limit = std::min(limit, static_cast<size_t>(tokens));
        size_t before = link.to_agent.size();
        alive = limit == 0 || Pull(link.broker, &link.to_agent, limit);
        tokens -= static_cast<double>(link.to_agent.size() - before);
      }
      if (alive && !link.to_agent.empty() && (agent.revents & POLLOUT)) {
        size_t before = link.to_agent.size();
        alive = Push(link.agent, &link.to_agent);
        bytes_to_agent_ += before - link.to_agent.size();
      }
      if (alive && !link.to_broker.empty() && (broker.revents & POLLOUT)) {
        alive = Push(link.broker, &link.to_broker);
      }
      if (!alive) {
        // One side ended: end the other too, as a direct connection would.
        ::close(link.agent);
        ::close(link.broker);
        link.dead = true;
      }
    }
    std::erase_if(links, [](const Link& link) { return link.dead; });
  }
  for (Link& link : links) {
    ::close(link.agent);
    ::close(link.broker);
  }
}

}  // namespace stafett::testing
