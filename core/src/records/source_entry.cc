// SourceEntry codec.
#include "stafett/core/records/source_entry.h"

#include "records/proto_codec.h"
#include "stafett/records/v1/journal.pb.h"

namespace stafett::core {
namespace {
constexpr std::string_view kRecord = "SourceEntry";
}  // namespace

Result<std::string> EncodeSourceEntry(const SourceEntry& entry) {
  std::string problem = records_internal::CheckMessageId("message_id", entry.message_id, false);
  if (!problem.empty()) return records_internal::Unwritable(kRecord, problem);
  records::v1::SourceEntry proto;
  proto.set_message_id(entry.message_id);
  return records_internal::SerializeDeterministic(proto);
}

Result<SourceEntry> DecodeSourceEntry(std::string_view bytes) {
  records::v1::SourceEntry proto;
  STAFETT_RETURN_IF_ERROR(records_internal::ParseStrict(bytes, kRecord, &proto));
  std::string problem = records_internal::CheckMessageId("message_id", proto.message_id(), false);
  if (!problem.empty()) return records_internal::Corrupt(kRecord, problem);
  return SourceEntry{proto.message_id()};
}

}  // namespace stafett::core
