#include "client/analyze/json_log_parser.h"

#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "client/analyze/log_text.h"
#include "nlohmann/json.hpp"

namespace edgepass::analyze {
namespace {

using Json = nlohmann::json;

// The first of `names` present and not null.
const Json* Find(const Json& object, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = object.find(name);
    if (it != object.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

// A string value ("-" is empty) or a number's text. False for other types.
bool TextOf(const Json* value, std::string* out) {
  out->clear();
  if (value == nullptr) return true;
  if (value->is_string()) {
    *out = value->get_ref<const std::string&>();
    if (*out == "-") out->clear();
    return true;
  }
  if (value->is_number_unsigned()) {
    *out = std::to_string(value->get<uint64_t>());
    return true;
  }
  if (value->is_number_integer()) {
    *out = std::to_string(value->get<int64_t>());
    return true;
  }
  return false;
}

std::optional<uint64_t> UnsignedOf(const Json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if (v < 0) return std::nullopt;
    return static_cast<uint64_t>(v);
  }
  if (value.is_string()) return ParseUnsigned(value.get_ref<const std::string&>());
  return std::nullopt;
}

// Unix seconds (possibly fractional) as a number or a string → ms.
std::optional<int64_t> EpochSecondsOf(const Json& value) {
  if (value.is_number()) {
    const double s = value.get<double>();
    if (!std::isfinite(s) || s < 0 || s > 253402300799.0) return std::nullopt;
    return static_cast<int64_t>(std::llround(s * 1000));
  }
  if (value.is_string()) return ParseEpochSecondsMs(value.get_ref<const std::string&>());
  return std::nullopt;
}

std::optional<int64_t> TimeOf(const Json& object) {
  if (const Json* ms = Find(object, {"timestamp(ms)"})) {
    std::optional<uint64_t> v = UnsignedOf(*ms);
    if (!v.has_value() || *v > 253402300799999ULL) return std::nullopt;
    return static_cast<int64_t>(*v);
  }
  if (const Json* s = Find(object, {"msec", "timestamp"})) return EpochSecondsOf(*s);
  const Json* date = Find(object, {"date"});
  const Json* time = Find(object, {"time"});
  if (date == nullptr || time == nullptr || !date->is_string() || !time->is_string()) {
    return std::nullopt;
  }
  std::optional<int64_t> days = ParseW3cDate(date->get_ref<const std::string&>());
  std::optional<int64_t> ms = ParseW3cTime(time->get_ref<const std::string&>());
  if (!days.has_value() || !ms.has_value()) return std::nullopt;
  return *days * 86400000 + *ms;
}

}  // namespace

LineError JsonLogParser::Parse(absl::string_view line, LogRecord* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxLineBytes) return LineError::kTooLong;
  if (absl::StripAsciiWhitespace(line).empty()) return LineError::kHeader;
  if (!IsValidUtf8(line)) return LineError::kNonUtf8;
  Json object = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) return LineError::kMalformed;

  const bool w3c_names = object.contains("cs-uri-stem");
  const Json* uri = Find(object, {"cs-uri-stem", "uri"});
  const Json* ip = Find(object, {"c-ip", "client_ip"});
  const Json* status = Find(object, {"sc-status", "status"});
  const Json* bytes = Find(object, {"sc-bytes", "bytes"});
  if (uri == nullptr || ip == nullptr || status == nullptr || bytes == nullptr) {
    return LineError::kMissingField;
  }
  std::optional<int64_t> time_ms = TimeOf(object);
  if (!time_ms.has_value()) {
    return Find(object, {"timestamp(ms)", "msec", "timestamp", "date"}) == nullptr
               ? LineError::kMissingField
               : LineError::kBadValue;
  }
  std::optional<uint64_t> status_value = UnsignedOf(*status);
  std::optional<uint64_t> bytes_value = UnsignedOf(*bytes);
  if (!status_value.has_value() || *status_value > 999 || !bytes_value.has_value()) {
    return LineError::kBadValue;
  }
  if (!TextOf(uri, &uri_) || !TextOf(ip, &ip_) ||
      !TextOf(Find(object, {"cs(Referer)", "referer"}), &referer_) ||
      !TextOf(Find(object, {"cs(User-Agent)", "user_agent"}), &user_agent_) ||
      !TextOf(Find(object, {"session_id"}), &session_id_)) {
    return LineError::kBadValue;
  }
  out->time_ms = *time_ms;
  out->status = static_cast<int>(*status_value);
  out->bytes = *bytes_value;
  out->client_ip = ip_;
  out->session_id = session_id_;
  if (w3c_names) {
    // CloudFront percent-encodes these, as in its W3C files.
    out->uri = PercentDecode(uri_, &decoded_[0]);
    out->referer = PercentDecode(referer_, &decoded_[1]);
    out->user_agent = PercentDecode(user_agent_, &decoded_[2]);
  } else {
    out->uri = uri_;
    out->referer = referer_;
    out->user_agent = user_agent_;
  }
  // A query string, if the log carries one, is not part of the URI.
  out->uri = out->uri.substr(0, out->uri.find('?'));
  return LineError::kNone;
}

}  // namespace edgepass::analyze
