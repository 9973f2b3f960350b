// The C API of edgepass_nginx.h over the validator library.
#include "client/nginx/edgepass_nginx.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/validator/cloudfront_check.h"
#include "client/validator/cloudfront_keys_json.h"
#include "client/validator/module_state.h"
#include "core/url_query.h"
#include "core/validator.h"

namespace {

using edgepass::client::ModuleState;
namespace core = edgepass::core;

// The sidecar's limit on X-Original-URI (client/sidecar/auth_mapping.h).
constexpr size_t kMaxUriBytes = 8192;
// Larger state files are refused (about 100 million revoked ids).
constexpr uint64_t kMaxStateFileBytes = uint64_t{4} << 30;

constexpr absl::string_view kGeoHeaders[] = {
    "CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region", "CloudFront-Viewer-City"};

void SetError(char* err, size_t err_len, const std::string& message) {
  if (err == nullptr || err_len == 0) return;
  std::snprintf(err, err_len, "%s", message.c_str());
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

edgepass_str Str(absl::string_view s) { return edgepass_str{s.data(), s.size()}; }
absl::string_view View(edgepass_str s) {
  return s.data == nullptr ? absl::string_view() : absl::string_view(s.data, s.len);
}

// The sidecar's test (client/sidecar/auth_mapping.h, LooksLikeToken): 3 or 4
// non-empty dot-separated parts, the JWT header part starting with "eyJ".
bool LooksLikeToken(absl::string_view segment) {
  absl::InlinedVector<absl::string_view, 4> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = segment.find('.', start);
    parts.push_back(segment.substr(start, dot == absl::string_view::npos ? dot : dot - start));
    if (dot == absl::string_view::npos || parts.size() > 4) break;
    start = dot + 1;
  }
  if (parts.size() != 3 && parts.size() != 4) return false;
  for (absl::string_view p : parts) {
    if (p.empty()) return false;
  }
  return absl::StartsWith(parts[parts.size() - 3], "eyJ");
}

void Deny(edgepass_decision* out, int status, absl::string_view reason) {
  out->verdict = EDGEPASS_DENIED;
  out->http_status = status;
  out->reason = Str(reason);
}

// A file mapped read-only.
struct Mapping {
  void* map = nullptr;
  size_t length = 0;
  struct stat file {};

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (map != nullptr) munmap(map, length);
  }
  absl::Span<const char> bytes() const { return {static_cast<const char*>(map), length}; }
};

// Maps `path` into `*out`; an error message (starting with `where`) otherwise.
// NOT_FOUND-like absence is told by *missing (when given) instead of an error.
bool MapFile(const char* path, const std::string& where, Mapping* out, std::string* error,
             bool* missing = nullptr) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (missing != nullptr && errno == ENOENT) {
      *missing = true;
      return false;
    }
    *error = where + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = where + "not a regular file";
    close(fd);
    return false;
  }
  if (st.st_size <= 0 || static_cast<uint64_t>(st.st_size) > kMaxStateFileBytes) {
    *error = absl::StrCat(where, "size ", st.st_size, " bytes out of range");
    close(fd);
    return false;
  }
  const size_t length = static_cast<size_t>(st.st_size);
  void* map = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  close(fd);
  if (map == MAP_FAILED) {
    *error = where + "mmap: " + std::strerror(map_errno);
    return false;
  }
  out->map = map;
  out->length = length;
  out->file = st;
  return true;
}

}  // namespace

struct edgepass_cloudfront {
  core::CloudFrontPublicKeys keys;
  std::string url_base;
  std::vector<std::string> prefixes;
};

struct edgepass_state {
  Mapping base;
  // The overlay file (client/validator/module_state.h), when one amends the
  // base; `overlay_present` records whether the file existed at open.
  Mapping overlay;
  bool overlay_present = false;
  ModuleState state;
  uint64_t version = 0;
  uint64_t revoked_total = 0;
  core::RevocationView revoked;  // base, with the overlay over it when used
};

