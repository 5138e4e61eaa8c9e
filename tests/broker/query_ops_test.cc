// The query ops: docs/PROTOCOL.md's "Queries" table names the same ops with the same roles as
// the broker's declaration (broker/src/query_ops.cc), and the broker authorises by it.
#include "query_ops.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

namespace stafett::broker::testing {
namespace {

// op → "role, role" as the documentation's table has them.
std::map<std::string, std::string> DocumentedOps() {
  std::ifstream in(std::string(STAFETT_SOURCE_DIR) + "/docs/PROTOCOL.md");
  std::map<std::string, std::string> ops;
  std::string line;
  bool in_section = false;
  const std::regex row(R"(^\| `([a-z_]+)` \| ([a-z, ]+) \|)");
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Queries";
    std::smatch match;
    if (in_section && std::regex_search(line, match, row)) ops[match[1]] = match[2];
  }
  return ops;
}

std::string Roles(const QueryOp& op) {
  std::string out;
  for (keys::Role role : op.roles) {
    if (!out.empty()) out += ", ";
    out += keys::RoleName(role);
  }
  return out;
}

TEST(QueryOpsTest, TheProtocolDocumentListsEveryOpWithItsRoles) {
  std::map<std::string, std::string> documented = DocumentedOps();
  ASSERT_FALSE(documented.empty()) << "no query table found in docs/PROTOCOL.md";
  std::map<std::string, std::string> declared;
  for (const QueryOp& op : QueryOps()) declared[std::string(op.op)] = Roles(op);
  EXPECT_EQ(documented, declared);
  EXPECT_TRUE(documented.count("backup")) << "the backup op is documented";
}

TEST(QueryOpsTest, EveryOpHasAHandlerAndEachHandlerOneOp) {
  std::vector<QueryHandler> handlers;
  for (const QueryOp& op : QueryOps()) {
    EXPECT_NE(op.handler, nullptr) << op.op;
    for (QueryHandler other : handlers) {
      EXPECT_FALSE(other == op.handler) << op.op << " shares another op's handler";
    }
    handlers.push_back(op.handler);
  }
}

TEST(QueryOpsTest, OnlyTheDeclaredRolesMayAsk) {
  EXPECT_TRUE(MayAsk(keys::Role::kAuditor, "trail"));
  EXPECT_FALSE(MayAsk(keys::Role::kOperator, "trail"));
  EXPECT_FALSE(MayAsk(keys::Role::kEndpoint, "status"));
  EXPECT_TRUE(MayAsk(keys::Role::kEndpoint, "party_consents"));
  EXPECT_FALSE(MayAsk(keys::Role::kAuditor, "party_consents"));
  EXPECT_TRUE(MayAsk(keys::Role::kBroker, "backup"));
  EXPECT_FALSE(MayAsk(keys::Role::kOperator, "backup"));
  EXPECT_FALSE(MayAsk(keys::Role::kAuditor, "no_such_op"));
  EXPECT_EQ(FindQueryOp("no_such_op"), nullptr);
}

}  // namespace
}  // namespace stafett::broker::testing
