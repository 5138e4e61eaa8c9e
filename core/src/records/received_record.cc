// ReceivedRecord codec.
#include "stafett/core/records/received_record.h"

#include "records/proto_codec.h"
#include "stafett/records/v1/journal.pb.h"

namespace stafett::core {
namespace {
constexpr std::string_view kRecord = "ReceivedRecord";
}  // namespace

Result<std::string> EncodeReceivedRecord(const ReceivedRecord& record) {
  records::v1::ReceivedRecord proto;
  proto.set_received_at(record.received_at);
  proto.set_type(record.type);
  if (record.expires_at != 0) proto.set_expires_at(record.expires_at);
  return records_internal::SerializeDeterministic(proto);
}

Result<ReceivedRecord> DecodeReceivedRecord(std::string_view bytes) {
  records::v1::ReceivedRecord proto;
  STAFETT_RETURN_IF_ERROR(records_internal::ParseStrict(bytes, kRecord, &proto));
  if (!proto.has_received_at()) return records_internal::Corrupt(kRecord, "received_at missing");
  return ReceivedRecord{proto.received_at(), proto.type(),
                        proto.has_expires_at() ? proto.expires_at() : 0};
}

}  // namespace stafett::core
