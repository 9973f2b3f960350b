#include "aws/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "text/host_port.h"

namespace edgepass::aws {
namespace {

int DefaultPort(absl::string_view scheme) { return scheme == "https" ? 443 : 80; }

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  if (!absl::ConsumePrefix(&host, "127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 2;
}

bool IsHostName(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

struct Sink {
  std::string* body;
  size_t limit;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->limit) {
    sink->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body->append(data, bytes);
  return bytes;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  size_t bytes = size * n;
  absl::string_view line(data, bytes);
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos && headers->size() < 100) {
    headers->emplace_back(std::string(line.substr(0, colon)),
                          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  } else if (absl::StartsWith(line, "HTTP/")) {
    headers->clear();  // a new response (after 100 Continue)
  }
  return bytes;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string Endpoint::HostHeader() const {
  std::string h = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]") : host;
  if (port != 0 && port != DefaultPort(scheme)) absl::StrAppend(&h, ":", port);
  return h;
}

std::string Endpoint::BaseUrl() const { return absl::StrCat(scheme, "://", HostHeader()); }

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view url, absl::string_view field) {
  Endpoint ep;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "https://")) {
    ep.scheme = "https";
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    ep.scheme = "http";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must start with https:// (http:// only for a loopback address)"));
  }
  absl::ConsumeSuffix(&rest, "/");
  if (rest.find_first_of("/?#@") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": only scheme://host[:port], no path, query or user info"));
  }
  absl::StatusOr<text::HostPort> authority = text::ParseHostPort(rest, {.min_port = 1, .port_optional = true});
  if (!authority.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", authority.status().message()));
  if (!absl::StartsWith(rest, "[") && !IsHostName(authority->host)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": bad host name"));
  }
  ep.host = std::move(authority->host);
  ep.port = std::max(authority->port, 0);  // 0: the scheme's default
  if (ep.scheme == "http" && !IsLoopbackHost(ep.host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": plain http is allowed only to a loopback address (127.0.0.1, ::1, localhost)"));
  }
  return ep;
}

std::string HttpResponse::Header(absl::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

HttpClient::HttpClient(HttpClientOptions options) : options_(options) { GlobalInit(); }

absl::StatusOr<HttpResponse> HttpClient::Send(const Endpoint& endpoint,
                                              const HttpRequest& request) const {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (curl == nullptr) return absl::InternalError("libcurl: curl_easy_init failed");
  std::string url = absl::StrCat(endpoint.BaseUrl(), request.path);
  if (!request.query.empty()) absl::StrAppend(&url, "?", request.query);

  struct curl_slist* list = nullptr;
  for (const auto& [name, value] : request.headers) {
    list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, curl_slist_free_all);

  HttpResponse response;
  Sink sink{&response.body, options_.max_response_bytes};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, endpoint.scheme == "https" ? "https" : "http");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) {
    return absl::ResourceExhaustedError(absl::StrCat(
        endpoint.HostHeader(), ": response larger than ", options_.max_response_bytes, " bytes"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(endpoint.HostHeader(), ": ", curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace edgepass::aws
