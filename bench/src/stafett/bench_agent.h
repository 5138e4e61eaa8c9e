// The agent's side of the protocol for the bench, with the agent's per-message crypto: seal and
// sign every message it publishes; verify, open and sign a receipt for every delivery. Also
// writes the bench county (key sets and trust directory). One BenchAgent per thread: it owns
// its DEALER socket (CURVE, authenticated by its transport key).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "stafett/core/envelope.h"
#include "stafett/core/frames.h"
#include "stafett/core/protocol.h"
#include "stafett/core/status.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::bench {

inline constexpr const char* kSender = "flen.school";
inline constexpr const char* kRecipient = "flen.social";

// Writes DIR/keys/<id>/ for broker, sender and recipient, and DIR/trust/directory.json.
core::Status WriteCounty(const std::filesystem::path& dir);

// A county as loaded by an agent: its own key set, the broker's, the directory.
struct CountyView {
  keys::TrustDirectory directory;
  keys::KeySet own;
  std::string broker_transport_public;  // raw 32 bytes
};
core::Result<CountyView> LoadCounty(const std::filesystem::path& dir, const std::string& id);

class BenchAgent {
 public:
  BenchAgent(zmq::context_t& context, const std::string& endpoint, const CountyView& county,
             std::string id);

  zmq::socket_t& socket() { return socket_; }
  // HELLO with CREDIT; true once WELCOME arrives within TIMEOUT (HELLO is re-sent each second).
  bool Hello(int credit, std::chrono::milliseconds timeout);
  void Send(core::protocol::Command command, std::vector<std::string> arguments);
  void SendFrames(const std::vector<std::string>& frames);
  // The next message if one arrives within TIMEOUT_MS (0: only what is already there).
  std::optional<core::protocol::Message> Receive(int timeout_ms);

  // A 2 KiB referral to kRecipient, sealed and signed now (the agent's work per message),
  // expiring TTL after now.
  core::Result<core::Envelope> SealReferral(const std::string& message_id, core::Micros ttl) const;
  void Publish(const core::Envelope& envelope);
  // Verifies and opens a DELIVER, then answers DELIVERED with a signed receipt. Returns the
  // message id; an error if the envelope does not verify or open (then nothing is sent).
  core::Result<std::string> AcceptDelivery(const core::protocol::Message& deliver);
  // RECEIPT → ACK.
  void AcknowledgeReceipt(const core::protocol::Message& receipt);

 private:
  const CountyView& county_;
  std::string id_;
  zmq::socket_t socket_;
  std::string plaintext_;  // 2,048 bytes of referral JSON
  std::string subject_;
  std::vector<core::RecipientKey> recipients_;
};

}  // namespace stafett::bench
