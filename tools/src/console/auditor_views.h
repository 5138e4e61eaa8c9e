// The auditor's views: the trail search (a child by personnummer, sent by POST; an endpoint;
// a time span) with each record's proof checked, the log's verification, the extract's form.
// Thread-safety: free functions, no state.
#pragma once

#include <string>

#include "audit_queries.h"
#include "audit_verifier.h"

namespace stafett::tools::console {

// ERROR: a text key (or a broker message) shown above the form when not empty.
std::string RenderTrailForm(const std::string& language, const std::string& csrf,
                            const std::string& error);
// The checked trail; SUBJECT_PSEUDONYM is shown when the search was for a child.
std::string RenderTrail(const CheckedTrail& trail, const std::string& subject_pseudonym,
                        const std::string& language);

std::string RenderVerifyForm(const std::string& language, const std::string& csrf);
std::string RenderVerifyResult(const core::Result<VerifyReport>& report,
                               const std::string& language);

std::string RenderExtractForm(const std::string& language, const std::string& csrf,
                              const std::string& error);

}  // namespace stafett::tools::console
