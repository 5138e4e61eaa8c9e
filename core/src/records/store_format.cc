// StoreFormat codec and the open-time check.
#include "stafett/core/records/store_format.h"

#include "records/proto_codec.h"
#include "stafett/records/v1/store_format.pb.h"

namespace stafett::core {
namespace {

namespace pb = records::v1;
namespace internal = records_internal;
constexpr std::string_view kRecord = "StoreFormat";

}  // namespace

std::string_view StoreKindName(StoreKind kind) {
  return kind == StoreKind::kBroker ? "broker store" : "agent journal";
}

StoreFormat CurrentStoreFormat(StoreKind kind) {
  return StoreFormat{
      kind, kind == StoreKind::kBroker ? kBrokerStoreFormatVersion : kAgentJournalFormatVersion};
}

Result<std::string> EncodeStoreFormat(const StoreFormat& format) {
  if (format.version == 0) return internal::Unwritable(kRecord, "version 0");
  pb::StoreFormat proto;
  proto.set_kind(format.kind == StoreKind::kBroker ? pb::STORE_KIND_BROKER
                                                   : pb::STORE_KIND_AGENT_JOURNAL);
  proto.set_version(format.version);
  return internal::SerializeDeterministic(proto);
}

Result<StoreFormat> DecodeStoreFormat(std::string_view bytes) {
  pb::StoreFormat proto;
  STAFETT_RETURN_IF_ERROR(internal::ParseStrict(bytes, kRecord, &proto));
  StoreFormat format;
  switch (proto.kind()) {
    case pb::STORE_KIND_BROKER:
      format.kind = StoreKind::kBroker;
      break;
    case pb::STORE_KIND_AGENT_JOURNAL:
      format.kind = StoreKind::kAgentJournal;
      break;
    default:
      return internal::Corrupt(kRecord, "kind missing or unknown");
  }
  if (!proto.has_version() || proto.version() == 0) {
    return internal::Corrupt(kRecord, "version missing");
  }
  format.version = proto.version();
  return format;
}

Status CheckStoreFormat(StoreKind kind, const std::optional<std::string>& stored, bool has_data,
                        std::string_view where) {
  StoreFormat current = CurrentStoreFormat(kind);
  std::string reads = "this build reads " + std::string(StoreKindName(kind)) + " format version " +
                      std::to_string(current.version);
  if (!stored) {
    if (!has_data) return Status::Ok();
    return Status(Code::kCorruption,
                  std::string(where) + ": the database has no format version (written by an " +
                      "earlier build, with JSON records); " + reads +
                      "; refusing to open it. Nothing converts old databases: start from an " +
                      "empty data folder (docs/STORAGE.md, \"Format version\")");
  }
  Result<StoreFormat> format = DecodeStoreFormat(*stored);
  if (!format.ok()) {
    return Status(Code::kCorruption, std::string(where) + ": " + format.status().message());
  }
  if (format->kind != kind) {
    return Status(Code::kCorruption, std::string(where) + ": the database is of kind '" +
                                         std::string(StoreKindName(format->kind)) + "', not '" +
                                         std::string(StoreKindName(kind)) +
                                         "'; refusing to open it");
  }
  if (format->version != current.version) {
    return Status(Code::kCorruption,
                  std::string(where) + ": the database has " + std::string(StoreKindName(kind)) +
                      " format version " + std::to_string(format->version) + "; " + reads +
                      "; refusing to open it (docs/STORAGE.md, \"Format version\")");
  }
  return Status::Ok();
}

}  // namespace stafett::core
