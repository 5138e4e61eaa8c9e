// The query ops table (query_ops.h).
#include "query_ops.h"

#include <algorithm>

namespace stafett::broker {

using keys::Role;

const std::vector<QueryOp>& QueryOps() {
  static const std::vector<QueryOp> kOps = {
      // Operators see metadata only.
      {"status", {Role::kOperator, Role::kAuditor}},
      {"track", {Role::kOperator, Role::kAuditor}},
      {"trail", {Role::kAuditor}},
      {"head", {Role::kAuditor}},
      {"records", {Role::kAuditor}},
      {"inclusion", {Role::kAuditor}},
      {"consistency", {Role::kAuditor}},
      // Endpoints see the consents they are party to; auditors every consent of a subject (for
      // the register extract: parties, purposes, period, revocation).
      {"consents", {Role::kEndpoint, Role::kAuditor}},
      // Every consent an endpoint is a party of (its own only; no other role has a use for it).
      {"party_consents", {Role::kEndpoint}},
      // Only the broker's own key (held by whoever runs `stafett-broker backup` on its host).
      {"backup", {Role::kBroker}},
  };
  return kOps;
}

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
