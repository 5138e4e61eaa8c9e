// Logging set-up: a JSON-lines formatter for spdlog and the stderr sink.
#include "stafett/core/log_setup.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "stafett/core/clock.h"

namespace stafett::core {
namespace {

// Splits "event=x key=value key=\"quoted value\"" into fields; anything else goes to "msg".
nlohmann::json FieldsOf(std::string_view text) {
  nlohmann::json fields = nlohmann::json::object();
  std::string rest;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t equals = text.find('=', i);
    size_t space = text.find(' ', i);
    if (equals == std::string_view::npos || (space != std::string_view::npos && space < equals)) {
      size_t end = space == std::string_view::npos ? text.size() : space;
      if (!rest.empty()) rest += ' ';
      rest.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    std::string key(text.substr(i, equals - i));
    i = equals + 1;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) close = text.size();
      value = std::string(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      size_t end = text.find(' ', i);
      if (end == std::string_view::npos) end = text.size();
      value = std::string(text.substr(i, end - i));
      i = end;
    }
    fields[key] = value;
  }
  if (!rest.empty()) fields["msg"] = rest;
  return fields;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string program) : program_(std::move(program)) {}

  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) override {
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(message.time.time_since_epoch())
            .count();
    nlohmann::json line =
        FieldsOf(std::string_view(message.payload.data(), message.payload.size()));
    line["time"] = FormatRfc3339(micros);
    line["level"] = std::string(spdlog::level::to_string_view(message.level).data(),
                                spdlog::level::to_string_view(message.level).size());
    line["program"] = program_;
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(program_);
  }

 private:
  std::string program_;
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeJsonFormatter(const std::string& program) {
  return std::make_unique<JsonFormatter>(program);
}

void SetUpLogging(const std::string& program, const std::string& format, const std::string& level) {
  auto logger = spdlog::stderr_logger_mt(program);
  if (format == "json") {
    logger->set_formatter(MakeJsonFormatter(program));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ " + program + ": %v",
                        spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace stafett::core
