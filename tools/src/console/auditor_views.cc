// The auditor's views, rendered from checked trails and verification reports.
#include "console/auditor_views.h"

#include "console/html.h"
#include "stafett/core/encoding.h"

namespace stafett::tools::console {
namespace {

std::string CsrfField(const std::string& csrf) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + Escape(csrf) + "\">";
}

std::string ErrorBox(const std::string& language, const std::string& error) {
  if (error.empty()) return "";
  return "<p class=\"error\" role=\"alert\">" + Escape(Text(language, error)) + "</p>";
}

std::string TextField(const std::string& id, const std::string& name, const std::string& label,
                      const std::string& hint, const std::string& type = "text") {
  std::string html = "<div><label for=\"" + id + "\">" + Escape(label);
  if (!hint.empty()) {
    html += " <span class=\"hint\" id=\"" + id + "-hint\">" + Escape(hint) + "</span>";
  }
  html += "</label><input type=\"" + type + "\" id=\"" + id + "\" name=\"" + name +
          "\" autocomplete=\"off\" spellcheck=\"false\"";
  if (!hint.empty()) html += " aria-describedby=\"" + id + "-hint\"";
  return html + "></div>";
}

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

}  // namespace

std::string RenderTrailForm(const std::string& language, const std::string& csrf,
                            const std::string& error) {
  auto text = [&](const char* key) { return Text(language, key); };
  return ErrorBox(language, error) + "<form class=\"query\" method=\"post\" action=\"/trail\">" +
         CsrfField(csrf) + "<fieldset><legend>" + Escape(text("trail.by_pnr")) + "</legend>" +
         TextField("pnr", "pnr", text("trail.pnr"), text("trail.pnr.hint"), "password") +
         "</fieldset><fieldset><legend>" + Escape(text("trail.by_endpoint")) + "</legend>" +
         TextField("endpoint", "endpoint", text("trail.endpoint"), "") + "</fieldset>" +
         TextField("from", "from", text("trail.from"), "") +
         TextField("to", "to", text("trail.to"), "") +
         "<button class=\"primary\" type=\"submit\">" + Escape(text("trail.search")) +
         "</button></form>";
}

std::string RenderTrail(const CheckedTrail& trail, const std::string& subject_pseudonym,
                        const std::string& language) {
  auto text = [&](const char* key) { return Escape(Text(language, key)); };
  std::string html = "<h2 id=\"result\">" + text("trail.result") + "</h2>";
  if (!subject_pseudonym.empty()) {
    html +=
        "<p>" + text("trail.for_subject") + ": <code>" + Escape(subject_pseudonym) + "</code></p>";
  }
  html += "<p class=\"notice\">" + text("proof.head") + " " + std::to_string(trail.head.tree_size) +
          ", " + text("root") + " <code>" + Escape(core::HashToHex(trail.head.root)) + "</code>. " +
          text("trail.complete") + " " + text("trail.recorded") + "</p>";
  if (trail.records.empty()) return html + "<p>" + text("trail.none") + "</p>";
  html += "<table id=\"trail\"><thead><tr>";
  for (const char* key : {"col.seq", "col.time", "col.event", "col.message", "col.type", "col.from",
                          "col.to", "col.consent", "col.code", "col.proof"}) {
    html += "<th scope=\"col\">" + text(key) + "</th>";
  }
  html += "</tr></thead><tbody>";
  for (const CheckedRecord& checked : trail.records) {
    const nlohmann::json& record = checked.record;
    html += "<tr><th scope=\"row\">" + std::to_string(checked.seq) + "</th>";
    for (const char* field : {"time", "event", "message_id", "type", "from"}) {
      html += "<td>" +
              Escape(record.is_object() ? Joined(record.value(field, nlohmann::json())) : "") +
              "</td>";
    }
    html += "<td>" +
            Escape(record.is_object() ? Joined(record.value("to", nlohmann::json())) : "") +
            "</td><td>" + Escape(record.is_object() ? record.value("consent_id", "") : "") +
            "</td><td>" + Escape(record.is_object() ? record.value("code", "") : "") + "</td>";
    // A record whose proof failed fails the whole trail (QueryCheckedTrail): none is shown.
    html += "<td class=\"ok proof\">" + text("proof.verified") + "</td>";
    html += "</tr>";
  }
  return html + "</tbody></table>";
}

std::string RenderVerifyForm(const std::string& language, const std::string& csrf) {
  return "<p>" + Escape(Text(language, "verify.text")) +
         "</p><form class=\"query\" method=\"post\" action=\"/verify\">" + CsrfField(csrf) +
         "<button class=\"primary\" type=\"submit\">" + Escape(Text(language, "verify.run")) +
         "</button></form>";
}

std::string RenderVerifyResult(const core::Result<VerifyReport>& report,
                               const std::string& language) {
  auto text = [&](const char* key) { return Escape(Text(language, key)); };
  if (!report.ok()) {
    return "<p class=\"error\" role=\"alert\" id=\"verify-result\"><span class=\"failed\">" +
           text("verify.failed") + "</span>: " + Escape(report.status().message()) + "</p>";
  }
  std::string html =
      "<div class=\"notice\" id=\"verify-result\"><p class=\"ok\">" + text("verify.ok") +
      "</p><dl class=\"facts\"><dt>" + text("verify.size") + "</dt><dd>" +
      std::to_string(report->tree_size) + "</dd><dt>" + text("verify.checked") + "</dt><dd>" +
      std::to_string(report->records_checked) + "</dd><dt>" + text("verify.previous") + "</dt><dd>";
  html += report->previous_size ? std::to_string(*report->previous_size) : text("verify.first");
  return html + "</dd></dl></div>";
}

std::string RenderExtractForm(const std::string& language, const std::string& csrf,
                              const std::string& error) {
  auto text = [&](const char* key) { return Text(language, key); };
  std::string sv_selected = language == "en" ? "" : " selected";
  std::string en_selected = language == "en" ? " selected" : "";
  return ErrorBox(language, error) + "<p>" + Escape(text("extract.form.text")) +
         "</p><form class=\"query\" method=\"post\" action=\"/extract\">" + CsrfField(csrf) +
         TextField("extract-pnr", "pnr", text("trail.pnr"), text("trail.pnr.hint"), "password") +
         "<div><label for=\"extract-format\">" + Escape(text("extract.format")) +
         "</label><select id=\"extract-format\" name=\"format\"><option value=\"html\" "
         "selected>HTML</option><option value=\"pdf\">PDF</option><option "
         "value=\"json\">JSON</option></select></div><div><label for=\"extract-lang\">" +
         Escape(text("extract.language")) +
         "</label><select id=\"extract-lang\" name=\"lang\"><option value=\"sv\"" + sv_selected +
         ">Svenska</option><option value=\"en\"" + en_selected +
         ">English</option></select></div><button class=\"primary\" type=\"submit\">" +
         Escape(text("extract.make")) + "</button></form>";
}

}  // namespace stafett::tools::console
