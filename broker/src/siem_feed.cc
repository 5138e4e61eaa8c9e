// SiemFeed: RFC 5424 formatting, the durable cursor and the sending thread (docs/SIEM.md).
#include "siem_feed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "audit_log.h"

namespace stafett::broker {

using core::Code;
using core::Status;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kConnectTimeout{5000};
constexpr milliseconds kIdleCheck{1000};
constexpr milliseconds kBackoffFirst{200};
constexpr milliseconds kBackoffMax{10000};

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// OpenSSL's error queue as one line (and emptied), for logs.
std::string TlsError(const char* what) {
  std::string out = what;
  while (unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    out += std::string(": ") + text;
  }
  return out;
}

// The host part of host:port (brackets of [v6]:port removed).
std::string HostOf(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

// Events an operator acts on are notice (5), the rest informational (6).
int Severity(const std::string& event) {
  return event == "refused" || event == "withheld" || event == "expired" ? 5 : 6;
}

std::string StringField(const nlohmann::json& record, const char* key) {
  auto found = record.find(key);
  return found != record.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// The next seq to send from the cursor file's text: a decimal number and a newline.
std::optional<uint64_t> ParseCursor(const std::string& text) {
  if (text.empty() || text.back() != '\n') return std::nullopt;
  uint64_t value = 0;
  const char* end = text.data() + text.size() - 1;
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

}  // namespace

std::string EscapeSdParam(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string SanitizeHeaderField(std::string_view value, size_t max_length) {
  if (value.empty()) return "-";
  std::string out(value.substr(0, max_length));
  for (char& c : out) {
    if (c < 33 || c > 126) c = '_';
  }
  return out;
}

core::Result<std::string> FormatSiemMessage(std::string_view record_json,
                                            const SiemHeader& header) {
  nlohmann::json record = nlohmann::json::parse(record_json, nullptr, false);
  if (!record.is_object() || !record.contains("seq") || !record["seq"].is_number_unsigned() ||
      !record.contains("event") || !record["event"].is_string()) {
    return Status(Code::kCorruption, "not an audit record");
  }
  uint64_t seq = record["seq"].get<uint64_t>();
  std::string event = record["event"].get<std::string>();
  std::string time = StringField(record, "time");
  // RFC 5424 TIMESTAMP: the record's RFC 3339 UTC time as stored, or the NILVALUE.
  if (!core::ParseRfc3339(time)) time = "-";
  std::string to;
  if (auto found = record.find("to"); found != record.end() && found->is_array()) {
    for (const nlohmann::json& recipient : *found) {
      if (!recipient.is_string()) continue;
      if (!to.empty()) to += ',';
      to += recipient.get<std::string>();
    }
  }
  std::string out = "<" + std::to_string(kSiemFacility * 8 + Severity(event)) + ">1 " + time + " " +
                    SanitizeHeaderField(header.hostname, 255) + " " +
                    SanitizeHeaderField(header.app_name, 48) + " " +
                    SanitizeHeaderField(header.procid, 128) + " " + SanitizeHeaderField(event, 32) +
                    " [" + kSiemSdId;
  auto param = [&](const char* name, const std::string& value) {
    out += std::string(" ") + name + "=\"" + EscapeSdParam(value) + "\"";
  };
  param("seq", std::to_string(seq));
  param("event", event);
  param("type", StringField(record, "type"));
  param("from", StringField(record, "from"));
  param("to", to);
  param("subject", StringField(record, "subject"));
  param("code", StringField(record, "code"));
  param("message_id", StringField(record, "message_id"));
  // The size of the first tree that holds the record: a signed head at least this large proves
  // it. A function of the record alone, so that a resent message is the same bytes.
  param("tree_size", std::to_string(seq + 1));
  out += "] ";
  out += record_json;
  return out;
}

std::string FrameOctetCounted(std::string_view message) {
  return std::to_string(message.size()) + " " + std::string(message);
}

SiemFeed::Options SiemOptionsFor(const BrokerConfig& config) {
  SiemFeed::Options options;
  options.address = config.siem_address;
  options.cursor_file = config.data_dir / "siem.cursor";
  options.header.app_name = config.siem_app_name;
  options.tls = config.siem_tls;
  options.ca_file = config.siem_ca_file;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) options.header.hostname = host;
  options.header.procid = std::to_string(getpid());
  return options;
}

SiemFeed::RecordSource SiemRecordSource(const AuditLog& audit) {
  return [&audit](uint64_t seq) -> core::Result<std::optional<std::string>> {
    core::Result<std::string> record = audit.RecordAt(seq);
    if (record.ok()) return std::optional<std::string>(std::move(record).value());
    if (record.status().code() == Code::kNotFound) return std::optional<std::string>();
    return record.status();
  };
}

SiemFeed::SiemFeed(Options options, RecordSource source, const core::Clock& clock,
                   core::RandomSource& random, Metrics* metrics)
    : options_(std::move(options)),
      source_(std::move(source)),
      clock_(clock),
      random_(random),
      metrics_(metrics) {}

core::Result<std::unique_ptr<SiemFeed>> SiemFeed::Start(Options options, RecordSource source,
                                                        const core::Clock& clock,
                                                        core::RandomSource& random,
                                                        Metrics* metrics) {
  std::unique_ptr<SiemFeed> feed(
      new SiemFeed(std::move(options), std::move(source), clock, random, metrics));
  std::ifstream in(feed->options_.cursor_file, std::ios::binary);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    std::optional<uint64_t> cursor = ParseCursor(text.str());
    if (!cursor) {
      return Status(Code::kCorruption, feed->options_.cursor_file.string() +
                                           ": not a SIEM cursor (a seq and newline)");
    }
    feed->cursor_ = *cursor;
  }
  feed->next_ = feed->cursor_;
  if (feed->options_.tls) {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    if (context == nullptr) return Status(Code::kInternal, TlsError("SSL_CTX_new"));
    feed->tls_context_ = context;
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_load_verify_locations(context, feed->options_.ca_file.c_str(), nullptr) != 1) {
      return Status(Code::kConfigInvalid,
                    TlsError(("siem.ca_file " + feed->options_.ca_file.string()).c_str()));
    }
  }
  feed->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (feed->wake_fd_ < 0) return Status(Code::kIoError, Errno("eventfd"));
  spdlog::info("event=siem_feed_started address={} cursor={}", feed->options_.address,
               feed->cursor_.load());
  feed->thread_ = std::thread([raw = feed.get()] { raw->Loop(); });
  return feed;
}

SiemFeed::~SiemFeed() {
  Stop();
  if (tls_context_ != nullptr) SSL_CTX_free(tls_context_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void SiemFeed::Committed(uint64_t audit_size) {
  uint64_t known = audit_size_.load();
  while (audit_size > known && !audit_size_.compare_exchange_weak(known, audit_size)) {
  }
  UpdateMetrics();
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // EAGAIN: the counter is saturated, the thread is woken anyway.
  }
}

void SiemFeed::Stop() {
  std::lock_guard lock(stop_mutex_);
  stop_ = true;
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
    // As in Committed.
  }
  if (thread_.joinable()) thread_.join();
}

bool SiemFeed::Wait(int fd, milliseconds timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN | POLLRDHUP, 0}};
  int ready = poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(std::max<int64_t>(timeout.count(), 0)));
  if (ready <= 0) return false;
  if (fds[0].revents != 0) {
    uint64_t count = 0;
    if (read(wake_fd_, &count, sizeof count) < 0) {
      // EAGAIN: another read drained it.
    }
  }
  return fd >= 0 && fds[1].revents != 0;
}

