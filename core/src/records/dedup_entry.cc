// DedupEntry codec.
#include "stafett/core/records/dedup_entry.h"

#include "records/proto_codec.h"
#include "stafett/records/v1/index_entries.pb.h"

namespace stafett::core {
namespace {

namespace internal = records_internal;
constexpr std::string_view kRecord = "DedupEntry";

std::string Problem(const DedupEntry& entry) {
  if (std::string p = internal::CheckPrincipal("sender", entry.sender); !p.empty()) return p;
  return internal::CheckDigest("header_digest", entry.header_digest);
}

}  // namespace

Result<std::string> EncodeDedupEntry(const DedupEntry& entry) {
  std::string problem = Problem(entry);
  if (!problem.empty()) return internal::Unwritable(kRecord, problem);
  records::v1::DedupEntry proto;
  proto.set_sender(entry.sender);
  proto.set_header_digest(entry.header_digest);
  proto.set_seq(entry.seq);
  return internal::SerializeDeterministic(proto);
}

Result<DedupEntry> DecodeDedupEntry(std::string_view bytes) {
  records::v1::DedupEntry proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_seq()) return internal::Corrupt(kRecord, "seq missing");
  DedupEntry entry{proto.sender(), proto.header_digest(), proto.seq()};
  std::string problem = Problem(entry);
  if (!problem.empty()) return internal::Corrupt(kRecord, problem);
  return entry;
}

}  // namespace stafett::core
