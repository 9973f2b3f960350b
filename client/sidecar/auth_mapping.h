// The nginx auth_request contract of the sidecar, apart from any HTTP
// library: an auth subrequest (http::Request) becomes a core::EdgeRequest,
// and a decision becomes the response nginx reads.
//
//   AuthSubrequest sub;
//   if (absl::Status s = AuthSubrequest::Parse(request, &sub); !s.ok()) return
//   BadRequest(s); core::Decision d = validator.Check(sub.edge_request(), now);
//   return d.allow ? AllowedResponse(d.path, d.session_id) :
//   DeniedResponse(d.reason);
//
// Request: X-Original-URI (nginx $request_uri: raw path with the token as
// first segment, optional query), X-Real-IP (nginx $remote_addr), geo headers
// CloudFront-Viewer-Country/-Country-Region/-City, and every other header (a
// token may bind any of them). Response: 200 + X-Edgepass-Path (origin path,
// token stripped, no query) + X-Edgepass-Session; 401 (missing token) or 403
// + X-Edgepass-Reason: core::ReasonName(). Bodies are empty.
#ifndef EDGEPASS_CLIENT_SIDECAR_AUTH_MAPPING_H_
#define EDGEPASS_CLIENT_SIDECAR_AUTH_MAPPING_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/validator.h"
#include "http/http_message.h"

namespace edgepass::sidecar {

inline constexpr absl::string_view kOriginalUriHeader = "X-Original-URI";
inline constexpr absl::string_view kRealIpHeader = "X-Real-IP";
inline constexpr absl::string_view kPathHeader = "X-Edgepass-Path";
inline constexpr absl::string_view kSessionHeader = "X-Edgepass-Session";
inline constexpr absl::string_view kReasonHeader = "X-Edgepass-Reason";
inline constexpr absl::string_view kWouldDenyHeader = "X-Edgepass-Would-Deny";

// Longer X-Original-URI values are refused with 414.
inline constexpr size_t kMaxOriginalUriBytes = 8192;

// True when `segment` has the shape of a token: 3 or 4 non-empty
// dot-separated parts whose JWT header part starts with "eyJ" ('{"' in
// base64url). Says nothing about validity.
bool LooksLikeToken(absl::string_view segment);

// One parsed auth subrequest. Views `request` (which must outlive it) and
// owns the decoded query. Not copyable or movable: edge_request() points
// into it.
class AuthSubrequest {
 public:
  AuthSubrequest() = default;
  AuthSubrequest(const AuthSubrequest&) = delete;
  AuthSubrequest& operator=(const AuthSubrequest&) = delete;

  // Reads `request` into *out. INVALID_ARGUMENT "X-Original-URI: ..." when
  // the header is missing, does not start with '/', or holds spaces or
  // control bytes; OUT_OF_RANGE when it is over kMaxOriginalUriBytes.
  static absl::Status Parse(const http::Request& request, AuthSubrequest* out);

  absl::string_view path() const {
    return path_;
  }  // raw, token segment included
  // True when the first path segment looks like a token (LooksLikeToken).
  bool has_token_segment() const { return has_token_segment_; }
  // The path without the first segment when it looks like a token; path()
  // otherwise. What the origin would be asked for when nothing is checked.
  absl::string_view unchecked_origin_path() const {
    return unchecked_origin_path_;
  }
  // The session-id part of a 4-part token segment; empty otherwise.
  absl::string_view claimed_session_id() const { return claimed_session_id_; }
  absl::string_view client_ip() const { return client_ip_; }

  core::EdgeRequest edge_request() const;

 private:
  absl::string_view path_;
  absl::string_view unchecked_origin_path_;
  absl::string_view claimed_session_id_;
  absl::string_view client_ip_;
  bool has_token_segment_ = false;
  std::vector<std::pair<std::string, std::string>> query_;
  std::vector<core::NameValue> query_views_;
  std::vector<core::NameValue> header_views_;
};

// 400 for INVALID_ARGUMENT, 414 for OUT_OF_RANGE, 500 otherwise.
int HttpStatusFor(const absl::Status& status);

// 200 with X-Edgepass-Path and, when not empty, X-Edgepass-Session.
http::Response AllowedResponse(absl::string_view origin_path,
                               absl::string_view session_id);
// 401 for kMissingToken, 403 otherwise; X-Edgepass-Reason names the reason.
http::Response DeniedResponse(core::Reason reason);
// log-only: 200 with X-Edgepass-Path and X-Edgepass-Would-Deny: <reason>.
http::Response WouldDenyResponse(absl::string_view origin_path,
                                 core::Reason reason);

}  // namespace edgepass::sidecar

#endif  // EDGEPASS_CLIENT_SIDECAR_AUTH_MAPPING_H_
