// The operator's views, rendered from the broker's status and track answers.
#include "console/operator_views.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "console/assets.h"
#include "console/html.h"
#include "operations_queries.h"
#include "stafett/core/clock.h"

namespace stafett::tools::console {
namespace {

std::string TextOf(const nlohmann::json& value, const std::string& fallback = "") {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string joined;
    for (const nlohmann::json& item : value) joined += (joined.empty() ? "" : ", ") + TextOf(item);
    return joined;
  }
  if (value.is_null()) return fallback;
  return value.dump();
}

std::string Cell(const std::string& text, const std::string& css = "") {
  return css.empty() ? "<td>" + Escape(text) + "</td>"
                     : "<td class=\"" + css + "\">" + Escape(text) + "</td>";
}

std::string HeaderRow(const std::string& language, std::initializer_list<const char*> keys) {
  std::string row = "<tr>";
  for (const char* key : keys) row += "<th scope=\"col\">" + Escape(Text(language, key)) + "</th>";
  return row + "</tr>";
}

// The value of SERIES in a Prometheus exposition, if present.
std::optional<double> Metric(const std::string& metrics, const std::string& series) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

// The sum of every series of metric NAME (all label sets).
std::optional<double> MetricSum(const std::string& metrics, const std::string& name) {
  std::istringstream lines(metrics);
  std::optional<double> sum;
  for (std::string line; std::getline(lines, line);) {
    if (line.compare(0, name.size(), name) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    size_t space = line.rfind(' ');
    sum = sum.value_or(0) + std::strtod(line.c_str() + space + 1, nullptr);
  }
  return sum;
}

std::string Number(double value) {
  std::ostringstream out;
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out << static_cast<long long>(value);
  } else {
    out << value;
  }
  return out.str();
}

}  // namespace

nlohmann::json EndpointRows(const nlohmann::json& status, const std::string& language,
                            double warn_after) {
  nlohmann::json rows = nlohmann::json::array();
  for (const nlohmann::json& endpoint : status.value("endpoints", nlohmann::json::array())) {
    std::string warnings;
    for (const EndpointWarning& warning : EndpointWarnings(endpoint, warn_after)) {
      if (!warnings.empty()) warnings += "; ";
      if (warning.kind == EndpointWarning::Kind::kSessionReplaced) {
        warnings += Text(language, "warning.session_replaced") + std::to_string(warning.count) +
                    Text(language, "warning.session_replaced_times") +
                    Age(std::max(1.0, warning.seconds)) +
                    Text(language, "warning.session_replaced_ago");
      } else {
        warnings += Text(language, "warning.offline_backlog") + Age(warning.seconds);
      }
    }
    bool connected = endpoint.value("connected", false);
    nlohmann::json cells = nlohmann::json::array({
        {{"text", endpoint.value("id", "")}},
        {{"text", endpoint.value("kind", "")}},
        {{"text", Text(language, connected ? "yes" : "no")}, {"class", connected ? "ok" : "muted"}},
        {{"text", TextOf(endpoint.value("last_seen", nlohmann::json()), Text(language, "never"))}},
        {{"text", std::to_string(endpoint.value("queue_depth", 0))}},
        {{"text", Age(endpoint.value("oldest_undelivered_seconds", 0.0))}},
        {{"text", warnings}, {"class", warnings.empty() ? "" : "warning"}},
    });
    rows.push_back({{"cells", cells}});
  }
  return {{"rows", rows},
          {"updated", core::FormatRfc3339(core::SystemClock::Instance().Now())},
          {"audit_size", status.value("audit_size", 0)},
          {"storage_full", status.value("storage_full", false)}};
}

