// `stafett county tour`: the steps, the drop and the wait for each outcome.
#include "county_tour.h"

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "stafett/core/clock.h"

namespace stafett::tools {

using core::Code;
using core::Status;
namespace fs = std::filesystem;

namespace {

struct Folders {
  fs::path outbox, inbox;
};

std::optional<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

// The agents of DIR/county.json: id → outbox and inbox.
core::Result<std::map<std::string, Folders>> LoadAgents(const fs::path& dir) {
  std::optional<std::string> text = ReadText(dir / "county.json");
  if (!text) {
    return Status(Code::kConfigInvalid,
                  (dir / "county.json").string() + ": missing (run stafett county init first)");
  }
  nlohmann::json manifest = nlohmann::json::parse(*text, nullptr, false);
  if (!manifest.is_object() || !manifest.contains("agents") || !manifest["agents"].is_array()) {
    return Status(Code::kConfigInvalid, (dir / "county.json").string() + ": no agents");
  }
  std::map<std::string, Folders> agents;
  for (const nlohmann::json& agent : manifest["agents"]) {
    if (!agent.is_object()) continue;
    agents[agent.value("id", "")] = {dir / agent.value("outbox", ""),
                                     dir / agent.value("inbox", "")};
  }
  return agents;
}

// Writes CONTENT as OUTBOX/NAME the way integrators must: a dot-file, then a rename.
Status Drop(const fs::path& outbox, const std::string& name, const std::string& content) {
  fs::path temporary = outbox / ("." + name + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) return Status(Code::kIoError, "cannot write " + temporary.string());
  }
  std::error_code error;
  fs::rename(temporary, outbox / name, error);
  if (error) return Status(Code::kIoError, "cannot rename into " + outbox.string());
  return Status::Ok();
}

// What became of one dropped step: "" while undecided, else "delivered", "refused", "withheld"
// or "expired", with CODE for the last three.
std::string Outcome(const Folders& folders, const std::string& name, const std::string& message_id,
                    const std::vector<std::string>& to, std::string* code) {
  fs::path error_file = folders.outbox / "rejected" / (name + ".error.json");
  if (Exists(error_file)) {
    nlohmann::json error = nlohmann::json::parse(ReadText(error_file).value_or(""), nullptr, false);
    // The error file is renamed into place whole; an unreadable one is read again next time.
    if (!error.is_object()) return "";
    *code = error.value("code", "");
    return "refused";
  }
  if (!Exists(folders.outbox / "sent" / name)) return "";
  std::string outcome = "delivered";
  for (const std::string& recipient : to) {
    fs::path receipt_file = folders.inbox / ("receipt-" + message_id + "-" + recipient + ".json");
    if (!Exists(receipt_file)) return "";
    nlohmann::json receipt =
        nlohmann::json::parse(ReadText(receipt_file).value_or(""), nullptr, false);
    if (!receipt.is_object()) return "";
    std::string status = receipt.value("status", "");
    if (status != "delivered") {
      *code = receipt.value("code", "");
      outcome = status;
    }
  }
  return outcome;
}

std::string Join(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) joined += (joined.empty() ? "" : ", ") + item;
  return joined;
}

}  // namespace

