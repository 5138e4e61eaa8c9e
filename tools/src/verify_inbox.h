// `stafett verify-inbox FILE --config AGENT_OR_AUDITOR_CONFIG`: checks a delivered inbox
// document offline against the trust directory — the sender's signature over the header it
// carries ("stafett" object) and that the header's facts are the document's. docs/AGENT.md.
// Thread-safety: CLI wiring and pure checks, single-threaded.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "stafett/core/status.h"
#include "stafett/keys/trust_directory.h"

namespace stafett::tools {

// Ok when DOCUMENT's "stafett" object holds a header signed by its sender's key in DIRECTORY
// and the header names the document's message_id, type, from, to, consent_id and the subject's
// pseudonym; kBadSignature or kSchemaInvalid saying which check failed otherwise.
core::Status VerifyInboxDocument(const nlohmann::json& document,
                                 const keys::TrustDirectory& directory);

// Registers `verify-inbox` on APP; it sets *exit_code when it runs.
void AddVerifyInboxCommand(CLI::App& app, int* exit_code);

}  // namespace stafett::tools