std::string RenderEndpoints(const nlohmann::json& status, const std::string& language,
                            double warn_after) {
  nlohmann::json rows = EndpointRows(status, language, warn_after);
  std::string html;
  if (status.value("storage_full", false)) {
    html += "<p class=\"error\">" + Escape(Text(language, "storage.full")) + "</p>";
  }
  html += "<p class=\"muted\">" + Escape(Text(language, "endpoints.refresh")) + " " +
          Escape(Text(language, "endpoints.updated")) + ": <span id=\"endpoints-updated\">" +
          Escape(rows["updated"].get<std::string>()) + "</span></p>";
  html +=
      "<table id=\"endpoints\" data-refresh=\"/endpoints.json\" "
      "data-updated=\"endpoints-updated\"><caption>" +
      Escape(Text(language, "endpoints.caption")) + "</caption><thead>" +
      HeaderRow(language, {"col.endpoint", "col.kind", "col.connected", "col.last_seen",
                           "col.queue", "col.oldest", "col.warnings"}) +
      "</thead><tbody>";
  for (const nlohmann::json& row : rows["rows"]) {
    html += "<tr>";
    bool first = true;
    for (const nlohmann::json& cell : row["cells"]) {
      std::string text = cell.value("text", "");
      if (first) {
        html += "<th scope=\"row\">" + Escape(text) + "</th>";
        first = false;
      } else {
        html += Cell(text, cell.value("class", ""));
      }
    }
    html += "</tr>";
  }
  html += "</tbody></table>";
  html += "<p>" + Escape(Text(language, "audit.size")) + " " +
          std::to_string(status.value("audit_size", 0)) + " " +
          Escape(Text(language, "audit.records")) + ".</p>";
  return html;
}

std::string RenderMessageForm(const std::string& language, const std::string& id,
                              const std::string& error) {
  std::string html;
  if (!error.empty())
    html += "<p class=\"error\" role=\"alert\">" + Escape(Text(language, error)) + "</p>";
  html +=
      "<form class=\"query\" method=\"get\" action=\"/messages\">"
      "<div><label for=\"message-id\">" +
      Escape(Text(language, "message.id")) + " <span class=\"hint\" id=\"message-id-hint\">" +
      Escape(Text(language, "message.id.hint")) +
      "</span></label><input type=\"text\" id=\"message-id\" name=\"id\" "
      "aria-describedby=\"message-id-hint\" maxlength=\"64\" autocomplete=\"off\" value=\"" +
      Escape(id) + "\"></div><button class=\"primary\" type=\"submit\">" +
      Escape(Text(language, "message.show")) + "</button></form>";
  return html;
}

std::string RenderMessage(const nlohmann::json& track, const std::string& language) {
  std::string html = "<h2>" + Escape(Text(language, "message.id")) + " <code>" +
                     Escape(track.value("message_id", "")) + "</code></h2><dl class=\"facts\">";
  auto fact = [&](const char* key, const std::string& value) {
    if (!value.empty()) {
      html += "<dt>" + Escape(Text(language, key)) + "</dt><dd>" + Escape(value) + "</dd>";
    }
  };
  fact("message.status", track.value("status", ""));
  fact("message.type", track.value("type", ""));
  fact("message.from", track.value("from", ""));
  fact("message.to", TextOf(track.value("to", nlohmann::json())));
  fact("message.accepted_at", track.value("accepted_at", ""));
  fact("message.expires_at", track.value("expires_at", ""));
  html += "</dl>";
  if (track.contains("recipients") && track["recipients"].is_object() &&
      !track["recipients"].empty()) {
    html += "<table><caption>" + Escape(Text(language, "message.recipients")) +
            "</caption><thead>" + HeaderRow(language, {"col.endpoint", "col.state"}) +
            "</thead><tbody>";
    for (auto& [id, state] : track["recipients"].items()) {
      html += "<tr><th scope=\"row\">" + Escape(id) + "</th>" + Cell(TextOf(state)) + "</tr>";
    }
    html += "</tbody></table>";
  }
  html += "<table id=\"timeline\"><caption>" + Escape(Text(language, "message.events")) +
          "</caption><thead>" +
          HeaderRow(language, {"col.time", "col.event", "col.endpoint", "col.code"}) +
          "</thead><tbody>";
  for (const nlohmann::json& event : track.value("events", nlohmann::json::array())) {
    html += "<tr><th scope=\"row\">" + Escape(event.value("time", "")) + "</th>" +
            Cell(event.value("event", "")) +
            Cell(TextOf(event.value("endpoint", nlohmann::json()))) +
            Cell(event.value("code", ""), event.contains("code") ? "warning" : "") + "</tr>";
  }
  html += "</tbody></table>";
  return html;
}

