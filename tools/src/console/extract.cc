// The register extract: gathered from the trail (and the consents the broker holds), rendered
// in Swedish or English, printed to PDF by headless Chromium.
#include "console/extract.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "console/assets.h"
#include "console/html.h"
#include "stafett/core/clock.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/core/personnummer.h"

namespace stafett::tools::console {
namespace {

using core::Code;
using core::Status;

std::string Joined(const nlohmann::json& list) {
  if (list.is_string()) return list.get<std::string>();
  std::string out;
  if (!list.is_array()) return out;
  for (const nlohmann::json& item : list) {
    if (!out.empty()) out += ", ";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

bool IsConsentEvent(const std::string& event) {
  return event == "consent_granted" || event == "consent_revoked";
}

// Consents as the broker holds them (parties, purposes, period, revocation), if it lets this
// auditor ask; an empty object otherwise (the extract then shows what the trail holds).
nlohmann::json HeldConsents(BrokerClient& client, const std::string& pseudonym) {
  nlohmann::json by_id = nlohmann::json::object();
  core::Result<nlohmann::json> answer = client.Query({{"op", "consents"}, {"subject", pseudonym}});
  if (!answer.ok()) return by_id;
  for (const nlohmann::json& consent : (*answer)["consents"]) {
    by_id[consent.value("consent_id", "")] = consent;
  }
  return by_id;
}

}  // namespace

core::Result<nlohmann::json> BuildExtract(BrokerClient& client, const ClientConfig& config,
                                          const std::string& personnummer) {
  core::Result<core::Personnummer> number =
      core::ParsePersonnummer(personnummer, core::SystemClock::Instance().Now());
  if (!number.ok()) return number.status();
  core::Result<std::string> pseudonym = PseudonymOf(config, personnummer);
  if (!pseudonym.ok()) return pseudonym.status();
  core::Result<CheckedTrail> trail = QueryCheckedTrail(client, {*pseudonym, "", "", ""});
  if (!trail.ok()) return trail.status();
  nlohmann::json held = HeldConsents(client, *pseudonym);

  nlohmann::json consents = nlohmann::json::array();
  std::map<std::string, size_t> consent_index;
  nlohmann::json handoffs = nlohmann::json::array();
  std::map<std::string, size_t> handoff_index;
  nlohmann::json refusals = nlohmann::json::array();
  nlohmann::json lookups = nlohmann::json::array();
  for (const CheckedRecord& checked : trail->records) {
    const nlohmann::json& record = checked.record;
    std::string event = record.value("event", "");
    std::string message_id = record.value("message_id", "");
    std::string consent_id = record.value("consent_id", "");
    if (event == "consent_granted") {
      nlohmann::json consent = {{"consent_id", consent_id},
                                {"granted_at", record.value("time", "")},
                                {"recorded_by", record.value("from", "")},
                                {"parties", record.value("to", nlohmann::json::array())},
                                {"message_id", message_id},
                                {"seq", checked.seq}};
      if (held.contains(consent_id)) {
        const nlohmann::json& facts = held[consent_id];
        consent["parties"] = facts.value("parties", consent["parties"]);
        consent["purposes"] = facts.value("purposes", nlohmann::json::array());
        consent["valid_from"] = facts.value("valid_from", "");
        consent["valid_until"] = facts.value("valid_until", "");
        consent["state"] = facts.value("state", "");
      }
      consent_index[consent_id] = consents.size();
      consents.push_back(std::move(consent));
    } else if (event == "consent_revoked") {
      auto found = consent_index.find(consent_id);
      if (found != consent_index.end()) {
        consents[found->second]["revoked_at"] = record.value("time", "");
        consents[found->second]["revoked_by"] = record.value("from", "");
      }
    } else if (event == "accepted" && !IsConsentEvent(record.value("type", ""))) {
      handoff_index[message_id] = handoffs.size();
      handoffs.push_back({{"message_id", message_id},
                          {"type", record.value("type", "")},
                          {"from", record.value("from", "")},
                          {"to", record.value("to", nlohmann::json::array())},
                          {"time", record.value("time", "")},
                          {"consent_id", consent_id},
                          {"outcomes", nlohmann::json::array()},
                          {"seq", checked.seq}});
    } else if (event == "delivered" || event == "expired" || event == "withheld") {
      auto found = handoff_index.find(message_id);
      if (found != handoff_index.end()) {
        nlohmann::json outcome = {{"event", event},
                                  {"to", Joined(record.value("to", nlohmann::json::array()))},
                                  {"time", record.value("time", "")}};
        if (record.contains("code")) outcome["code"] = record["code"];
        handoffs[found->second]["outcomes"].push_back(std::move(outcome));
      }
    } else if (event == "refused") {
      refusals.push_back({{"message_id", message_id},
                          {"type", record.value("type", "")},
                          {"from", record.value("from", "")},
                          {"to", record.value("to", nlohmann::json::array())},
                          {"time", record.value("time", "")},
                          {"code", record.value("code", "")}});
    } else if (event == "audit_query") {
      lookups.push_back({{"time", record.value("time", "")}, {"actor", record.value("actor", "")}});
    }
  }
  return nlohmann::json{
      {"subject", {{"personnummer", core::FormatPersonnummer(*number)}, {"pseudonym", *pseudonym}}},
      {"generated_at", core::FormatRfc3339(core::SystemClock::Instance().Now())},
      {"issued_by", config.id},
      {"consents", consents},
      {"handoffs", handoffs},
      {"refusals", refusals},
      {"lookups", lookups},
      {"verification",
       {{"tree_size", trail->head.tree_size},
        {"root", core::HashToHex(trail->head.root)},
        {"signed_head", trail->head.json},
        {"records_checked", trail->records.size()},
        {"all_verified", true},  // else QueryCheckedTrail failed and there is no extract
        {"complete", true}}}};
}

std::string RenderExtractArticle(const nlohmann::json& extract, const std::string& language) {
  auto text = [&](const char* key) { return Escape(Text(language, key)); };
  auto header = [&](std::initializer_list<const char*> keys) {
    std::string row = "<thead><tr>";
    for (const char* key : keys) row += "<th scope=\"col\">" + text(key) + "</th>";
    return row + "</tr></thead>";
  };
  auto event_name = [&](const std::string& event) {
    std::string key = "event." + event;
    std::string name = Text(language, key);
    return Escape(name == key ? event : name);
  };
  std::string html = "<article class=\"extract\" lang=\"" + language + "\"><h1>" +
                     text("extract.heading") + "</h1><p>" + text("extract.intro") +
                     "</p><dl class=\"facts\">";
  const nlohmann::json& subject = extract["subject"];
  html += "<dt>" + text("extract.pnr") + "</dt><dd>" + Escape(subject.value("personnummer", "")) +
          "</dd>";
  html += "<dt>" + text("extract.pseudonym") + "</dt><dd><code>" +
          Escape(subject.value("pseudonym", "")) + "</code></dd>";
  html += "<dt>" + text("extract.generated") + "</dt><dd>" +
          Escape(extract.value("generated_at", "")) + "</dd>";
  html += "<dt>" + text("extract.by") + "</dt><dd>" + Escape(extract.value("issued_by", "")) +
          "</dd></dl>";

  html += "<h2>" + text("extract.consents") + "</h2>";
  if (extract["consents"].empty()) {
    html += "<p>" + text("extract.consents.none") + "</p>";
  } else {
    html += "<table id=\"consents\">" +
            header({"col.consent", "col.given_by", "col.recorded_by", "col.parties", "col.purposes",
                    "col.period", "col.granted", "col.revoked"}) +
            "<tbody>";
    for (const nlohmann::json& consent : extract["consents"]) {
      std::string period;
      if (!consent.value("valid_from", "").empty()) {
        period = consent.value("valid_from", "") + " – " + consent.value("valid_until", "");
      }
      std::string revoked =
          consent.contains("revoked_at")
              ? consent.value("revoked_at", "") + " (" + consent.value("revoked_by", "") + ")"
              : Text(language, "not_revoked");
      html += "<tr><th scope=\"row\"><code>" + Escape(consent.value("consent_id", "")) +
              "</code></th><td>" + text("given_by.unknown") + "</td><td>" +
              Escape(consent.value("recorded_by", "")) + "</td><td>" +
              Escape(Joined(consent.value("parties", nlohmann::json()))) + "</td><td>" +
              Escape(Joined(consent.value("purposes", nlohmann::json()))) + "</td><td>" +
              Escape(period) + "</td><td>" + Escape(consent.value("granted_at", "")) + "</td><td>" +
              Escape(revoked) + "</td></tr>";
    }
    html += "</tbody></table>";
  }

  html += "<h2>" + text("extract.handoffs") + "</h2>";
  if (extract["handoffs"].empty()) {
    html += "<p>" + text("extract.handoffs.none") + "</p>";
  } else {
    html += "<table id=\"handoffs\">" +
            header({"col.when", "col.type", "col.from", "col.to", "col.consent", "col.delivered",
                    "col.message"}) +
            "<tbody>";
    for (const nlohmann::json& handoff : extract["handoffs"]) {
      std::string outcomes;
      for (const nlohmann::json& outcome : handoff["outcomes"]) {
        if (!outcomes.empty()) outcomes += "<br>";
        outcomes += event_name(outcome.value("event", "")) + " " + Escape(outcome.value("to", "")) +
                    " " + Escape(outcome.value("time", ""));
        if (outcome.contains("code")) outcomes += " (" + Escape(outcome.value("code", "")) + ")";
      }
      if (outcomes.empty()) outcomes = text("delivered.waiting");
      html += "<tr><th scope=\"row\">" + Escape(handoff.value("time", "")) + "</th><td>" +
              Escape(handoff.value("type", "")) + "</td><td>" + Escape(handoff.value("from", "")) +
              "</td><td>" + Escape(Joined(handoff["to"])) + "</td><td><code>" +
              Escape(handoff.value("consent_id", "")) + "</code></td><td>" + outcomes +
              "</td><td><code>" + Escape(handoff.value("message_id", "")) + "</code></td></tr>";
    }
    html += "</tbody></table>";
  }

  html += "<h2>" + text("extract.refusals") + "</h2>";
  if (extract["refusals"].empty()) {
    html += "<p>" + text("extract.refusals.none") + "</p>";
  } else {
    html += "<table id=\"refusals\">" +
            header({"col.when", "col.type", "col.from", "col.to", "col.code", "col.message"}) +
            "<tbody>";
    for (const nlohmann::json& refusal : extract["refusals"]) {
      html += "<tr><th scope=\"row\">" + Escape(refusal.value("time", "")) + "</th><td>" +
              Escape(refusal.value("type", "")) + "</td><td>" + Escape(refusal.value("from", "")) +
              "</td><td>" + Escape(Joined(refusal["to"])) + "</td><td>" +
              Escape(refusal.value("code", "")) + "</td><td><code>" +
              Escape(refusal.value("message_id", "")) + "</code></td></tr>";
    }
    html += "</tbody></table>";
  }

  if (!extract["lookups"].empty()) {
    html += "<h2>" + text("extract.lookups") + "</h2><table id=\"lookups\">" +
            header({"col.when", "extract.by"}) + "<tbody>";
    for (const nlohmann::json& lookup : extract["lookups"]) {
      html += "<tr><th scope=\"row\">" + Escape(lookup.value("time", "")) + "</th><td>" +
              Escape(lookup.value("actor", "")) + "</td></tr>";
    }
    html += "</tbody></table>";
  }

  const nlohmann::json& verification = extract["verification"];
  const nlohmann::json& head = verification["signed_head"];
  html += "<section class=\"verification\"><h2>" + text("extract.verification") + "</h2><p>" +
          text("extract.verification.text") + "</p><dl class=\"facts\">";
  html += "<dt>" + text("extract.log_size") + "</dt><dd>" +
          std::to_string(verification.value("tree_size", uint64_t{0})) + "</dd>";
  html += "<dt>" + text("extract.root") + "</dt><dd><code>" +
          Escape(verification.value("root", "")) + "</code></dd>";
  html += "<dt>" + text("extract.head_time") + "</dt><dd>" + Escape(head.value("timestamp", "")) +
          "</dd>";
  html += "<dt>" + text("extract.key") + "</dt><dd><code>" + Escape(head.value("key_id", "")) +
          "</code></dd>";
  html += "<dt>" + text("extract.signature") + "</dt><dd><code>" +
          Escape(head.value("signature", "")) + "</code></dd>";
  bool verified = verification.value("all_verified", false);
  html += "<dt>" + text("extract.all_verified") + "</dt><dd class=\"" +
          (verified ? "ok\">" + text("yes") : "failed\">" + text("no")) + " (" +
          std::to_string(verification.value("records_checked", 0)) + ")</dd>";
  html += "</dl></section></article>";
  return html;
}

std::string RenderExtractDocument(const nlohmann::json& extract, const std::string& language) {
  return "<!DOCTYPE html>\n<html lang=\"" + language + "\"><head><meta charset=\"utf-8\"><title>" +
         Escape(Text(language, "extract.heading")) + "</title><style>" +
         std::string(FindAsset("console.css").value_or("")) + "</style></head><body><main>" +
         RenderExtractArticle(extract, language) + "</main></body></html>\n";
}

core::Result<std::string> RenderPdf(const std::string& html) {
  std::string chromium;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(candidate, X_OK) == 0) {
      chromium = candidate;
      break;
    }
  }
  if (chromium.empty()) {
    return Status(Code::kUnavailable,
                  "the PDF needs chromium (Debian package chromium), which is not installed");
  }
  std::error_code error;
  std::filesystem::path folder = std::filesystem::temp_directory_path(error) /
                                 ("stafett-extract-" + core::ToHex(core::RandomBytes(8)));
  if (!std::filesystem::create_directory(folder, error)) {
    return Status(Code::kIoError, "cannot create a temporary folder for the PDF");
  }
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, error);
  std::filesystem::path input = folder / "extract.html", output = folder / "extract.pdf";
  {
    std::ofstream out(input, std::ios::binary);
    out << html;
  }
  std::string print_to = "--print-to-pdf=" + output.string();
  std::string profile = "--user-data-dir=" + (folder / "profile").string();
  std::string url = "file://" + input.string();
  pid_t child = ::fork();
  if (child == 0) {
    // Chromium's chatter is not ours to show; it never sees more than the file.
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execl(chromium.c_str(), chromium.c_str(), "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-pdf-header-footer", profile.c_str(), print_to.c_str(),
            url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    std::filesystem::remove_all(folder, error);
    return Status(Code::kInternal, "chromium could not print the extract to PDF");
  }
  std::ifstream in(output, std::ios::binary);
  std::stringstream pdf;
  pdf << in.rdbuf();
  std::filesystem::remove_all(folder, error);
  if (pdf.str().rfind("%PDF", 0) != 0) {
    return Status(Code::kInternal, "chromium did not write a PDF");
  }
  return pdf.str();
}

}  // namespace stafett::tools::console