void SiemFeed::UpdateMetrics() {
  if (metrics_ == nullptr) return;
  uint64_t size = audit_size_.load(), cursor = cursor_.load();
  metrics_->SetSiem(sent_total_.load(), size > cursor ? size - cursor : 0);
}

void SiemFeed::Loop() {
  int failures = 0;
  while (!stop_) {
    if (next_ >= audit_size_.load()) {
      Wait(-1, kIdleCheck);  // nothing to send: connect once there is
      UpdateMetrics();
      continue;
    }
    core::Result<int> fd = Connect();
    if (fd.ok()) {
      Status secured = options_.tls ? StartTls(*fd) : Status::Ok();
      if (secured.ok()) {
        spdlog::info("event=siem_connected address={} tls={} from_seq={}", options_.address,
                     options_.tls, next_);
        RunConnection(*fd);
      } else {
        spdlog::warn("event=siem_tls_failed address={} error=\"{}\"", options_.address,
                     secured.message());
      }
      if (ssl_ != nullptr) {
        if (secured.ok()) SSL_shutdown(ssl_);  // close_notify, best effort: not awaited
        SSL_free(ssl_);
        ssl_ = nullptr;
      }
      close(*fd);
      failures = confirmed_.empty() ? failures + 1 : 0;
      // What the collector's kernel acknowledged shortly before the connection was lost is
      // sent again (Options::replay_window); a restart resends from the cursor only.
      core::MonotonicTime lost = clock_.MonotonicNow();
      for (const auto& [when, first] : confirmed_) {
        if (lost - when <= options_.replay_window) {
          next_ = std::min({next_, cursor_.load(), first});
          break;
        }
      }
      confirmed_.clear();
    } else {
      if (failures == 0 || failures % 10 == 0) {
        spdlog::warn("event=siem_connect_failed address={} error=\"{}\" attempts={}",
                     options_.address, fd.status().message(), failures + 1);
      }
      ++failures;
    }
    if (stop_) break;
    // Exponential backoff with jitter (half to all of the step), so that brokers restarted
    // together do not reconnect in lockstep.
    int64_t step =
        std::min<int64_t>(kBackoffMax.count(), kBackoffFirst.count() << std::min(failures, 10));
    milliseconds delay(step / 2 + static_cast<int64_t>(random_.Below(step / 2 + 1)));
    core::MonotonicTime until = clock_.MonotonicNow() + delay;
    while (!stop_ && clock_.MonotonicNow() < until) {
      Wait(-1, std::chrono::duration_cast<milliseconds>(until - clock_.MonotonicNow()) +
                   milliseconds(1));
    }
  }
  UpdateMetrics();
}

