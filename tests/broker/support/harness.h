// Harness for broker tests: a county of key sets and a trust directory in a temp folder, an
// in-process broker on a real loopback socket with a real RocksDB and an injected clock, and
// protocol-level test clients (CURVE DEALER sockets speaking STF1).
// Thread-safety: the broker runs on its own thread; a TestClient belongs to the test thread.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "broker.h"
#include "stafett/core/clock.h"
#include "stafett/core/envelope.h"
#include "stafett/core/protocol.h"
#include "stafett/core/pseudonym.h"
#include "stafett/keys/key_set.h"

namespace stafett::broker::testing {

inline constexpr core::Micros kSecond = 1'000'000;

// A temp folder removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Principal {
  std::string id, role, kind, municipality;
  keys::KeySet keys;
};

// Key sets for the broker, three endpoints, an auditor and an operator; the directory.
class County {
 public:
  explicit County(const std::filesystem::path& dir);
  const Principal& Get(const std::string& id) const { return principals_.at(id); }
  std::filesystem::path directory_file() const { return dir_ / "trust" / "directory.json"; }
  std::filesystem::path keys_dir(const std::string& id) const { return dir_ / "keys" / id; }
  const core::PseudonymKey& pseudonym_key() const { return pseudonym_key_; }
  // A key set not in the directory: a stranger.
  keys::KeySet Stranger() const;

 private:
  std::filesystem::path dir_;
  std::map<std::string, Principal> principals_;
  core::PseudonymKey pseudonym_key_;
};

// The configuration BrokerProcess runs with: 127.0.0.1 on a free port, no HTTP, the county's
// broker keys and trust directory, data in DATA_DIR.
BrokerConfig TestBrokerConfig(const County& county, const std::filesystem::path& data_dir,
                              int64_t credit_window = 64);

// The broker on a thread, on 127.0.0.1 and a free port.
class BrokerProcess {
 public:
  BrokerProcess(const County& county, const std::filesystem::path& data_dir,
                core::ManualClock* clock, int64_t credit_window = 64);
  // With CONFIG, serving from STORE (null: the RocksDB store in config.data_dir). With
  // STORAGE_MAY_FAIL, Run stopping on a failed store (a simulated power cut) is no test failure.
  BrokerProcess(const BrokerConfig& config, core::ManualClock* clock,
                std::unique_ptr<store::BrokerStore> store, bool storage_may_fail);
  ~BrokerProcess();
  const std::string& endpoint() const { return endpoint_; }
  Broker& broker() { return *broker_; }
  // Whether Run has returned (by itself: a failed store) before Stop.
  bool returned() const { return returned_.load(); }
  // Tells Run to return without waiting for it: it does at its next loop turn (a command
  // received, or its poll timing out).
  void RequestStop() { stop_ = true; }
  void Stop();

 private:
  std::string endpoint_;
  std::unique_ptr<Broker> broker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> returned_{false};
  std::thread thread_;
};

// A protocol-level client authenticated with a key set.
class TestClient {
 public:
  TestClient(const std::string& endpoint, const keys::KeySet& own, const keys::KeySet& broker);
  ~TestClient();

  void Send(std::vector<std::string> frames);
  void SendCommand(core::protocol::Command command, std::vector<std::string> arguments);
  // The next message (kept ones first), or nullopt after TIMEOUT.
  std::optional<core::protocol::Message> Receive(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next message with COMMAND; other messages that arrive first are kept, in order, for
  // later calls (heartbeats are dropped). Fails the test on timeout.
  core::protocol::Message Expect(core::protocol::Command command,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  nlohmann::json Hello(int credit = 64);
  nlohmann::json Query(nlohmann::json query);
  // Publishes and waits for ACCEPTED or REFUSED; returns the answer's JSON with "command".
  nlohmann::json Publish(const core::Envelope& envelope);
  // Acknowledges a DELIVER with a valid signed receipt.
  void AcknowledgeDelivery(const core::protocol::Message& deliver, const keys::KeySet& own,
                           const std::string& own_id);
  zmq::socket_t& socket() { return *socket_; }
  // Waits for the handshake to fail for authentication (socket monitor event).
  bool HandshakeFailedAuth(std::chrono::milliseconds timeout);

 private:
  zmq::context_t context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<zmq::socket_t> monitor_;
  std::optional<core::protocol::Message> ReceiveFromSocket(std::chrono::milliseconds timeout);
  std::deque<core::protocol::Message> kept_;  // received while waiting for something else
};

// Builds and seals a message from FROM (its key set) to TO.
struct MessageSpec {
  std::string message_id, type, from;
  std::vector<std::string> to;
  std::string personnummer = "19121212-1212";
  std::string consent_id, ref;
  std::optional<core::ConsentScope> consent;
  core::Micros ttl = 7 * 24 * 3600 * kSecond;
  std::string body_text = "Eleven har varit borta från skolan i fyra veckor.";
};
core::Envelope Seal(const County& county, const MessageSpec& spec, core::Micros now);
std::string PseudonymOf(const County& county, const std::string& personnummer);

}  // namespace stafett::broker::testing
