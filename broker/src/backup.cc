// Backup: a RocksDB checkpoint of the broker's database, taken offline or from the running
// broker (which holds the database lock) through a QUERY signed by the broker's own key.
#include <chrono>
#include <zmq.hpp>

#include "broker_config.h"
#include "stafett/core/protocol.h"
#include "stafett/keys/key_set.h"
#include "stafett/keys/trust_directory.h"
#include "stafett/store/rocksdb_broker_store.h"

namespace stafett::broker {

using core::Code;
using core::Status;
namespace protocol = core::protocol;

namespace {

// "tcp://0.0.0.0:7700" binds every interface; connect to loopback instead.
std::string ConnectAddress(std::string bind) {
  for (std::string any : {"tcp://0.0.0.0:", "tcp://*:"}) {
    if (bind.rfind(any, 0) == 0) return "tcp://127.0.0.1:" + bind.substr(any.size());
  }
  return bind;
}

Status AskRunningBroker(const BrokerConfig& config, const std::filesystem::path& to) {
  core::Result<std::vector<keys::KeySet>> key_sets = keys::LoadKeyDir(config.keys_dir);
  if (!key_sets.ok()) return key_sets.status();
  if (key_sets->empty()) return Status(Code::kKeyInvalid, "no broker key set");
  const keys::KeySet& own = key_sets->front();
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(own.transport.public_key.data(), 32));
  socket.set(zmq::sockopt::curve_publickey, zmq::const_buffer(own.transport.public_key.data(), 32));
  socket.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(own.transport.secret_key.data(), 32));
  socket.connect(ConnectAddress(config.zmq_bind));
  nlohmann::json query = {{"id", 1}, {"op", "backup"}, {"to", to.string()}};
  std::vector<std::string> frames = protocol::Encode(protocol::Command::kQuery, {query.dump()});
  for (size_t i = 0; i < frames.size(); ++i) {
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::seconds(60)) == 0) {
    return Status(Code::kUnavailable, "the running broker did not answer the backup request");
  }
  std::vector<std::string> reply;
  zmq::message_t part;
  do {
    if (!socket.recv(part, zmq::recv_flags::none)) break;
    reply.push_back(part.to_string());
  } while (part.more());
  core::Result<protocol::Message> message = protocol::Decode(reply);
  if (!message.ok()) return message.status();
  if (!message->object.value("ok", false)) {
    return Status(core::CodeFromName(message->object.value("code", "")).value_or(Code::kInternal),
                  message->object.value("message", "backup failed"));
  }
  return Status::Ok();
}

}  // namespace

Status BackupDataDir(const BrokerConfig& config, const std::filesystem::path& to) {
  std::filesystem::path target = std::filesystem::absolute(to);
  if (std::filesystem::exists(target)) {
    return Status(Code::kIoError, target.string() + ": already exists");
  }
  core::Result<std::unique_ptr<store::BrokerStore>> store =
      store::OpenRocksDbBrokerStore(config.data_dir);
  if (store.ok()) return (*store)->Checkpoint(target);
  if (store.status().code() != Code::kUnavailable) return store.status();
  return AskRunningBroker(config, target);
}

}  // namespace stafett::broker
