#include "client/sidecar/event_log.h"

#include <cstdint>
#include <string>

#include "logging/json_log.h"
#include "nlohmann/json.hpp"

namespace edgepass::sidecar {

void LogEvent(absl::string_view event_json) {
  // Ordered: fields keep the order the event gave them.
  const nlohmann::ordered_json event = nlohmann::ordered_json::parse(
      event_json.begin(), event_json.end(), /*cb=*/nullptr,
      /*allow_exceptions=*/false);
  const bool structured = event.is_object() && event.contains("event") &&
                          event["event"].is_string();
  if (!structured) {
    logging::Warning("unstructured_log").Str("text", event_json);
    return;
  }
  logging::Level level = logging::Level::kInfo;
  if (auto it = event.find("level"); it != event.end() && it->is_string()) {
    if (*it == "warning") level = logging::Level::kWarning;
    if (*it == "error") level = logging::Level::kError;
  }
  logging::Line line(level, event["event"].get<std::string>());
  for (auto it = event.begin(); it != event.end(); ++it) {
    const std::string& key = it.key();
    if (key == "event" || key == "level") continue;
    const nlohmann::ordered_json& value = it.value();
    if (value.is_string()) {
      line.Str(key, value.get<std::string>());
    } else if (value.is_boolean()) {
      line.Bool(key, value.get<bool>());
    } else if (value.is_number_unsigned()) {
      line.Int(key, static_cast<int64_t>(value.get<uint64_t>()));
    } else if (value.is_number_integer()) {
      line.Int(key, value.get<int64_t>());
    } else if (value.is_number_float()) {
      line.Double(key, value.get<double>());
    } else {
      line.Str(key, value.dump());
    }
  }
}

}  // namespace edgepass::sidecar