core::Result<int> SiemFeed::Connect() {
  const std::string& address = options_.address;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status(Code::kConfigInvalid, "not host:port: " + address);
  }
  std::string host = HostOf(address), port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); error != 0) {
    return Status(Code::kUnavailable, std::string("resolve: ") + gai_strerror(error));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(found, freeaddrinfo);
  std::string last_error = "no address";
  for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    int fd = socket(candidate->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = Errno("socket");
      continue;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    if (connect(fd, candidate->ai_addr, candidate->ai_addrlen) == 0) return fd;
    if (errno == EINPROGRESS) {
      pollfd pending{fd, POLLOUT, 0};
      core::MonotonicTime until = clock_.MonotonicNow() + kConnectTimeout;
      while (!stop_ && clock_.MonotonicNow() < until) {
        if (poll(&pending, 1, 100) > 0) break;
      }
      int error = 0;
      socklen_t length = sizeof error;
      if (pending.revents != 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 &&
          error == 0) {
        return fd;
      }
      last_error = pending.revents == 0 ? "connect: timed out"
                                        : "connect: " + std::string(std::strerror(error));
    } else {
      last_error = Errno("connect");
    }
    close(fd);
  }
  return Status(Code::kUnavailable, last_error);
}

void SiemFeed::RunConnection(int fd) {
  while (!stop_) {
    uint64_t size = audit_size_.load();
    if (next_ >= size) {
      if (Wait(fd, kIdleCheck)) {
        // The collector never speaks: readable means closed (or reset).
        if (!StillOpen(fd)) {
          spdlog::warn("event=siem_disconnected address={} error=\"closed by the collector\"",
                       options_.address);
          return;
        }
      }
      UpdateMetrics();
      continue;
    }
    uint64_t to = std::min<uint64_t>(size, next_ + options_.max_batch);
    Status sent = SendBatch(fd, next_, to);
    if (!sent.ok()) {
      if (!stop_) {
        spdlog::warn("event=siem_disconnected address={} error=\"{}\" cursor={}", options_.address,
                     sent.message(), cursor_.load());
      }
      return;
    }
    core::MonotonicTime now = clock_.MonotonicNow();
    confirmed_.emplace_back(now, next_);
    std::erase_if(confirmed_,
                  [&](const auto& entry) { return now - entry.first > options_.replay_window; });
    sent_total_ += to - next_;
    next_ = to;
    if (to > cursor_.load()) {
      Status persisted = PersistCursor(to);
      if (!persisted.ok()) {
        // Sent and confirmed, but a restart would resend them: at-least-once still holds.
        spdlog::error("event=siem_cursor_write_failed error=\"{}\"", persisted.message());
      }
      cursor_ = to;
    }
    UpdateMetrics();
  }
}

core::Status SiemFeed::SendBatch(int fd, uint64_t from, uint64_t to) {
  std::string buffer;
  for (uint64_t seq = from; seq < to; ++seq) {
    core::Result<std::optional<std::string>> record = source_(seq);
    if (!record.ok()) return record.status();
    if (!record->has_value()) {
      return Status(Code::kNotFound, "no committed audit record at seq " + std::to_string(seq));
    }
    core::Result<std::string> message = FormatSiemMessage(**record, options_.header);
    if (!message.ok()) {
      return Status(message.status().code(),
                    "seq " + std::to_string(seq) + ": " + message.status().message());
    }
    buffer += FrameOctetCounted(*message);
  }
  core::MonotonicTime until = clock_.MonotonicNow() + options_.ack_timeout;
  STAFETT_RETURN_IF_ERROR(WriteAll(fd, buffer, until));
  // Written is not received: wait until the collector's TCP stack acknowledged every byte (no
  // unacknowledged segment, nothing left in the send queue), polled with a growing step.
  milliseconds step(1);
  while (true) {
    tcp_info info{};
    socklen_t length = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
      return Status(Code::kUnavailable, Errno("TCP_INFO"));
    }
    // A collector that closed its side may not have read what its kernel acknowledged.
    if (info.tcpi_state != TCP_ESTABLISHED) {
      return Status(Code::kUnavailable, "connection closed by the collector");
    }
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) != 0) return Status(Code::kUnavailable, Errno("SIOCOUTQ"));
    if (info.tcpi_unacked == 0 && queued == 0) return Status::Ok();
    if (stop_) return Status(Code::kUnavailable, "stopping");
    if (clock_.MonotonicNow() >= until) {
      return Status(Code::kUnavailable, "not acknowledged within " +
                                            std::to_string(options_.ack_timeout.count()) + " ms");
    }
    Wait(-1, step);
    step = std::min(step * 2, milliseconds(50));
  }
}

