// SourceKey: how the journal recognises one outbox file drop without keeping its name.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace stafett::agent {

// Identifies one file drop without keeping its name (integrators put names and numbers in
// file names): hex keyed BLAKE2b-256 over the name and the SHA-256 of the content. NAME_KEY is
// a secret of this agent (OutboxNameKey), so the name cannot be guessed back from the hash.
std::string SourceKey(std::string_view name_key, const std::string& file_name,
                      std::string_view content);
// The key SourceKey uses, derived from the agent's pseudonym key (another purpose, another key).
std::string OutboxNameKey(std::string_view pseudonym_key);

}  // namespace stafett::agent