namespace {

// The sidecar's checks of --cloudfront-public-keys, --cloudfront-url-base and
// --cloudfront-route (client/sidecar/cloudfront_auth.h, route_modes.h).
edgepass_cloudfront* OpenCloudFront(const char* keys_path, edgepass_str url_base,
                                    const edgepass_str* prefixes, size_t prefix_count,
                                    char* err, size_t err_len) {
  const std::string path = keys_path == nullptr ? "" : keys_path;
  const std::string where = absl::StrCat("edgepass CloudFront public keys \"", path, "\": ");
  if (path.empty()) {
    SetError(err, err_len, where + "no path");
    return nullptr;
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    SetError(err, err_len, where + std::strerror(errno));
    return nullptr;
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      SetError(err, err_len, where + std::strerror(errno));
      close(fd);
      return nullptr;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > edgepass::client::kMaxCloudFrontKeysFileBytes) {
      SetError(err, err_len, absl::StrCat(where, "larger than ",
                                          edgepass::client::kMaxCloudFrontKeysFileBytes, " bytes"));
      close(fd);
      return nullptr;
    }
  }
  close(fd);
  absl::StatusOr<core::CloudFrontPublicKeys> keys =
      edgepass::client::ParseCloudFrontPublicKeysJson(text);
  if (!keys.ok()) {
    SetError(err, err_len, where + std::string(keys.status().message()));
    return nullptr;
  }
  absl::StatusOr<std::string> base = edgepass::client::CloudFrontUrlBase(View(url_base));
  if (!base.ok()) {
    absl::string_view message = base.status().message();
    absl::ConsumePrefix(&message, "cloudfront-url-base: ");
    SetError(err, err_len, absl::StrCat("edgepass_cloudfront_url_base: ", message));
    return nullptr;
  }
  if (prefix_count == 0) {
    SetError(err, err_len, "edgepass_cloudfront_route: no prefix given");
    return nullptr;
  }
  auto cf = std::make_unique<edgepass_cloudfront>();
  for (size_t i = 0; i < prefix_count; ++i) {
    const std::string prefix(View(prefixes[i]));
    if (prefix.empty() || prefix[0] != '/' || prefix.size() > 1024 ||
        (prefix != "/" && !core::IsSafePath(prefix))) {
      SetError(err, err_len,
               absl::StrCat("edgepass_cloudfront_route: '", prefix,
                            "' must be a path starting with '/' (no dot segments, '//' or escapes)"));
      return nullptr;
    }
    if (std::find(cf->prefixes.begin(), cf->prefixes.end(), prefix) != cf->prefixes.end()) {
      SetError(err, err_len, absl::StrCat("edgepass_cloudfront_route: '", prefix, "' given twice"));
      return nullptr;
    }
    cf->prefixes.push_back(prefix);
  }
  cf->keys = *std::move(keys);
  cf->url_base = *std::move(base);
  return cf.release();
}

bool ChangedFile(const char* path, bool present, const struct stat& known) {
  struct stat st {};
  if (path == nullptr || stat(path, &st) != 0) return present;
  return !present || !SameFile(known, st);
}

}  // namespace

extern "C" {

edgepass_state* edgepass_state_open(const char* path, char* err, size_t err_len) {
  const std::string where = absl::StrCat("edgepass state file \"", path == nullptr ? "" : path, "\": ");
  if (path == nullptr || *path == '\0') {
    SetError(err, err_len, where + "no path");
    return nullptr;
  }
  auto* state = new (std::nothrow) edgepass_state;
  if (state == nullptr) {
    SetError(err, err_len, where + "out of memory");
    return nullptr;
  }
  std::string error;
  // The overlay before the base: the sidecar replaces the base before it
  // writes or removes the overlay, so this order never pairs an overlay with
  // a base older than the one it amends.
  const std::string overlay_path = edgepass::client::ModuleOverlayPath(path);
  const std::string overlay_where = absl::StrCat("edgepass state file \"", overlay_path, "\": ");
  bool overlay_missing = false;
  state->overlay_present = MapFile(overlay_path.c_str(), overlay_where, &state->overlay, &error,
                                   &overlay_missing);
  if (!state->overlay_present && !overlay_missing) {
    SetError(err, err_len, error);
    delete state;
    return nullptr;
  }
  if (!MapFile(path, where, &state->base, &error)) {
    SetError(err, err_len, error);
    delete state;
    return nullptr;
  }
  absl::StatusOr<ModuleState> parsed = edgepass::client::ParseModuleState(state->base.bytes());
  if (!parsed.ok()) {
    SetError(err, err_len, where + std::string(parsed.status().message()));
    delete state;
    return nullptr;
  }
  state->state = *std::move(parsed);
  state->version = state->state.version;
  state->revoked_total = state->state.revoked.size();
  state->revoked = state->state.revoked;
  if (state->overlay_present) {
    absl::StatusOr<edgepass::client::ModuleOverlay> overlay =
        edgepass::client::ParseModuleOverlay(state->overlay.bytes());
    if (!overlay.ok()) {
      SetError(err, err_len, overlay_where + std::string(overlay.status().message()));
      delete state;
      return nullptr;
    }
    if (overlay->base_version == state->state.version) {
      state->version = overlay->version;
      state->revoked_total = overlay->revoked_total;
      state->revoked = state->state.revoked.WithOverlay(overlay->entries);
    } else if (overlay->base_version > state->state.version) {
      // Written for a base not in place yet: cannot happen with the
      // sidecar's order of writes; refuse rather than lose the overlay.
      SetError(err, err_len,
               absl::StrCat(overlay_where, "amends base version ", overlay->base_version,
                            " but the state file has version ", state->state.version));
      delete state;
      return nullptr;
    }
    // Otherwise a stale overlay: the base already holds its changes.
  }
  return state;
}

void edgepass_state_close(edgepass_state* state) { delete state; }

int edgepass_state_changed(const edgepass_state* state, const char* path) {
  if (state == nullptr) {
    struct stat st {};
    return path != nullptr && stat(path, &st) == 0;
  }
  if (ChangedFile(path, true, state->base.file)) return 1;
  const std::string overlay_path = edgepass::client::ModuleOverlayPath(path);
  return ChangedFile(overlay_path.c_str(), state->overlay_present, state->overlay.file);
}

uint64_t edgepass_state_version(const edgepass_state* state) {
  return state == nullptr ? 0 : state->version;
}

uint64_t edgepass_state_revoked(const edgepass_state* state) {
  return state == nullptr ? 0 : state->revoked_total;
}

edgepass_cloudfront* edgepass_cloudfront_open(const char* keys_path, edgepass_str url_base,
                                              const edgepass_str* prefixes, size_t prefix_count,
                                              char* err, size_t err_len) {
  try {
    return OpenCloudFront(keys_path, url_base, prefixes, prefix_count, err, err_len);
  } catch (...) {
    SetError(err, err_len, "edgepass CloudFront routes: out of memory");
    return nullptr;
  }
}

void edgepass_cloudfront_close(edgepass_cloudfront* cloudfront) { delete cloudfront; }

size_t edgepass_cloudfront_key_count(const edgepass_cloudfront* cloudfront) {
  return cloudfront == nullptr ? 0 : cloudfront->keys.size();
}

}  // extern "C"