core::Status SiemFeed::StartTls(int fd) {
  ssl_ = SSL_new(tls_context_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1)
    return Status(Code::kInternal, TlsError("SSL_new"));
  std::string host = HostOf(options_.address);
  in6_addr ip{};
  bool is_ip =
      inet_pton(AF_INET, host.c_str(), &ip) == 1 || inet_pton(AF_INET6, host.c_str(), &ip) == 1;
  X509_VERIFY_PARAM* verify = SSL_get0_param(ssl_);
  if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str()) != 1
            : (SSL_set_tlsext_host_name(ssl_, host.c_str()) != 1 ||
               X509_VERIFY_PARAM_set1_host(verify, host.c_str(), 0) != 1)) {
    return Status(Code::kInternal, TlsError("the name to verify"));
  }
  core::MonotonicTime until = clock_.MonotonicNow() + kConnectTimeout;
  while (true) {
    int done = SSL_connect(ssl_);
    if (done == 1) return Status::Ok();
    int error = SSL_get_error(ssl_, done);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      long verified = SSL_get_verify_result(ssl_);
      std::string why = TlsError("handshake");
      if (verified != X509_V_OK) why += std::string(": ") + X509_verify_cert_error_string(verified);
      return Status(Code::kUnavailable, why);
    }
    if (stop_ || clock_.MonotonicNow() >= until)
      return Status(Code::kUnavailable, "handshake: timed out");
    pollfd pending{fd, static_cast<short>(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    poll(&pending, 1, 100);
  }
}

core::Status SiemFeed::WriteAll(int fd, std::string_view data, core::MonotonicTime until) {
  size_t written = 0;
  while (written < data.size()) {
    if (stop_) return Status(Code::kUnavailable, "stopping");
    short wait_for = POLLOUT;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n = SSL_write(ssl_, data.data() + written, static_cast<int>(data.size() - written));
      if (n > 0) {
        written += static_cast<size_t>(n);
        continue;
      }
      int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_WANT_READ) {
        wait_for = POLLIN;
      } else if (error != SSL_ERROR_WANT_WRITE) {
        return Status(Code::kUnavailable, TlsError("SSL_write"));
      }
    } else {
      ssize_t n = send(fd, data.data() + written, data.size() - written, MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return Status(Code::kUnavailable, Errno("send"));
      }
    }
    if (clock_.MonotonicNow() >= until) return Status(Code::kUnavailable, "send: timed out");
    pollfd ready{fd, wait_for, 0};
    poll(&ready, 1, 100);
  }
  return Status::Ok();
}

bool SiemFeed::StillOpen(int fd) {
  char byte;
  if (ssl_ != nullptr) {
    // TLS 1.3 servers send session tickets after the handshake: read and drop what comes; a
    // close_notify, an alert or the end of the stream is the collector going away.
    ERR_clear_error();
    int got = SSL_read(ssl_, &byte, 1);
    if (got > 0) return true;
    int error = SSL_get_error(ssl_, got);
    return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
  }
  ssize_t got = recv(fd, &byte, 1, MSG_DONTWAIT);
  return got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR));
}

core::Status SiemFeed::PersistCursor(uint64_t next) {
  const std::filesystem::path& file = options_.cursor_file;
  std::filesystem::path temp = file;
  temp += ".tmp";
  std::string text = std::to_string(next) + "\n";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status(Code::kIoError, Errno(temp.c_str()));
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  std::string error = ok ? "" : Errno(temp.c_str());
  close(fd);
  if (!ok) return Status(Code::kIoError, error);
  if (rename(temp.c_str(), file.c_str()) != 0) return Status(Code::kIoError, Errno("rename"));
  // The rename is durable once the folder is.
  int dir = open(file.parent_path().empty() ? "." : file.parent_path().c_str(),
                 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Status(Code::kIoError, Errno("open the data dir"));
  int synced = fsync(dir);
  close(dir);
  if (synced != 0) return Status(Code::kIoError, Errno("fsync the data dir"));
  return Status::Ok();
}

}  // namespace stafett::broker
