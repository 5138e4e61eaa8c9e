// TreeHead codec.
#include "stafett/core/records/tree_head.h"

#include <algorithm>

#include "records/proto_codec.h"
#include "stafett/records/v1/tree_head.pb.h"

namespace stafett::core {
namespace {

namespace pb = records::v1;
namespace internal = records_internal;
constexpr std::string_view kRecord = "TreeHead";

std::string Problem(const TreeHead& head) {
  if (head.key_id.empty()) return "key_id missing";
  if (head.signature.size() != kSignatureBytes) return "signature is not 64 bytes";
  return "";
}

std::string HashBytes(const Hash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

bool ReadHash(std::string_view bytes, Hash* out) {
  if (bytes.size() != out->size()) return false;
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(out->data()));
  return true;
}

}  // namespace

Result<std::string> EncodeTreeHead(const TreeHead& head) {
  std::string problem = Problem(head);
  if (!problem.empty()) return internal::Unwritable(kRecord, problem);
  pb::TreeHead proto;
  proto.set_tree_size(head.tree_size);
  proto.set_root(HashBytes(head.root));
  if (head.map_root) proto.set_map_root(HashBytes(*head.map_root));
  proto.set_timestamp(head.timestamp);
  proto.set_key_id(head.key_id);
  proto.set_signature(head.signature);
  return internal::SerializeDeterministic(proto);
}

Result<TreeHead> DecodeTreeHead(std::string_view bytes) {
  pb::TreeHead proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_tree_size()) return internal::Corrupt(kRecord, "tree_size missing");
  if (!proto.has_timestamp()) return internal::Corrupt(kRecord, "timestamp missing");
  TreeHead head;
  head.tree_size = proto.tree_size();
  if (!ReadHash(proto.root(), &head.root))
    return internal::Corrupt(kRecord, "root is not 32 bytes");
  if (!proto.map_root().empty()) {
    head.map_root.emplace();
    if (!ReadHash(proto.map_root(), &*head.map_root)) {
      return internal::Corrupt(kRecord, "map_root is not 32 bytes");
    }
  }
  head.timestamp = proto.timestamp();
  head.key_id = proto.key_id();
  head.signature = proto.signature();
  std::string problem = Problem(head);
  if (!problem.empty()) return internal::Corrupt(kRecord, problem);
  return head;
}

}  // namespace stafett::core
