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

// Bytes as GiB or MiB, in the page's language (a decimal comma in Swedish).
std::string Bytes(double bytes, const std::string& language) {
  char buffer[48];
  if (bytes >= 1024.0 * 1024 * 1024) {
    std::snprintf(buffer, sizeof(buffer), "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1f MiB", bytes / (1024.0 * 1024));
  }
  std::string text = buffer;
  if (language != "en") std::replace(text.begin(), text.end(), '.', ',');
  return text;
}

// A link to the message's timeline; ids are checked by the route, escaped here anyway.
std::string MessageLink(const std::string& id) {
  return "<a href=\"/messages/" + Escape(id) + "\"><code>" + Escape(id) + "</code></a>";
}

std::string FactRow(const std::string& label, const std::string& value, const std::string& css) {
  return "<tr><th scope=\"row\">" + Escape(label) + "</th>" + Cell(value, css) + "</tr>";
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

std::string RenderQueues(const nlohmann::json& queues, const std::string& language) {
  std::string html = "<p>" + Escape(Text(language, "queues.intro")) + "</p>";
  html += "<h2 id=\"waiting\">" + Escape(Text(language, "queues.waiting")) + "</h2>";
  bool any = false;
  for (const nlohmann::json& endpoint : queues.value("endpoints", nlohmann::json::array())) {
    const nlohmann::json& waiting = endpoint.value("waiting", nlohmann::json::array());
    if (waiting.empty()) continue;
    any = true;
    std::string id = endpoint.value("id", "");
    bool connected = endpoint.value("connected", false);
    html += "<table class=\"waiting\" data-endpoint=\"" + Escape(id) + "\"><caption>" + Escape(id) +
            " – " + std::to_string(endpoint.value("queue_depth", 0)) + " " +
            Escape(Text(language, "queues.in_queue")) + ", " +
            Escape(Text(language, connected ? "queues.connected" : "queues.offline")) +
            "</caption><thead>" +
            HeaderRow(language, {"col.message", "col.type", "col.from", "col.queued_at",
                                 "col.waited", "col.expires", "col.state"}) +
            "</thead><tbody>";
    for (const nlohmann::json& row : waiting) {
      bool in_flight = row.value("state", "") == "in_flight";
      std::string state =
          in_flight ? Text(language, "queues.in_flight") + " " + row.value("sent_at", "")
                    : Text(language, connected ? "queues.queued" : "queues.queued_offline");
      html += "<tr><th scope=\"row\">" + MessageLink(row.value("message_id", "")) + "</th>" +
              Cell(row.value("type", "")) + Cell(row.value("from", "")) +
              Cell(row.value("queued_at", "")) + Cell(Age(row.value("age_seconds", 0.0))) +
              Cell(row.value("expires_at", "")) + Cell(state, connected ? "" : "warning") + "</tr>";
    }
    html += "</tbody></table>";
    if (endpoint.value("truncated", false)) {
      html += "<p class=\"muted\">" + Escape(Text(language, "queues.truncated")) + "</p>";
    }
  }
  if (!any) html += "<p class=\"ok\">" + Escape(Text(language, "queues.none_waiting")) + "</p>";

  html += "<h2 id=\"ended\">" + Escape(Text(language, "queues.ended")) + "</h2>";
  const nlohmann::json& ended = queues.value("ended", nlohmann::json::array());
  if (ended.empty()) {
    html += "<p class=\"ok\">" + Escape(Text(language, "queues.none_ended")) + "</p>";
  } else {
    html += "<table id=\"ended-table\"><caption>" + Escape(Text(language, "queues.ended.caption")) +
            "</caption><thead>" +
            HeaderRow(language, {"col.time", "col.message", "col.event", "col.code", "col.type",
                                 "col.from", "col.to", "col.why"}) +
            "</thead><tbody>";
    for (const nlohmann::json& row : ended) {
      std::string event = row.value("event", "");
      std::string code = row.value("code", "");
      std::string why = Text(language, "why." + code);
      if (why == "why." + code) why = "";  // no explanation for this code: the code says it
      html += "<tr><th scope=\"row\">" + Escape(row.value("time", "")) + "</th><td>" +
              MessageLink(row.value("message_id", "")) + "</td>" +
              Cell(Text(language, "event." + event)) + Cell(code, "warning") +
              Cell(row.value("type", "")) + Cell(row.value("from", "")) +
              Cell(TextOf(row.value("to", nlohmann::json()))) + Cell(why) + "</tr>";
    }
    html += "</tbody></table>";
  }
  html += "<p class=\"muted\">" + Escape(Text(language, "queues.scanned")) + " " +
          std::to_string(queues.value("ended_scanned_from_seq", 0)) +
          (queues.value("ended_truncated", false) ? ". " + Text(language, "queues.truncated")
                                                  : std::string(".")) +
          "</p>";
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
  // Disk headroom, commit errors and the tree head, from the status answer (no broker_http
  // needed).
  const nlohmann::json& storage = status.value("storage", nlohmann::json::object());
  html += "<table id=\"storage\"><caption>" + Escape(Text(language, "health.storage.caption")) +
          "</caption><thead>" + HeaderRow(language, {"health.metric", "health.value"}) +
          "</thead><tbody>";
  if (storage.contains("free_bytes") && storage.contains("min_free_bytes")) {
    double free = storage["free_bytes"].get<double>();
    double floor = storage["min_free_bytes"].get<double>();
    bool unbounded = free >= 1.8e19;  // UINT64_MAX: a store without a disk (in memory)
    html +=
        FactRow(Text(language, "health.free"),
                unbounded ? Text(language, "health.free.unbounded") : Bytes(free, language), "");
    html += FactRow(Text(language, "health.min_free"), Bytes(floor, language), "");
    if (!unbounded) {
      // Headroom: how much may still be written before new work is refused.
      bool low = free < floor * 2;
      html += FactRow(Text(language, "health.headroom"),
                      free > floor ? Bytes(free - floor, language) : Text(language, "health.none"),
                      low ? "warning" : "ok");
    }
  }
  uint64_t commit_errors = 0;
  std::string by_code;
  nlohmann::json errors = storage.value("commit_errors", nlohmann::json::object());
  for (auto& [code, count] : errors.items()) {
    commit_errors += count.get<uint64_t>();
    by_code +=
        (by_code.empty() ? " (" : ", ") + code + ": " + std::to_string(count.get<uint64_t>());
  }
  if (!by_code.empty()) by_code += ")";
  html += FactRow(Text(language, "health.commit_errors"), std::to_string(commit_errors) + by_code,
                  commit_errors > 0 ? "warning" : "ok");
  const nlohmann::json& head = status.value("tree_head", nlohmann::json());
  if (head.is_object()) {
    double age = head.value("age_seconds", 0.0);
    uint64_t unsigned_records = head.value("unsigned_records", uint64_t{0});
    html += FactRow(Text(language, "health.head_age"), Age(std::max(age, 1.0)),
                    unsigned_records > 0 && age > 300 ? "warning" : "");
    html += FactRow(Text(language, "health.head_signed"),
                    head.value("signed_at", "") + " (" + Text(language, "verify.size") + " " +
                        std::to_string(head.value("tree_size", uint64_t{0})) + ")",
                    "");
    html += FactRow(Text(language, "health.unsigned"), std::to_string(unsigned_records),
                    unsigned_records > 0 && age > 300 ? "warning" : "");
  } else {
    html += FactRow(Text(language, "health.head_age"), Text(language, "health.head.none"), "");
  }
  html += "</tbody></table>";
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
          "stafett_publishes_rate_limited_total", "stafett_storage_commit_errors_total",
          "stafett_storage_corruption_total", "stafett_storage_free_bytes",
          "stafett_audit_tree_head_age_seconds", "stafett_audit_unsigned_records"}) {
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
