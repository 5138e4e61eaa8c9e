// The query ops table (query_ops.h).
#include "query_ops.h"

#include <algorithm>

namespace stafett::broker {

using keys::Role;

// QueryOps() itself, with the handlers, is in query_service.cc (the handlers are the broker's).

const QueryOp* FindQueryOp(std::string_view op) {
  for (const QueryOp& each : QueryOps()) {
    if (each.op == op) return &each;
  }
  return nullptr;
}

bool MayAsk(Role role, std::string_view op) {
  const QueryOp* found = FindQueryOp(op);
  return found != nullptr &&
         std::find(found->roles.begin(), found->roles.end(), role) != found->roles.end();
}

}  // namespace stafett::broker
