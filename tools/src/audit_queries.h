// What `stafett audit trail|extract` and the console's auditor views share: the child's
// pseudonym from a personnummer (computed here with the county key; the broker never sees the
// number) and the checked trail.
// Thread-safety: free functions, no state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "audit_verifier.h"
#include "broker_client.h"

namespace stafett::tools {

// Parses PERSONNUMMER (any accepted form) and pseudonymises it with CONFIG's pseudonym key.
// Errors never contain the number.
core::Result<std::string> PseudonymOf(const ClientConfig& config, const std::string& personnummer);

struct TrailFilter {
  std::string subject;   // a pseudonym; or
  std::string endpoint;  // an endpoint id
  std::string from, to;  // RFC 3339; may be empty
};

struct CheckedRecord {
  uint64_t seq = 0;
  nlohmann::json record;
};

struct CheckedTrail {
  TreeHead head;                       // the signed head the whole trail was proved under
  std::vector<CheckedRecord> records;  // within FILTER's span, ascending seq
};

// The trail for FILTER, every page, checked complete under one signed head (FetchVerifiedTrail:
// the head's signature, the trail map proof, each record's inclusion, the chain), then cut to
// FILTER's span. The broker records the query as an audit_query. Any failed check fails it all
// (kCorruption / kBadSignature naming the position): the broker's word alone is not taken.
core::Result<CheckedTrail> QueryCheckedTrail(BrokerClient& client, const TrailFilter& filter);

}  // namespace stafett::tools
