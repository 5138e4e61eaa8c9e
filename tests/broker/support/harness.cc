// Harness for broker tests: county keys, an in-process broker, and protocol test clients.
#include "harness.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "stafett/core/encoding.h"
#include "stafett/core/personnummer.h"
#include "support/sandbox_files.h"

namespace stafett::broker::testing {

namespace protocol = core::protocol;

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "stafett-test-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
}

namespace {

// Below the ephemeral range and reserved against the other test processes (sandbox_files.h).
int FreePort() { return stafett::testing::FindFreePortRange(1); }

keys::KeySet MakeKeySet(const std::string& id) {
  core::Micros now = core::SystemClock::Instance().Now();
  core::Result<keys::KeySet> key_set =
      keys::GenerateKeySet(id, now - 3600 * kSecond, now + 3650LL * 24 * 3600 * kSecond);
  if (!key_set.ok()) std::abort();
  return std::move(key_set).value();
}

nlohmann::json PublicEntry(const keys::KeySet& key_set) {
  return {{"key_id", key_set.key_id},
          {"transport", key_set.transport.PublicZ85()},
          {"encryption", core::ToBase64(key_set.encryption.public_key)},
          {"signing", core::ToBase64(key_set.signing.public_key)},
          {"valid_from", core::FormatRfc3339(key_set.valid_from)},
          {"valid_until", core::FormatRfc3339(key_set.valid_until)}};
}

}  // namespace

County::County(const std::filesystem::path& dir)
    : dir_(dir), pseudonym_key_(core::PseudonymKey::Generate()) {
  struct Row {
    const char *id, *role, *kind, *municipality;
  };
  const Row rows[] = {{"broker", "broker", "", ""},
                      {"flen.school", "endpoint", "school", "flen"},
                      {"flen.social", "endpoint", "social", "flen"},
                      {"region.health", "endpoint", "health", "region"},
                      {"auditor", "auditor", "", ""},
                      {"operator", "operator", "", ""}};
  nlohmann::json principals = nlohmann::json::array();
  for (const Row& row : rows) {
    Principal principal{row.id, row.role, row.kind, row.municipality, MakeKeySet(row.id)};
    std::filesystem::create_directories(keys_dir(row.id));
    if (!keys::WriteKeySet(principal.keys, keys_dir(row.id)).ok()) std::abort();
    nlohmann::json entry = {
        {"id", row.id}, {"role", row.role}, {"keys", {PublicEntry(principal.keys)}}};
    if (*row.kind) {
      entry["kind"] = row.kind;
      entry["municipality"] = row.municipality;
      entry["name"] = std::string(row.id);
    }
    principals.push_back(entry);
    principals_.emplace(row.id, std::move(principal));
  }
  std::filesystem::create_directories(dir_ / "trust");
  std::ofstream out(directory_file());
  out << nlohmann::json({{"version", 1}, {"county", "test"}, {"principals", principals}}).dump(2);
}

keys::KeySet County::Stranger() const { return MakeKeySet("stranger.school"); }

BrokerConfig TestBrokerConfig(const County& county, const std::filesystem::path& data_dir,
                              int64_t credit_window) {
  BrokerConfig config;
  config.zmq_bind = "tcp://127.0.0.1:" + std::to_string(FreePort());
  config.http_bind = "";
  config.data_dir = data_dir;
  config.keys_dir = county.keys_dir("broker");
  config.trust_directory = county.directory_file();
  config.credit_window = credit_window;
  config.min_free_bytes = 0;
  return config;
}

BrokerProcess::BrokerProcess(const County& county, const std::filesystem::path& data_dir,
                             core::ManualClock* clock, int64_t credit_window)
    : BrokerProcess(TestBrokerConfig(county, data_dir, credit_window), clock, nullptr, false) {}

BrokerProcess::BrokerProcess(const BrokerConfig& config, core::ManualClock* clock,
                             std::unique_ptr<store::BrokerStore> store, bool storage_may_fail)
    : endpoint_(config.zmq_bind) {
  core::Result<std::unique_ptr<Broker>> created = Broker::Create(config, *clock, std::move(store));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  if (!created.ok()) std::abort();
  broker_ = std::move(created).value();
  thread_ = std::thread([this, storage_may_fail] {
    core::Status ran = broker_->Run(stop_);
    if (!storage_may_fail || ran.code() != core::Code::kIoError) {
      EXPECT_TRUE(ran.ok()) << ran.ToString();
    }
    returned_ = true;
  });
  // Bound before clients connect: one that connects earlier is refused and retries only after
  // libzmq's reconnect interval (100 ms).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!broker_->metrics().ready() && !returned_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling a flag, no event
  }
}

BrokerProcess::~BrokerProcess() { Stop(); }

void BrokerProcess::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  broker_.reset();
}

TestClient::TestClient(const std::string& endpoint, const keys::KeySet& own,
                       const keys::KeySet& broker)
    : context_(1) {
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  socket_->set(zmq::sockopt::linger, 0);
  socket_->set(zmq::sockopt::curve_serverkey,
               zmq::const_buffer(broker.transport.public_key.data(), 32));
  socket_->set(zmq::sockopt::curve_publickey,
               zmq::const_buffer(own.transport.public_key.data(), 32));
  socket_->set(zmq::sockopt::curve_secretkey,
               zmq::const_buffer(own.transport.secret_key.data(), 32));
  std::string monitor_address =
      "inproc://monitor-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  zmq_socket_monitor(socket_->handle(), monitor_address.c_str(),
                     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
  monitor_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
  monitor_->set(zmq::sockopt::linger, 0);
  monitor_->connect(monitor_address);
  socket_->connect(endpoint);
}

TestClient::~TestClient() {
  monitor_.reset();
  socket_.reset();
}

