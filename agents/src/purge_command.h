// PurgeCommand: `stafett-agent --config FILE purge --before T`, an erasure request
// (docs/PRIVACY.md, "At the agents"). With the agent stopped it takes data_dir's lock and opens
// the journal itself; while the agent runs (the lock is held) it asks the running agent, through
// POST /v1/admin/purge on its local API with the bearer token. Prints one JSON object: the
// counts, "before" and "via" ("journal" or "agent_api").
// Thread-safety: runs on main's thread, once.
#pragma once

#include <string>

#include "agent_config.h"

namespace stafett::agent {

// Exit codes (docs/AGENT.md, "Commands").
inline constexpr int kPurgeDone = 0;
inline constexpr int kPurgeFailed = 1;       // the journal, a folder or the agent's API failed
inline constexpr int kPurgeUsage = 2;        // a bad --before (or config, from main)
inline constexpr int kPurgeUnreachable = 3;  // the agent runs but its API cannot be used

int RunPurge(const AgentConfig& config, const std::string& before);

}  // namespace stafett::agent
