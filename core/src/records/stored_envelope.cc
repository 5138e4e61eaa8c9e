// StoredEnvelope codec.
#include "stafett/core/records/stored_envelope.h"

#include "records/proto_codec.h"
#include "stafett/records/v1/stored_envelope.pb.h"

namespace stafett::core {
namespace {

constexpr std::string_view kRecord = "StoredEnvelope";

std::string Problem(const Envelope& envelope) {
  if (envelope.header_bytes.empty()) return "header missing";
  if (envelope.signature.size() != kSignatureBytes) {
    return "signature is " + std::to_string(envelope.signature.size()) + " bytes, not 64";
  }
  if (envelope.payload.size() < kMinPayloadBytes) {
    return "payload is " + std::to_string(envelope.payload.size()) + " bytes, under " +
           std::to_string(kMinPayloadBytes);
  }
  return "";
}

}  // namespace

Result<std::string> EncodeStoredEnvelope(const Envelope& envelope) {
  std::string problem = Problem(envelope);
  if (!problem.empty()) return records_internal::Unwritable(kRecord, problem);
  records::v1::StoredEnvelope proto;
  proto.set_header(envelope.header_bytes);
  proto.set_signature(envelope.signature);
  proto.set_payload(envelope.payload);
  return records_internal::SerializeDeterministic(proto);
}

Result<Envelope> DecodeStoredEnvelope(std::string_view bytes) {
  records::v1::StoredEnvelope proto;
  STAFETT_RETURN_IF_ERROR(records_internal::ParseStrict(bytes, kRecord, &proto));
  Envelope envelope;
  envelope.header_bytes = proto.header();
  envelope.signature = proto.signature();
  envelope.payload = proto.payload();
  std::string problem = Problem(envelope);
  if (!problem.empty()) return records_internal::Corrupt(kRecord, problem);
  return envelope;
}

}  // namespace stafett::core
