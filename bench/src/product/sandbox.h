// The product bench's view of a sandbox written by `stafett county init`: where the sender's
// outbox and the recipient's inbox are (from county.json), the documents the bench hands over,
// and the documented file drop (write `.name.tmp`, then rename it to `name.json`).
// Thread-safety: values and pure functions; DropDocument may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace stafett::bench {

struct SandboxPaths {
  std::filesystem::path outbox;           // the sender's outbox
  std::filesystem::path sent;             // outbox/sent: the broker accepted the file's message
  std::filesystem::path rejected;         // outbox/rejected: refused, beside NAME.error.json
  std::filesystem::path recipient_inbox;  // where the recipient's agent writes ID.json
};

// Reads DIR/county.json. On failure returns nullopt and sets ERROR.
std::optional<SandboxPaths> LoadSandbox(const std::filesystem::path& dir, const std::string& sender,
                                        const std::string& recipient, std::string* error);

// A consent_granted document: SENDER and RECIPIENT, purpose support, valid from a minute ago
// for 180 days, given by two guardians and the child (the public test personnummer).
std::string ConsentDocument(const std::string& message_id, const std::string& consent_id,
                            const std::string& sender, const std::string& recipient,
                            std::chrono::system_clock::time_point now);

// A support_request under CONSENT_ID whose body.reason is REASON_BYTES of synthetic text
// (no real names) that starts with the message id, so that no two bodies are equal.
std::string SupportRequestDocument(const std::string& message_id, const std::string& consent_id,
                                   const std::string& recipient, size_t reason_bytes);

// Writes TEXT to OUTBOX/.NAME.tmp and renames it to OUTBOX/NAME, the way docs/CONTRACT.md asks.
// No fsync: the agent takes over from the rename. On failure returns false and sets ERROR.
bool DropDocument(const std::filesystem::path& outbox, const std::string& name,
                  std::string_view text, std::string* error);

}  // namespace stafett::bench
