// The agent journal's keys (docs/STORAGE.md, "The agent journal"), shared by the verbs in
// agent_journal.cc and the retention verbs in agent_journal_retention.cc.
#pragma once

#include <string>
#include <string_view>

namespace stafett::store::journal_keys {

constexpr std::string_view kFormat = "format";
constexpr std::string_view kOutgoing = "m/";
constexpr std::string_view kEnvelope = "e/";
constexpr std::string_view kPending = "p/";
constexpr std::string_view kSource = "s/";
constexpr std::string_view kConsent = "c/";
constexpr std::string_view kReceived = "r/";
constexpr std::string_view kPrefixes[] = {kOutgoing, kEnvelope, kPending,
                                          kSource,   kConsent,  kReceived};

inline std::string Key(std::string_view prefix, std::string_view id) {
  std::string key(prefix);
  key.append(id);
  return key;
}

}  // namespace stafett::store::journal_keys
