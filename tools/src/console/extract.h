// The register extract (registerutdrag) for one child: what consent existed, who relied on it,
// what was handed over to whom and when, what was stopped — built from the trail, every record
// checked against the signed head — as JSON, as printable HTML, and as PDF (headless Chromium).
// Thread-safety: free functions; one BrokerClient per caller.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "audit_queries.h"
#include "broker_client.h"

namespace stafett::tools::console {

// The extract for the child with PERSONNUMMER (pseudonymised here with CONFIG's key).
core::Result<nlohmann::json> BuildExtract(BrokerClient& client, const ClientConfig& config,
                                          const std::string& personnummer);

// The extract's body: <article class="extract">…</article>.
std::string RenderExtractArticle(const nlohmann::json& extract, const std::string& language);
// A standalone document with the style sheet inlined (for files and PDF).
std::string RenderExtractDocument(const nlohmann::json& extract, const std::string& language);

// Prints HTML to PDF with headless Chromium; kUnavailable with a one-line message when no
// chromium is installed.
core::Result<std::string> RenderPdf(const std::string& html);

}  // namespace stafett::tools::console
