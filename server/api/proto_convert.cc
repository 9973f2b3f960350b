#include "server/api/proto_convert.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

absl::Status Invalid(absl::string_view prefix, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(prefix, field, ": ", what));
}

absl::Status CheckValue(absl::string_view prefix, absl::string_view field, absl::string_view value,
                        size_t max) {
  if (value.size() > max) {
    return Invalid(prefix, field, absl::StrCat("longer than ", max, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MapFromProto(
    const google::protobuf::Map<std::string, std::string>& map, int max_entries,
    absl::string_view prefix, absl::string_view field) {
  if (map.size() > static_cast<size_t>(max_entries)) {
    return Invalid(prefix, field, absl::StrCat("more than ", max_entries, " entries"));
  }
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(map.size());
  for (const auto& [name, value] : map) {
    std::string entry = absl::StrCat(field, "[\"", name.substr(0, kMaxViewerNameLength), "\"]");
    if (name.empty()) return Invalid(prefix, field, "empty name");
    EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, entry, name, kMaxViewerNameLength));
    EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, entry, value, core::kMaxViewerValueLength));
    out.emplace_back(name, value);
  }
  // Map iteration order is unspecified; keep the result deterministic.
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<std::string>> ListFromProto(
    const google::protobuf::RepeatedPtrField<std::string>& list, absl::string_view prefix,
    absl::string_view field) {
  if (static_cast<size_t>(list.size()) > kMaxPolicyRepeated) {
    return Invalid(prefix, field, absl::StrCat("more than ", kMaxPolicyRepeated, " entries"));
  }
  std::vector<std::string> out;
  for (int i = 0; i < list.size(); ++i) {
    EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, absl::StrCat(field, "[", i, "]"), list[i],
                                        core::kMaxPolicyPathLength));
    out.push_back(list[i]);
  }
  return out;
}

}  // namespace

absl::StatusOr<core::ViewerAttributes> ViewerFromProto(const v1::Viewer& viewer,
                                                       absl::string_view prefix) {
  core::ViewerAttributes out;
  EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, "ip", viewer.ip(), kMaxViewerIpLength));
  EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, "country", viewer.country(), core::kMaxViewerValueLength));
  EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, "region", viewer.region(), core::kMaxViewerValueLength));
  EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, "city", viewer.city(), core::kMaxViewerValueLength));
  EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, "session_id", viewer.session_id(),
                                      static_cast<size_t>(core::kMaxSessionIdLength)));
  out.ip = viewer.ip();
  out.co = viewer.country();
  out.reg = viewer.region();
  out.cty = viewer.city();
  out.session_id = viewer.session_id();
  EDGEPASS_ASSIGN_OR_RETURN(out.headers,
                            MapFromProto(viewer.headers(), kMaxViewerHeaders, prefix, "headers"));
  EDGEPASS_ASSIGN_OR_RETURN(out.qs, MapFromProto(viewer.query(), kMaxViewerQuery, prefix, "query"));
  return out;
}

absl::StatusOr<PlaybackRequest> PlaybackRequestFromProto(const v1::IssuePlaybackRequest& request) {
  EDGEPASS_ASSIGN_OR_RETURN(core::ViewerAttributes viewer, ViewerFromProto(request.viewer(), "viewer."));
  return PlaybackRequest{.asset_id = request.asset_id(), .entitlement = request.entitlement(), .viewer = std::move(viewer)};
}

absl::StatusOr<core::TokenPolicy> TokenPolicyFromProto(const v1::TokenPolicy& policy,
                                                       absl::Duration default_ttl,
                                                       absl::string_view prefix) {
  core::TokenPolicy out;
  EDGEPASS_ASSIGN_OR_RETURN(out.paths, ListFromProto(policy.paths(), prefix, "paths"));
  EDGEPASS_ASSIGN_OR_RETURN(out.exc, ListFromProto(policy.exc(), prefix, "exc"));
  EDGEPASS_ASSIGN_OR_RETURN(out.headers, ListFromProto(policy.headers(), prefix, "headers"));
  EDGEPASS_ASSIGN_OR_RETURN(out.querystrings,
                            ListFromProto(policy.querystrings(), prefix, "querystrings"));
  if (policy.exp().empty()) {
    out.exp.relative = true;
    out.exp.after = default_ttl;
    out.exp.text = absl::StrCat("+", absl::ToInt64Seconds(default_ttl), "s");
  } else {
    EDGEPASS_RETURN_IF_ERROR(CheckValue(prefix, "exp", policy.exp(), 64));
    EDGEPASS_ASSIGN_OR_RETURN(out.exp, core::ParseExpiry(policy.exp(), absl::StrCat(prefix, "exp")));
  }
  if (!policy.nbf().empty()) {
    int64_t nbf;
    if (!absl::SimpleAtoi(policy.nbf(), &nbf) || nbf < 0) {
      return Invalid(prefix, "nbf", "must be epoch seconds");
    }
    out.nbf = absl::FromUnixSeconds(nbf);
  }
  out.ip = policy.ip();
  out.co = policy.co();
  out.co_fallback = policy.co_fallback();
  out.cty = policy.cty();
  out.reg = policy.reg();
  out.reg_fallback = policy.reg_fallback();
  out.ssn = policy.ssn();
  out.session_auto_generate = policy.session_auto_generate();
  EDGEPASS_RETURN_IF_ERROR(core::ValidateTokenPolicy(out, prefix));
  return out;
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(0);
}

std::string PolicyExpText(const core::TokenPolicy& policy) {
  if (!policy.exp.text.empty()) return policy.exp.text;
  if (policy.exp.relative) return absl::StrCat("+", absl::ToInt64Seconds(policy.exp.after), "s");
  return absl::StrCat(absl::ToUnixSeconds(policy.exp.at));
}

std::string PolicyNbfText(const core::TokenPolicy& policy) {
  return policy.nbf.has_value() ? absl::StrCat(absl::ToUnixSeconds(*policy.nbf)) : std::string();
}

void TokenPolicyToProto(const core::TokenPolicy& policy, v1::TokenPolicy* out_ptr) {
  v1::TokenPolicy& out = *out_ptr;
  for (const auto& p : policy.paths) out.add_paths(p);
  for (const auto& p : policy.exc) out.add_exc(p);
  out.set_exp(PolicyExpText(policy));
  if (policy.nbf.has_value()) out.set_nbf(PolicyNbfText(policy));
  out.set_ip(policy.ip);
  out.set_co(policy.co);
  out.set_co_fallback(policy.co_fallback);
  out.set_cty(policy.cty);
  out.set_reg(policy.reg);
  out.set_reg_fallback(policy.reg_fallback);
  out.set_ssn(policy.ssn);
  out.set_session_auto_generate(policy.session_auto_generate);
  for (const auto& h : policy.headers) out.add_headers(h);
  for (const auto& q : policy.querystrings) out.add_querystrings(q);
}

}  // namespace edgepass::server
