#include "http/http_message.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "text/json_string.h"

namespace edgepass::http {

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Set(absl::string_view name, std::string value) {
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const Field& f) {
                                 return absl::EqualsIgnoreCase(f.first, name);
                               }),
                fields_.end());
  fields_.emplace_back(std::string(name), std::move(value));
}

const std::string* Headers::Find(absl::string_view name) const {
  for (const Field& f : fields_) {
    if (absl::EqualsIgnoreCase(f.first, name)) return &f.second;
  }
  return nullptr;
}

Response Response::Json(int status, std::string json_body) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", "application/json");
  r.body = std::move(json_body);
  return r;
}

Response Response::Error(int status, absl::string_view message) {
  return Json(status, absl::StrCat("{\"error\":", text::JsonString(message), "}"));
}

absl::string_view TargetPath(absl::string_view target) {
  return target.substr(0, target.find('?'));
}

}  // namespace edgepass::http
