// The bench agent: county files, CURVE DEALER, seal/verify/open/receipt per message.
#include "bench_agent.h"

#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"

namespace stafett::bench {

namespace protocol = core::protocol;

namespace {

constexpr core::Micros kSecond = 1'000'000;

struct Row {
  const char *id, *role, *kind, *municipality;
};
constexpr Row kRows[] = {{"broker", "broker", "", ""},
                         {kSender, "endpoint", "school", "flen"},
                         {kRecipient, "endpoint", "social", "flen"}};

keys::Role RoleOf(const std::string& name) {
  return name == "broker" ? keys::Role::kBroker : keys::Role::kEndpoint;
}

// A referral body padded so that the plaintext is exactly 2,048 bytes.
std::string ReferralPlaintext() {
  nlohmann::json body = {
      {"v", 1}, {"personnummer", "19121212-1212"}, {"body", {{"description", ""}}}};
  size_t base = body.dump().size();
  body["body"]["description"] = std::string(2048 - base, 'x');
  return body.dump();
}

}  // namespace

core::Status WriteCounty(const std::filesystem::path& dir) {
  core::Micros now = core::SystemClock::Instance().Now();
  keys::TrustDirectory directory;
  directory.set_county("bench");
  for (const Row& row : kRows) {
    core::Result<keys::KeySet> key_set =
        keys::GenerateKeySet(row.id, now - 3600 * kSecond, now + 3650LL * 24 * 3600 * kSecond);
    if (!key_set.ok()) return key_set.status();
    std::filesystem::path keys_dir = dir / "keys" / row.id;
    std::filesystem::create_directories(keys_dir);
    STAFETT_RETURN_IF_ERROR(keys::WriteKeySet(*key_set, keys_dir));
    keys::Principal principal;
    principal.id = row.id;
    principal.role = RoleOf(row.role);
    principal.kind = row.kind;
    principal.municipality = row.municipality;
    principal.name = *row.kind ? std::string(row.id) : std::string();
    STAFETT_RETURN_IF_ERROR(directory.AddPrincipal(principal, *key_set));
  }
  std::filesystem::create_directories(dir / "trust");
  return directory.Save(dir / "trust" / "directory.json");
}

core::Result<CountyView> LoadCounty(const std::filesystem::path& dir, const std::string& id) {
  core::Result<keys::TrustDirectory> directory =
      keys::TrustDirectory::Load(dir / "trust" / "directory.json");
  if (!directory.ok()) return directory.status();
  core::Result<std::vector<keys::KeySet>> own = keys::LoadKeyDir(dir / "keys" / id);
  if (!own.ok()) return own.status();
  core::Micros now = core::SystemClock::Instance().Now();
  const keys::PublicKeys* broker = directory->CurrentKeys("broker", now);
  if (broker == nullptr) return core::Status(core::Code::kConfigInvalid, "no broker key");
  return CountyView{std::move(directory).value(), std::move(own->front()), broker->transport};
}

BenchAgent::BenchAgent(zmq::context_t& context, const std::string& endpoint,
                       const CountyView& county, std::string id)
    : county_(county),
      id_(std::move(id)),
      socket_(context, zmq::socket_type::dealer),
      plaintext_(ReferralPlaintext()) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::sndhwm, 100000);
  socket_.set(zmq::sockopt::rcvhwm, 100000);
  socket_.set(zmq::sockopt::curve_serverkey,
              zmq::const_buffer(county_.broker_transport_public.data(), 32));
  socket_.set(zmq::sockopt::curve_publickey,
              zmq::const_buffer(county_.own.transport.public_key.data(), 32));
  socket_.set(zmq::sockopt::curve_secretkey,
              zmq::const_buffer(county_.own.transport.secret_key.data(), 32));
  socket_.connect(endpoint);
  // Any 64-hex pseudonym: the broker only checks its form; agents derive it with the county key.
  subject_ = core::ToHex(core::Blake2b256("19121212-1212", "bench-pseudonym-key-0123456789ab"));
  core::Micros now = core::SystemClock::Instance().Now();
  const keys::PublicKeys* recipient = county_.directory.CurrentKeys(kRecipient, now);
  if (recipient != nullptr) {
    recipients_.push_back({kRecipient, recipient->key_id, recipient->encryption});
  }
}

bool BenchAgent::Hello(int credit, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    SendFrames(protocol::Encode(protocol::HelloFrame{static_cast<uint64_t>(credit), "bench"}));
    auto retry = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < retry) {
      std::optional<protocol::Message> message = Receive(100);
      if (message && message->command == protocol::Command::kWelcome) return true;
    }
  }
  return false;
}

void BenchAgent::Send(protocol::Command command, std::vector<std::string> arguments) {
  SendFrames(protocol::Encode(command, std::move(arguments)));
}

void BenchAgent::SendFrames(const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket_.send(zmq::buffer(frames[i]),
                 i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

std::optional<protocol::Message> BenchAgent::Receive(int timeout_ms) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return std::nullopt;
  std::vector<std::string> frames;
  zmq::message_t part;
  do {
    if (!socket_.recv(part, zmq::recv_flags::none)) break;
    frames.push_back(part.to_string());
  } while (part.more());
  core::Result<protocol::Message> message = protocol::Decode(frames);
  if (!message.ok()) return std::nullopt;
  return std::move(message).value();
}

core::Result<core::Envelope> BenchAgent::SealReferral(const std::string& message_id,
                                                      core::Micros ttl) const {
  core::Micros now = core::SystemClock::Instance().Now();
  core::Header header;
  header.message_id = message_id;
  header.type = "concern_report";
  header.from = id_;
  header.to = {kRecipient};
  header.subject = subject_;
  header.sent_at = now;
  header.expires_at = now + ttl;
  header.sender_key_id = county_.own.key_id;
  return core::SealEnvelope(header, plaintext_, county_.own.signing, recipients_);
}

void BenchAgent::Publish(const core::Envelope& envelope) {
  Send(protocol::Command::kPublish, {envelope.header_bytes, envelope.signature, envelope.payload});
}

core::Result<std::string> BenchAgent::AcceptDelivery(const protocol::Message& deliver) {
  core::Envelope envelope{deliver.arguments[1], deliver.arguments[2], deliver.arguments[3]};
  core::Result<core::Header> header = core::ParseHeader(envelope.header_bytes);
  if (!header.ok()) return header.status();
  const keys::PublicKeys* sender = county_.directory.KeyById(header->from, header->sender_key_id);
  if (sender == nullptr) return core::Status(core::Code::kUnknownKey, "sender key");
  STAFETT_RETURN_IF_ERROR(core::VerifyEnvelope(envelope, *header, sender->signing));
  core::Result<std::string> plaintext =
      core::OpenEnvelope(envelope, *header, id_, county_.own.encryption);
  if (!plaintext.ok()) return plaintext.status();
  std::string signature =
      core::Sign(county_.own.signing,
                 core::ReceiptSigningInput(header->message_id, header->payload_digest, id_));
  core::Result<protocol::DeliverFrame> frame = protocol::ParseDeliver(deliver);
  if (!frame.ok()) return frame.status();
  SendFrames(protocol::Encode(protocol::DeliveredFrame{
      header->message_id, frame->delivery, county_.own.key_id, core::ToBase64(signature)}));
  return header->message_id;
}

void BenchAgent::AcknowledgeReceipt(const protocol::Message& receipt) {
  core::Result<protocol::ReceiptFrame> frame = protocol::ParseReceipt(receipt);
  if (frame.ok()) SendFrames(protocol::Encode(protocol::AckFrame{frame->delivery}));
}

}  // namespace stafett::bench
