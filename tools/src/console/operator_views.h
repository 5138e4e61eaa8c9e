// The operator's views: the endpoints table (and its JSON for refreshing), a message's
// timeline, the queues and what is stuck, the broker's health, the alert runbooks. Metadata only:
// ids, states, times, codes. Thread-safety: free functions, no state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "stafett/keys/trust_directory.h"

namespace stafett::tools::console {

// The rows of the endpoints table for the page's script: {"rows": [{"cells": [{"text",
// "class"}]}], "updated": time}, from the status query's answer STATUS.
nlohmann::json EndpointRows(const nlohmann::json& status, const std::string& language,
                            double warn_after);
std::string RenderEndpoints(const nlohmann::json& status, const std::string& language,
                            double warn_after);

// The form for a message id; ERROR (a text key) shown above it when not empty.
std::string RenderMessageForm(const std::string& language, const std::string& id,
                              const std::string& error);
// The track query's answer TRACK below the form.
std::string RenderMessage(const nlohmann::json& track, const std::string& language);

// The queues query's answer QUEUES: per endpoint what waits (each id a link to its timeline)
// and the deliveries that ended without delivery, with their codes. Metadata only.
std::string RenderQueues(const nlohmann::json& queues, const std::string& language);

// Storage state from STATUS, the METRICS text (Prometheus; may be empty), the keys of DIRECTORY.
std::string RenderHealth(const nlohmann::json& status, const std::string& metrics,
                         const keys::TrustDirectory& directory, const std::string& language);

// deploy/prometheus/README.md as a page, each alert a heading with an id (its name).
std::string RenderRunbooks(const std::string& language);

}  // namespace stafett::tools::console
