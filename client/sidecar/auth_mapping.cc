#include "client/sidecar/auth_mapping.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/url_query.h"

namespace edgepass::sidecar {

bool LooksLikeToken(absl::string_view segment) {
  std::vector<absl::string_view> parts = absl::StrSplit(segment, '.');
  if (parts.size() != 3 && parts.size() != 4) return false;
  for (absl::string_view p : parts) {
    if (p.empty()) return false;
  }
  return absl::StartsWith(parts[parts.size() - 3], "eyJ");
}

absl::Status AuthSubrequest::Parse(const http::Request& request,
                                   AuthSubrequest* out) {
  const std::string* uri = request.headers.Find(kOriginalUriHeader);
  if (uri == nullptr || uri->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOriginalUriHeader, ": missing"));
  }
  if (uri->size() > kMaxOriginalUriBytes) {
    return absl::OutOfRangeError(absl::StrCat(
        kOriginalUriHeader, ": longer than ", kMaxOriginalUriBytes, " bytes"));
  }
  if ((*uri)[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(kOriginalUriHeader, ": must start with '/'"));
  }
  for (char c : *uri) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          kOriginalUriHeader, ": contains a space or control character"));
    }
  }
  const absl::string_view full(*uri);
  const size_t q = full.find('?');
  out->path_ = full.substr(0, q);
  if (q != absl::string_view::npos) {
    out->query_ = core::ParseQueryString(full.substr(q + 1));
  }

  const size_t slash = out->path_.find('/', 1);
  const absl::string_view first = out->path_.substr(
      1,
      slash == absl::string_view::npos ? absl::string_view::npos : slash - 1);
  out->has_token_segment_ = LooksLikeToken(first);
  out->unchecked_origin_path_ = out->path_;
  out->claimed_session_id_ = {};
  if (out->has_token_segment_) {
    out->unchecked_origin_path_ = slash == absl::string_view::npos
                                      ? absl::string_view("/")
                                      : out->path_.substr(slash);
    if (std::count(first.begin(), first.end(), '.') == 3) {
      out->claimed_session_id_ = first.substr(0, first.find('.'));
    }
  }

  const std::string* ip = request.headers.Find(kRealIpHeader);
  out->client_ip_ =
      ip != nullptr ? absl::string_view(*ip) : absl::string_view();

  out->query_views_.clear();
  for (const auto& [n, v] : out->query_) out->query_views_.emplace_back(n, v);
  out->header_views_.clear();
  for (const auto& [n, v] : request.headers.fields())
    out->header_views_.emplace_back(n, v);
  return absl::OkStatus();
}

core::EdgeRequest AuthSubrequest::edge_request() const {
  return core::EdgeRequest{.uri = path_,
                           .client_ip = client_ip_,
                           .headers = header_views_,
                           .query = query_views_};
}

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kOutOfRange:
      return 414;
    default:
      return 500;
  }
}

http::Response AllowedResponse(absl::string_view origin_path,
                               absl::string_view session_id) {
  http::Response r;
  r.status = 200;
  r.headers.Add(std::string(kPathHeader), std::string(origin_path));
  if (!session_id.empty())
    r.headers.Add(std::string(kSessionHeader), std::string(session_id));
  return r;
}

http::Response DeniedResponse(core::Reason reason) {
  http::Response r;
  r.status = reason == core::Reason::kMissingToken ? 401 : 403;
  r.headers.Add(std::string(kReasonHeader),
                std::string(core::ReasonName(reason)));
  return r;
}

http::Response WouldDenyResponse(absl::string_view origin_path,
                                 core::Reason reason) {
  http::Response r = AllowedResponse(origin_path, {});
  r.headers.Add(std::string(kWouldDenyHeader),
                std::string(core::ReasonName(reason)));
  return r;
}

}  // namespace edgepass::sidecar
