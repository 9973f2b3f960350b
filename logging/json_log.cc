#include "logging/json_log.h"

#include <unistd.h>

#include <cmath>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "text/json_string.h"

namespace edgepass::logging {

using text::AppendJsonString;

namespace {

std::string& Component() {
  static auto* component = new std::string("edgepass");
  return *component;
}

std::mutex& SinkMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}

std::function<void(absl::string_view)>& Sink() {
  static auto* sink = new std::function<void(absl::string_view)>;
  return *sink;
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

Line::Line(Level level, absl::string_view event) {
  text_.reserve(256);
  absl::StrAppend(&text_, "{\"ts\":\"",
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                  "\",\"level\":\"", LevelName(level), "\",\"component\":");
  AppendJsonString(Component(), &text_);
  text_ += ",\"event\":";
  AppendJsonString(event, &text_);
}

Line::~Line() {
  text_ += "}\n";
  std::lock_guard<std::mutex> lock(SinkMutex());
  if (Sink()) {
    Sink()(absl::string_view(text_).substr(0, text_.size() - 1));
    return;
  }
  const char* p = text_.data();
  size_t left = text_.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // nowhere to report a failing stderr
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void Line::Key(absl::string_view key) {
  text_ += ',';
  AppendJsonString(key, &text_);
  text_ += ':';
}

Line& Line::Str(absl::string_view key, absl::string_view value) {
  Key(key);
  AppendJsonString(value, &text_);
  return *this;
}

Line& Line::Int(absl::string_view key, int64_t value) {
  Key(key);
  absl::StrAppend(&text_, value);
  return *this;
}

Line& Line::Double(absl::string_view key, double value) {
  Key(key);
  if (std::isfinite(value)) {
    absl::StrAppend(&text_, value);
  } else {
    text_ += "null";
  }
  return *this;
}

Line& Line::Bool(absl::string_view key, bool value) {
  Key(key);
  text_ += value ? "true" : "false";
  return *this;
}

void SetComponent(absl::string_view component) { Component() = std::string(component); }

void SetSinkForTesting(std::function<void(absl::string_view)> sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  Sink() = std::move(sink);
}

}  // namespace edgepass::logging