void TestClient::Send(std::vector<std::string> frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket_->send(zmq::buffer(frames[i]),
                  i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

void TestClient::SendCommand(protocol::Command command, std::vector<std::string> arguments) {
  Send(protocol::Encode(command, std::move(arguments)));
}

std::optional<protocol::Message> TestClient::Receive(std::chrono::milliseconds timeout) {
  if (!kept_.empty()) {
    protocol::Message message = std::move(kept_.front());
    kept_.pop_front();
    return message;
  }
  return ReceiveFromSocket(timeout);
}

std::optional<protocol::Message> TestClient::ReceiveFromSocket(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<std::string> frames;
  zmq::message_t part;
  do {
    if (!socket_->recv(part, zmq::recv_flags::none)) break;
    frames.push_back(part.to_string());
  } while (part.more());
  core::Result<protocol::Message> message = protocol::Decode(frames);
  EXPECT_TRUE(message.ok()) << message.status().ToString();
  if (!message.ok()) return std::nullopt;
  return std::move(message).value();
}

protocol::Message TestClient::Expect(protocol::Command command, std::chrono::milliseconds timeout) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (it->command == command) {
      protocol::Message message = std::move(*it);
      kept_.erase(it);
      return message;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::optional<protocol::Message> message =
        ReceiveFromSocket(std::max(left, std::chrono::milliseconds(0)));
    if (!message) {
      ADD_FAILURE() << "timed out waiting for " << protocol::CommandName(command);
      return protocol::Message{protocol::Command::kError, {}, nlohmann::json::object()};
    }
    if (message->command == command) return *message;
    if (message->command != protocol::Command::kHeartbeat) kept_.push_back(std::move(*message));
  }
}

nlohmann::json TestClient::Hello(int credit) {
  SendCommand(protocol::Command::kHello, {nlohmann::json({{"credit", credit}}).dump()});
  return Expect(protocol::Command::kWelcome).object;
}

nlohmann::json TestClient::Query(nlohmann::json query) {
  if (!query.contains("id")) query["id"] = 1;
  SendCommand(protocol::Command::kQuery, {query.dump()});
  return Expect(protocol::Command::kResult).object;
}

nlohmann::json TestClient::Publish(const core::Envelope& envelope) {
  SendCommand(protocol::Command::kPublish,
              {envelope.header_bytes, envelope.signature, envelope.payload});
  while (true) {
    std::optional<protocol::Message> message = Receive(std::chrono::seconds(10));
    if (!message) {
      ADD_FAILURE() << "no answer to PUBLISH";
      return {{"command", "TIMEOUT"}};
    }
    if (message->command == protocol::Command::kAccepted ||
        message->command == protocol::Command::kRefused) {
      nlohmann::json answer = message->object;
      answer["command"] = std::string(protocol::CommandName(message->command));
      return answer;
    }
    if (message->command == protocol::Command::kError) {
      nlohmann::json answer = message->object;
      answer["command"] = "ERROR";
      return answer;
    }
  }
}

void TestClient::AcknowledgeDelivery(const protocol::Message& deliver, const keys::KeySet& own,
                                     const std::string& own_id) {
  core::Result<core::Header> header = core::ParseHeader(deliver.arguments[1]);
  ASSERT_TRUE(header.ok());
  std::string signature = core::Sign(
      own.signing, core::ReceiptSigningInput(header->message_id, header->payload_digest, own_id));
  nlohmann::json delivered = {{"message_id", header->message_id},
                              {"delivery", deliver.object["delivery"]},
                              {"receipt_key", own.key_id},
                              {"receipt_signature", core::ToBase64(signature)}};
  SendCommand(protocol::Command::kDelivered, {delivered.dump()});
}

bool TestClient::HandshakeFailedAuth(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  zmq::pollitem_t item{monitor_->handle(), 0, ZMQ_POLLIN, 0};
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (zmq::poll(&item, 1, left) == 0) return false;
    zmq::message_t event, address;
    if (!monitor_->recv(event, zmq::recv_flags::none)) return false;
    if (event.more()) (void)monitor_->recv(address, zmq::recv_flags::none);
    uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof(id));
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
      return true;
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) return false;
  }
  return false;
}

std::string PseudonymOf(const County& county, const std::string& personnummer) {
  core::Result<core::Personnummer> parsed =
      core::ParsePersonnummer(personnummer, core::SystemClock::Instance().Now());
  if (!parsed.ok()) std::abort();
  return core::Pseudonymise(county.pseudonym_key(), *parsed);
}

core::Envelope Seal(const County& county, const MessageSpec& spec, core::Micros now) {
  core::Header header;
  header.message_id = spec.message_id;
  header.type = spec.type;
  header.from = spec.from;
  header.to = spec.to;
  header.subject = PseudonymOf(county, spec.personnummer);
  header.consent_id = spec.consent_id;
  header.consent = spec.consent;
  header.ref = spec.ref;
  header.sent_at = now;
  header.expires_at = now + spec.ttl;
  const keys::KeySet& sender = county.Get(spec.from).keys;
  header.sender_key_id = sender.key_id;
  std::vector<core::RecipientKey> recipients;
  for (const std::string& id : spec.to) {
    const keys::KeySet& recipient = county.Get(id).keys;
    recipients.push_back({id, recipient.key_id, recipient.encryption.public_key});
  }
  nlohmann::json plaintext = {
      {"v", 1}, {"personnummer", spec.personnummer}, {"body", {{"description", spec.body_text}}}};
  core::Result<core::Envelope> envelope =
      core::SealEnvelope(header, plaintext.dump(), sender.signing, recipients);
  EXPECT_TRUE(envelope.ok()) << envelope.status().ToString();
  return envelope.ok() ? *envelope : core::Envelope{};
}

}  // namespace stafett::broker::testing