std::string RenderHealth(const nlohmann::json& status, const std::string& metrics,
                         const keys::TrustDirectory& directory, const std::string& language) {
  std::string html = "<h2>" + Escape(Text(language, "health.storage")) + "</h2>";
  if (status.value("storage_full", false)) {
    html += "<p class=\"error\">" + Escape(Text(language, "storage.full")) + "</p>";
  } else {
    html += "<p class=\"ok\">" + Escape(Text(language, "health.storage.ok")) + "</p>";
  }
  html += "<p>" + Escape(Text(language, "audit.size")) + " " +
          std::to_string(status.value("audit_size", 0)) + " " +
          Escape(Text(language, "audit.records")) + ".</p>";
  html += "<h2>" + Escape(Text(language, "health.metrics")) + "</h2>";
  if (metrics.empty()) {
    html += "<p class=\"muted\">" + Escape(Text(language, "health.metrics.none")) + "</p>";
  } else {
    html += "<table id=\"metrics\"><thead>" +
            HeaderRow(language, {"health.metric", "health.value"}) + "</thead><tbody>";
    std::optional<double> sum = Metric(metrics, "stafett_batch_commit_seconds_sum");
    std::optional<double> count = Metric(metrics, "stafett_batch_commit_seconds_count");
    if (sum && count && *count > 0) {
      char mean[32];
      std::snprintf(mean, sizeof(mean), "%.2f ms", *sum / *count * 1000);
      html += "<tr><th scope=\"row\">" + Escape(Text(language, "health.commit_mean")) + "</th>" +
              Cell(mean) + "</tr>";
    }
    for (const char* name :
         {"stafett_storage_full", "stafett_agents_connected", "stafett_audit_log_records",
          "stafett_messages_accepted_total", "stafett_messages_delivered_total",
          "stafett_messages_refused_total", "stafett_messages_expired_total",
          "stafett_messages_withheld_total", "stafett_redeliveries_total",
          "stafett_auth_failures_total", "stafett_protocol_errors_total",
          "stafett_publishes_rate_limited_total"}) {
      std::optional<double> value = MetricSum(metrics, name);
      if (!value) continue;
      html += "<tr><th scope=\"row\"><code>" + std::string(name) + "</code></th>" +
              Cell(Number(*value)) + "</tr>";
    }
    html += "</tbody></table>";
  }
  html += "<h2>" + Escape(Text(language, "health.keys")) + "</h2><table id=\"keys\"><thead>" +
          HeaderRow(language, {"col.principal", "col.role", "col.key", "col.valid_until"}) +
          "</thead><tbody>";
  core::Micros now = core::SystemClock::Instance().Now();
  for (const keys::Principal& principal : directory.principals()) {
    for (const keys::PublicKeys& key : principal.keys) {
      bool soon = key.valid_until - now < 30LL * 86400 * 1000000;
      html += "<tr><th scope=\"row\">" + Escape(principal.id) + "</th>" +
              Cell(std::string(keys::RoleName(principal.role))) + Cell(key.key_id) +
              Cell(core::FormatRfc3339(key.valid_until), soon ? "warning" : "") + "</tr>";
    }
  }
  html += "</tbody></table>";
  html += "<p><a href=\"/runbooks\">" + Escape(Text(language, "health.runbooks")) + "</a></p>";
  return html;
}

std::string RenderRunbooks(const std::string& language) {
  std::string html =
      "<p>" + Escape(Text(language, "runbooks.intro")) + "</p><div class=\"runbook\">";
  std::istringstream lines(std::string(FindAsset("runbooks.md").value_or("")));
  std::string paragraph;
  auto flush = [&] {
    if (!paragraph.empty()) html += "<pre>" + Escape(paragraph) + "</pre>";
    paragraph.clear();
  };
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("### ", 0) == 0) {
      flush();
      std::string name = line.substr(4);
      html += "<h3 id=\"" + Escape(name) + "\">" + Escape(name) + "</h3>";
    } else if (line.rfind("## ", 0) == 0) {
      flush();
      html += "<h2>" + Escape(line.substr(3)) + "</h2>";
    } else if (line.rfind("# ", 0) == 0) {
      flush();
    } else if (line.empty()) {
      flush();
    } else {
      paragraph += (paragraph.empty() ? "" : "\n") + line;
    }
  }
  flush();
  return html + "</div>";
}

}  // namespace stafett::tools::console