namespace {

// A request on a CloudFront route, as the sidecar's CloudFrontAuth::Handle
// (after its unsafe-path check, which comes first in every mode).
void CheckCloudFront(const edgepass_cloudfront& cf, const edgepass_request* request,
                     absl::string_view uri, absl::string_view path, edgepass_decision* out) {
  out->cloudfront = 1;
  if (!core::IsSafePath(path)) return Deny(out, 403, core::ReasonName(core::Reason::kUnsafePath));
  absl::string_view cookies;
  for (size_t i = 0; i < request->header_count; ++i) {
    if (absl::EqualsIgnoreCase(View(request->headers[i].name), "Cookie")) {
      cookies = View(request->headers[i].value);
      break;
    }
  }
  const edgepass::client::CloudFrontCheck check = edgepass::client::CheckCloudFrontRequest(
      {.url_base = cf.url_base,
       .uri = uri,
       .path = path,
       .cookie_header = cookies,
       .client_ip = View(request->client_ip)},
      cf.keys, absl::FromUnixMillis(request->now_ms), request->mode != EDGEPASS_OFF);
  if (request->path_buf == nullptr || check.origin.size() > request->path_buf_len) {
    return Deny(out, 500, "internal_error");
  }
  std::memcpy(request->path_buf, check.origin.data(), check.origin.size());
  const edgepass_str origin{request->path_buf, check.origin.size()};
  if (request->mode == EDGEPASS_OFF) {
    out->verdict = EDGEPASS_UNCHECKED;
    out->reason = Str("unchecked");
    out->path = origin;
    return;
  }
  if (check.decision.allow) {
    out->verdict = EDGEPASS_ALLOWED;
    out->reason = Str(core::CloudFrontReasonName(core::CloudFrontReason::kOk));
    out->path = origin;
    return;
  }
  out->reason = Str(edgepass::client::CloudFrontRefusalName(check.decision.reason));
  if (request->mode == EDGEPASS_LOG_ONLY) {
    out->verdict = EDGEPASS_WOULD_DENY;
    out->path = origin;
    return;
  }
  Deny(out, check.decision.reason == core::CloudFrontReason::kOk ? 401 : 403,
       edgepass::client::CloudFrontRefusalName(check.decision.reason));
}

void Check(const edgepass_state* state, const edgepass_request* request, edgepass_decision* out) {
  *out = edgepass_decision{};
  out->verdict = EDGEPASS_DENIED;
  const absl::string_view uri = View(request->uri);
  // The sidecar's checks of X-Original-URI (auth_mapping.h).
  if (uri.size() > kMaxUriBytes) return Deny(out, 414, "uri_too_long");
  if (uri.empty() || uri[0] != '/') return Deny(out, 400, "bad_request");
  for (const char c : uri) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Deny(out, 400, "bad_request");
  }
  const size_t q = uri.find('?');
  const absl::string_view path = uri.substr(0, q);
  const absl::string_view query = q == absl::string_view::npos ? absl::string_view() : uri.substr(q + 1);

