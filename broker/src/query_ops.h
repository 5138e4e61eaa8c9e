// The query service's ops, declared once: each op with the roles that may ask it. The broker's
// HandleQuery (query_service.cc) authorises by this table and dispatches its ops; docs/PROTOCOL.md,
// "Queries", lists the same ops with the same roles, and tests/broker/query_ops_test.cc holds the
// two together.
// Thread-safety: a constant table.
#pragma once

#include <string_view>
#include <vector>

#include "stafett/keys/trust_directory.h"

namespace stafett::broker {

struct QueryOp {
  std::string_view op;
  std::vector<keys::Role> roles;  // in the order the documentation names them
};

// Every op, in the documentation's order.
const std::vector<QueryOp>& QueryOps();
// The op named OP; nullptr for any other text.
const QueryOp* FindQueryOp(std::string_view op);
// Whether ROLE may ask OP (false for an unknown op).
bool MayAsk(keys::Role role, std::string_view op);

}  // namespace stafett::broker
