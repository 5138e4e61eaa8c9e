// Logging set-up shared by every binary: spdlog to stderr, either human lines or JSON lines.
// Log calls use the form "event=name key=value …"; the JSON format turns those pairs into
// fields. Log lines never carry a personnummer, a name or a payload (tests scan for them).
// Thread-safety: call once at start, before other threads log.
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class formatter;
}

namespace stafett::core {

// FORMAT is "human" or "json"; LEVEL is an spdlog level name ("info", "debug", …).
void SetUpLogging(const std::string& program, const std::string& format, const std::string& level);

// The JSON-lines formatter, exposed for tests.
std::unique_ptr<spdlog::formatter> MakeJsonFormatter(const std::string& program);

}  // namespace stafett::core
