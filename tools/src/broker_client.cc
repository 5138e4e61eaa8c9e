// BrokerClient: config loading, CURVE connection and query round trips.
#include "broker_client.h"

#include <cstdio>

#include "stafett/core/config.h"
#include "stafett/core/frames.h"
#include "stafett/core/protocol.h"

namespace stafett::tools {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

std::chrono::milliseconds broker_timeout = kDefaultBrokerTimeout;

// An answer usually comes within milliseconds; after this long the user is told we wait.
constexpr std::chrono::milliseconds kQuietWait{500};

std::string Seconds(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

}  // namespace

void SetBrokerTimeout(std::chrono::milliseconds timeout) { broker_timeout = timeout; }

std::chrono::milliseconds BrokerTimeout() { return broker_timeout; }

core::Result<ClientConfig> LoadClientConfig(const std::filesystem::path& file,
                                            const std::string& section) {
  core::Result<core::Config> loaded = core::Config::Load(file);
  if (!loaded.ok()) return loaded.status();
  const core::Config& config = *loaded;
  ClientConfig out;
  auto text = [&](const std::string& key, std::optional<std::string> fallback,
                  std::string* target) -> Status {
    core::Result<std::string> value = config.GetString(section + "." + key, std::move(fallback));
    if (!value.ok()) return value.status();
    *target = *value;
    return Status::Ok();
  };
  auto path = [&](const std::string& key, std::optional<std::string> fallback,
                  std::filesystem::path* target) -> Status {
    if (!fallback && !config.Has(section + "." + key)) return Status::Ok();
    core::Result<std::filesystem::path> value = config.GetPath(section + "." + key, fallback);
    if (!value.ok()) return value.status();
    *target = *value;
    return Status::Ok();
  };
  STAFETT_RETURN_IF_ERROR(text("id", std::nullopt, &out.id));
  STAFETT_RETURN_IF_ERROR(text("broker_zmq", std::nullopt, &out.broker_zmq));
  STAFETT_RETURN_IF_ERROR(text("broker_http", "", &out.broker_http));
  STAFETT_RETURN_IF_ERROR(path("keys_dir", "keys", &out.keys_dir));
  STAFETT_RETURN_IF_ERROR(path("trust_directory", std::nullopt, &out.trust_directory));
  if (out.trust_directory.empty())
    return config.Error(section + ".trust_directory", "missing (required)");
  STAFETT_RETURN_IF_ERROR(path("pseudonym_key", std::nullopt, &out.pseudonym_key));
  STAFETT_RETURN_IF_ERROR(path("state_dir", std::nullopt, &out.state_dir));
  // [log] is shared with the other programs' configs; anything else in these tables is a typo.
  config.Allow("log.format");
  config.Allow("log.level");
  STAFETT_RETURN_IF_ERROR(config.RejectUnknownKeys({section, "log"}));
  return out;
}

core::Result<std::unique_ptr<BrokerClient>> BrokerClient::Connect(const ClientConfig& config,
                                                                  const core::Clock& clock) {
  std::unique_ptr<BrokerClient> client(new BrokerClient(clock));
  core::Result<keys::TrustDirectory> directory = keys::TrustDirectory::Load(config.trust_directory);
  if (!directory.ok()) return directory.status();
  client->directory_ = std::move(directory).value();
  core::Result<std::vector<keys::KeySet>> key_sets = keys::LoadKeyDir(config.keys_dir);
  if (!key_sets.ok()) return key_sets.status();
  if (key_sets->empty()) {
    return Status(Code::kKeyInvalid, config.keys_dir.string() + ": no key set found");
  }
  const keys::KeySet& own = key_sets->front();
  const keys::Principal* broker = nullptr;
  for (const keys::Principal& principal : client->directory_.principals()) {
    if (principal.role == keys::Role::kBroker) broker = &principal;
  }
  if (broker == nullptr || broker->keys.empty()) {
    return Status(Code::kConfigInvalid, "the trust directory names no broker");
  }
  const keys::PublicKeys* broker_keys =
      client->directory_.CurrentKeys(broker->id, core::SystemClock::Instance().Now());
  if (broker_keys == nullptr) return Status(Code::kKeyInvalid, "the broker has no key valid now");
  try {
    client->socket_ = std::make_unique<zmq::socket_t>(client->context_, zmq::socket_type::dealer);
    client->socket_->set(zmq::sockopt::linger, 0);
    client->socket_->set(zmq::sockopt::curve_serverkey,
                         zmq::const_buffer(broker_keys->transport.data(), 32));
    client->socket_->set(zmq::sockopt::curve_publickey,
                         zmq::const_buffer(own.transport.public_key.data(), 32));
    client->socket_->set(zmq::sockopt::curve_secretkey,
                         zmq::const_buffer(own.transport.secret_key.data(), 32));
    client->socket_->connect(config.broker_zmq);
    client->endpoint_ = config.broker_zmq;
  } catch (const zmq::error_t& error) {
    return Status(Code::kUnavailable, config.broker_zmq + ": " + error.what());
  }
  return client;
}

core::Result<nlohmann::json> BrokerClient::Query(nlohmann::json query,
                                                 std::chrono::milliseconds timeout) {
  uint64_t id = next_id_++;
  query["id"] = id;
  std::vector<std::string> frames = protocol::Encode(protocol::Command::kQuery, {query.dump()});
  for (size_t i = 0; i < frames.size(); ++i) {
    socket_->send(zmq::buffer(frames[i]),
                  i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  const auto start = clock_.MonotonicNow();
  const auto deadline = start + timeout;
  zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
  while (true) {
    auto now = clock_.MonotonicNow();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (!said_waiting_) {
      // Quiet for the first moment, then one line, so that a down broker is not a silent hang.
      auto quiet = std::chrono::duration_cast<std::chrono::milliseconds>(start + kQuietWait - now);
      if (quiet.count() > 0 && quiet < left) left = quiet;
    }
    if (left.count() <= 0 || zmq::poll(&item, 1, left) == 0) {
      if (clock_.MonotonicNow() < deadline) {  // zmq_poll may wake a little early
        if (!said_waiting_) {
          said_waiting_ = true;
          std::fprintf(stderr, "stafett: waiting for the broker at %s (timeout %s)\n",
                       endpoint_.c_str(), Seconds(timeout).c_str());
        }
        continue;
      }
      return Status(Code::kUnavailable, "no answer from the broker at " + endpoint_ + " within " +
                                            Seconds(timeout) +
                                            " (is it running, and is this key in its trust "
                                            "directory? --timeout SECONDS waits longer)");
    }
    std::vector<std::string> reply;
    zmq::message_t part;
    do {
      if (!socket_->recv(part, zmq::recv_flags::none)) break;
      reply.push_back(part.to_string());
    } while (part.more());
    core::Result<protocol::Message> message = protocol::Decode(reply);
    if (!message.ok()) continue;
    if (message->command == protocol::Command::kError) {
      core::Result<protocol::ErrorFrame> error = protocol::ParseError(*message);
      if (!error.ok()) return error.status();
      return Status(error->code, error->message);
    }
    if (message->command != protocol::Command::kResult) continue;
    const nlohmann::json& result = message->object;
    if (Status checked = protocol::CheckFields(protocol::Command::kResult, result); !checked.ok()) {
      return checked;
    }
    if (result.value("id", nlohmann::json()) != nlohmann::json(id)) continue;  // a late answer
    if (!result.at("ok").get<bool>()) {
      return Status(core::CodeFromName(result.value("code", "")).value_or(Code::kInternal),
                    result.value("message", "the query failed"));
    }
    return result;
  }
}

}  // namespace stafett::tools