  if (request->cloudfront != nullptr &&
      edgepass::client::CloudFrontCovers(request->cloudfront->prefixes, path)) {
    return CheckCloudFront(*request->cloudfront, request, uri, path, out);
  }

  // What the origin is asked for when nothing is checked, and the session
  // id the token claims (for logs).
  const size_t slash = path.find('/', 1);
  const absl::string_view first =
      path.substr(1, slash == absl::string_view::npos ? absl::string_view::npos : slash - 1);
  absl::string_view unchecked_path = path;
  const bool has_token_segment = LooksLikeToken(first);
  if (has_token_segment) {
    unchecked_path = slash == absl::string_view::npos ? absl::string_view("/") : path.substr(slash);
    if (std::count(first.begin(), first.end(), '.') == 3) {
      out->session_id = Str(first.substr(0, first.find('.')));
    }
  }

  // As the sidecar: a path that is not safe has no route a mode could be
  // told for, so it is refused in every mode.
  if (request->mode != EDGEPASS_ENFORCE && !core::IsSafePath(path)) {
    return Deny(out, 403, core::ReasonName(core::Reason::kUnsafePath));
  }
  if (request->mode == EDGEPASS_OFF) {
    out->verdict = EDGEPASS_UNCHECKED;
    out->reason = Str("unchecked");
    out->path = Str(unchecked_path);
    return;
  }
  if (state == nullptr) return Deny(out, 503, "no_state");

  // The viewer's headers, without the geo headers, which only the trusted
  // values given replace.
  absl::InlinedVector<core::NameValue, 32> headers;
  for (size_t i = 0; i < request->header_count; ++i) {
    const absl::string_view name = View(request->headers[i].name);
    bool geo = false;
    for (absl::string_view g : kGeoHeaders) geo |= absl::EqualsIgnoreCase(name, g);
    if (!geo) headers.emplace_back(name, View(request->headers[i].value));
  }
  const absl::string_view geo_values[] = {View(request->geo_country), View(request->geo_region),
                                          View(request->geo_city)};
  for (size_t i = 0; i < 3; ++i) {
    if (!geo_values[i].empty()) headers.emplace_back(kGeoHeaders[i], geo_values[i]);
  }
  std::vector<std::pair<std::string, std::string>> decoded;
  absl::InlinedVector<core::NameValue, 8> query_views;
  if (!query.empty()) {
    decoded = core::ParseQueryString(query);
    for (const auto& [n, v] : decoded) query_views.emplace_back(n, v);
  }

  const core::EdgeRequest edge{.uri = path,
                               .client_ip = View(request->client_ip),
                               .headers = headers,
                               .query = query_views};
  const ModuleState& s = state->state;
  // A first segment without a dot is no token at all: 401 missing_token, as
  // the sidecar answers (the library would say malformed_token). Anything
  // else gets the library's answer, as `edgepass token verify` gives it.
  // Without a token the library never looks at the path, so an unsafe one is
  // refused here, as the sidecar refuses it (403 unsafe_path, not 401).
  const bool no_token = first.find('.') == absl::string_view::npos;
  if (no_token && !core::IsSafePath(path)) {
    return Deny(out, 403, core::ReasonName(core::Reason::kUnsafePath));
  }
  const core::Decision d =
      no_token ? core::Decision{.allow = false, .reason = core::Reason::kMissingToken}
               : core::Validate(edge, s.keyring, state->revoked, absl::FromUnixMillis(request->now_ms));
  out->reason = Str(core::ReasonName(d.reason));
  if (d.allow) {
    out->verdict = EDGEPASS_ALLOWED;
    out->path = Str(d.path);
    out->session_id = Str(d.session_id);
    // The JWT header part of the token names the key (standard header form).
    absl::string_view token = first;
    if (std::count(token.begin(), token.end(), '.') == 3) token.remove_prefix(token.find('.') + 1);
    if (const core::SigningKey* key = s.keyring.FindByEncodedHeader(token.substr(0, token.find('.')));
        key != nullptr && key->id.size() < sizeof(out->kid)) {
      std::memcpy(out->kid, key->id.data(), key->id.size());
    }
    return;
  }
  if (request->mode == EDGEPASS_LOG_ONLY) {
    out->verdict = EDGEPASS_WOULD_DENY;
    out->path = Str(unchecked_path);
    return;
  }
  out->http_status = d.reason == core::Reason::kMissingToken ? 401 : 403;
}

}  // namespace

extern "C" void edgepass_check(const edgepass_state* state, const edgepass_request* request,
                               edgepass_decision* out) {
  // Nothing may unwind into nginx's C: only allocation can throw here.
  try {
    Check(state, request, out);
  } catch (...) {
    *out = edgepass_decision{};
    Deny(out, 500, "internal_error");
  }
}