core::Result<std::vector<TourStep>> LoadTour(const fs::path& examples) {
  fs::path file = examples / "tour.json";
  std::optional<std::string> text = ReadText(file);
  if (!text) return Status(Code::kConfigInvalid, file.string() + ": missing");
  nlohmann::json tour = nlohmann::json::parse(*text, nullptr, false);
  if (!tour.is_object() || !tour.contains("steps") || !tour["steps"].is_array()) {
    return Status(Code::kConfigInvalid, file.string() + ": no steps");
  }
  std::vector<TourStep> steps;
  for (const nlohmann::json& each : tour["steps"]) {
    std::string where = file.string() + ": step " + std::to_string(steps.size() + 1);
    if (!each.is_object()) return Status(Code::kConfigInvalid, where + " is not an object");
    TourStep step{each.value("file", ""), each.value("from", ""), each.value("expect", ""),
                  each.value("code", ""), each.value("why", "")};
    if (step.file.empty() || step.file.find('/') != std::string::npos || step.from.empty()) {
      return Status(Code::kConfigInvalid, where + " needs a file name and from");
    }
    if (step.expect != "delivered" && !(step.expect == "refused" && !step.code.empty())) {
      return Status(Code::kConfigInvalid, where + ": expect delivered, or refused with a code");
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

Status RunTour(const TourOptions& options, std::FILE* out) {
  core::Result<std::vector<TourStep>> steps = LoadTour(options.examples);
  if (!steps.ok()) return steps.status();
  core::Result<std::map<std::string, Folders>> agents = LoadAgents(options.county_dir);
  if (!agents.ok()) return agents.status();
  size_t delivered = 0, refused = 0;
  for (size_t i = 0; i < steps->size(); ++i) {
    const TourStep& step = (*steps)[i];
    std::string where = "step " + std::to_string(i + 1) + " (" + step.file + ")";
    auto agent = agents->find(step.from);
    if (agent == agents->end()) {
      return Status(Code::kConfigInvalid,
                    where + ": the sandbox has no agent " + step.from + " (use --preset three)");
    }
    std::optional<std::string> text = ReadText(options.examples / "valid" / step.file);
    nlohmann::json document =
        text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    std::vector<std::string> to;
    if (document.is_object() && document.contains("to") && document["to"].is_array()) {
      for (const nlohmann::json& recipient : document["to"]) {
        if (recipient.is_string()) to.push_back(recipient.get<std::string>());
      }
    }
    std::string message_id = document.is_object() ? document.value("message_id", "") : "";
    if (message_id.empty() || to.empty()) {
      return Status(Code::kConfigInvalid,
                    where + ": not an outbox document with a message_id and recipients");
    }
    std::string number = std::to_string(i + 1);
    std::string name =
        "tour-" + std::string(number.size() < 2 ? "0" : "") + number + "-" + step.file;
    const Folders& folders = agent->second;
    if (Exists(folders.outbox / "sent" / name) || Exists(folders.outbox / "rejected" / name)) {
      return Status(Code::kConfigInvalid,
                    where +
                        ": this sandbox has had the tour already; run it on a fresh one "
                        "(stafett county init)");
    }
    std::fprintf(out, "%2zu  %-13s -> %-28s %-20s %s: ", i + 1, step.from.c_str(), Join(to).c_str(),
                 document.value("type", "").c_str(), message_id.c_str());
    std::fflush(out);
    STAFETT_RETURN_IF_ERROR(Drop(folders.outbox, name, *text));
    auto deadline =
        core::SystemClock::Instance().MonotonicNow() + std::chrono::seconds(options.wait_seconds);
    std::string code, outcome;
    while ((outcome = Outcome(folders, name, message_id, to, &code)).empty()) {
      if (core::SystemClock::Instance().MonotonicNow() >= deadline) {
        std::fprintf(out, "no outcome\n");
        return Status(Code::kUnavailable,
                      where + ": no outcome within " + std::to_string(options.wait_seconds) +
                          " s (are the broker and agent " + step.from + " running?)");
      }
      // A command-line tool waiting on another process's files: a short poll is enough.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::fprintf(out, "%s%s%s\n", outcome.c_str(), code.empty() ? "" : " ", code.c_str());
    if (outcome != step.expect || (outcome == "refused" && code != step.code)) {
      return Status(Code::kInternal, where + ": " + outcome + (code.empty() ? "" : " " + code) +
                                         ", the tour expects " + step.expect +
                                         (step.code.empty() ? "" : " " + step.code));
    }
    if (!step.why.empty()) std::fprintf(out, "    (%s)\n", step.why.c_str());
    (outcome == "delivered" ? delivered : refused) += 1;
  }
  std::fprintf(out, "tour: %zu steps, %zu delivered, %zu refused as expected\n", steps->size(),
               delivered, refused);
  return Status::Ok();
}

}  // namespace stafett::tools
