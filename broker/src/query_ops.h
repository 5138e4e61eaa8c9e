// The query service's ops, declared once: each op with the roles that may ask it and the
// broker's handler that answers it. The broker's HandleQuery (query_service.cc) authorises by
// this table and calls the op's handler; docs/PROTOCOL.md, "Queries", lists the same ops with the
// same roles, and tests/broker/query_ops_test.cc holds the two together.
// Thread-safety: a constant table.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "stafett/core/clock.h"
#include "stafett/core/protocol.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::broker {

class Broker;
struct Peer;

// One query, as its handler sees it.
struct QueryRequest {
  const Peer& peer;
  const core::protocol::Message& message;
  const nlohmann::json& query;  // message.object
  const nlohmann::json& id;     // the asker's id for the answer (null if none)
  core::Micros now;
};

// A handler answers with the result to send now (a failure carries "ok": false, "code",
// "message"), or nullopt when it has staged its answer for after the commit or deferred the
// query itself. A malformed field that throws nlohmann::json::exception is PROTOCOL_ERROR.
using QueryHandler = std::optional<nlohmann::json> (Broker::*)(const QueryRequest& request);

struct QueryOp {
  std::string_view op;
  std::vector<keys::Role> roles;  // in the order the documentation names them
  QueryHandler handler;
};

// Every op, in the documentation's order (defined in query_service.cc, beside the handlers).
const std::vector<QueryOp>& QueryOps();
// The op named OP; nullptr for any other text.
const QueryOp* FindQueryOp(std::string_view op);
// Whether ROLE may ask OP (false for an unknown op).
bool MayAsk(keys::Role role, std::string_view op);

}  // namespace stafett::broker
