// Sandbox paths, bench documents and the outbox file drop (see sandbox.h).
#include "sandbox.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

namespace stafett::bench {
namespace {

constexpr const char* kPersonnummer = "19121212-1212";  // the public test number

std::string Rfc3339(std::chrono::system_clock::time_point at) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The manifest's entry for agent ID.
std::optional<nlohmann::json> FindAgent(const nlohmann::json& manifest, const std::string& id) {
  for (const nlohmann::json& agent : manifest.value("agents", nlohmann::json::array())) {
    if (agent.value("id", "") == id) return agent;
  }
  return std::nullopt;
}

}  // namespace

std::optional<SandboxPaths> LoadSandbox(const std::filesystem::path& dir, const std::string& sender,
                                        const std::string& recipient, std::string* error) {
  std::ifstream file(dir / "county.json");
  nlohmann::json manifest = nlohmann::json::parse(file, nullptr, false);
  if (!manifest.is_object()) {
    *error = (dir / "county.json").string() + ": missing or not JSON";
    return std::nullopt;
  }
  std::optional<nlohmann::json> from = FindAgent(manifest, sender);
  std::optional<nlohmann::json> to = FindAgent(manifest, recipient);
  if (!from || !to) {
    *error = "county.json lists no agent " + (from ? recipient : sender);
    return std::nullopt;
  }
  SandboxPaths paths;
  paths.outbox = dir / from->value("outbox", "");
  paths.sent = paths.outbox / "sent";
  paths.rejected = paths.outbox / "rejected";
  paths.recipient_inbox = dir / to->value("inbox", "");
  return paths;
}

std::string ConsentDocument(const std::string& message_id, const std::string& consent_id,
                            const std::string& sender, const std::string& recipient,
                            std::chrono::system_clock::time_point now) {
  nlohmann::json document = {
      {"message_id", message_id},
      {"type", "consent_granted"},
      {"to", {recipient}},
      {"subject", {{"personnummer", kPersonnummer}}},
      {"consent_id", consent_id},
      {"body",
       {{"consent_id", consent_id},
        {"parties", {sender, recipient}},
        {"purposes", {"support"}},
        {"valid_from", Rfc3339(now - std::chrono::minutes(1))},
        {"valid_until", Rfc3339(now + std::chrono::hours(24 * 180))},
        {"given_by", {{{"role", "guardian"}}, {{"role", "guardian"}}, {{"role", "child"}}}}}}};
  return document.dump();
}

std::string SupportRequestDocument(const std::string& message_id, const std::string& consent_id,
                                   const std::string& recipient, size_t reason_bytes) {
  static constexpr std::string_view kText =
      " The pupil has been absent from school for four weeks and says that the way to school"
      " feels unsafe. Student health has met the pupil twice; the guardians ask for support"
      " from the open care of social services. The pupil wants help but does not want to change"
      " class.";
  std::string reason = "Bench referral " + message_id + ".";
  while (reason.size() < reason_bytes) reason += kText;
  reason.resize(reason_bytes);  // the text is ASCII: any cut is valid UTF-8
  nlohmann::json document = {
      {"message_id", message_id}, {"type", "support_request"},
      {"to", {recipient}},        {"subject", {{"personnummer", kPersonnummer}}},
      {"consent_id", consent_id}, {"body", {{"reason", reason}}}};
  return document.dump();
}

bool DropDocument(const std::filesystem::path& outbox, const std::string& name,
                  std::string_view text, std::string* error) {
  std::filesystem::path temp = outbox / ("." + name + ".tmp");
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    *error = temp.string() + ": " + std::strerror(errno);
    return false;
  }
  while (!text.empty()) {
    ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      *error = temp.string() + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  ::close(fd);
  if (::rename(temp.c_str(), (outbox / name).c_str()) != 0) {
    *error = (outbox / name).string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace stafett::bench
