#include "core/token_policy.h"

#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/json_internal.h"
#include "core/status_macros.h"
#include "text/json_doc.h"

namespace edgepass::core {
namespace {

using internal::Json;

// Far enough for any real token, small enough that exp*1000 fits JS numbers.
constexpr int64_t kMaxEpochSeconds = int64_t{1} << 40;
constexpr int64_t kMaxRelativeSeconds = int64_t{366} * 24 * 3600;

bool IsToken(char c) {  // RFC 7230 tchar, for header names
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

// The field names below are built only for an error: the issuer validates
// its policy on every call.
absl::Status CheckPrefixes(const std::vector<std::string>& list,
                           absl::string_view prefix, absl::string_view name,
                           bool required) {
  if (required && list.empty()) {
    return FieldError(absl::StrCat(prefix, name),
                      "at least one path is required");
  }
  if (list.size() > kMaxPolicyPaths) {
    return FieldError(absl::StrCat(prefix, name),
                      absl::StrCat("at most ", kMaxPolicyPaths, " entries"));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto field = [&] { return absl::StrCat(prefix, name, "[", i, "]"); };
    const std::string& p = list[i];
    if (p.empty() || p[0] != '/')
      return FieldError(field(), "must start with '/'");
    if (p.size() > kMaxPolicyPathLength) {
      return FieldError(
          field(),
          absl::StrCat("longer than ", kMaxPolicyPathLength, " characters"));
    }
    for (char c : p) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#' || c == '\\') {
        return FieldError(
            field(),
            "may not contain spaces, control characters, '?', '#' or '\\'");
      }
    }
    if (p.find("//") != std::string::npos || p.find("/./") != std::string::npos ||
        p.find("/../") != std::string::npos || absl::EndsWith(p, "/.") ||
        absl::EndsWith(p, "/..")) {
      return FieldError(field(), "may not contain '//' or dot segments");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNames(const std::vector<std::string>& list,
                        absl::string_view prefix, absl::string_view name,
                        bool header) {
  if (list.size() > kMaxBoundNames) {
    return FieldError(absl::StrCat(prefix, name),
                      absl::StrCat("at most ", kMaxBoundNames, " names"));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto field = [&] { return absl::StrCat(prefix, name, "[", i, "]"); };
    if (list[i].empty() || list[i].size() > 256)
      return FieldError(field(), "must be 1 to 256 characters");
    for (char c : list[i]) {
      const bool ok = header ? IsToken(c) : (static_cast<unsigned char>(c) > 0x20 && c != 0x7f &&
                                             c != '&' && c != '=' && c != '#');
      if (!ok)
        return FieldError(field(), header ? "not a valid header name"
                                          : "not a valid parameter name");
    }
    for (size_t j = 0; j < i; ++j) {
      if (absl::EqualsIgnoreCase(list[j], list[i]))
        return FieldError(field(), "listed twice");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> ParseEpoch(absl::string_view text, absl::string_view field) {
  int64_t secs = 0;
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
      !absl::SimpleAtoi(text, &secs) || secs <= 0 || secs > kMaxEpochSeconds) {
    return FieldError(field, absl::StrCat("must be epoch seconds, got \"", text, "\""));
  }
  return absl::FromUnixSeconds(secs);
}

// exp/nbf may be a JSON string or integer, as SMD's catalog items have both.
absl::StatusOr<std::string> TimeText(const Json& j, absl::string_view field) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
  return FieldError(field, "must be a string such as \"+2h\" or epoch seconds");
}

}  // namespace

absl::StatusOr<Expiry> ParseExpiry(absl::string_view text, absl::string_view field) {
  Expiry e;
  e.text = std::string(text);
  if (!text.empty() && text[0] == '+') {
    const char unit = text.size() >= 3 ? text.back() : '\0';
    int64_t n = 0;
    const absl::string_view digits = text.substr(1, text.size() >= 2 ? text.size() - 2 : 0);
    const bool digits_ok = !digits.empty() && absl::ascii_isdigit(static_cast<unsigned char>(digits[0])) &&
                           absl::SimpleAtoi(digits, &n);
    int64_t scale = unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : 0;
    if (!digits_ok || scale == 0 || n <= 0 || n > kMaxRelativeSeconds / scale) {
      return FieldError(field, absl::StrCat("relative expiry must be \"+<n>h\", \"+<n>m\" or "
                                            "\"+<n>s\" (at most a year), got \"", text, "\""));
    }
    e.relative = true;
    e.after = absl::Seconds(n * scale);
    return e;
  }
  EDGEPASS_ASSIGN_OR_RETURN(e.at, ParseEpoch(text, field));
  e.relative = false;
  return e;
}

absl::Status ValidateTokenPolicy(const TokenPolicy& p, absl::string_view prefix) {
  EDGEPASS_RETURN_IF_ERROR(
      CheckPrefixes(p.paths, prefix, "paths", /*required=*/true));
  EDGEPASS_RETURN_IF_ERROR(
      CheckPrefixes(p.exc, prefix, "exc", /*required=*/false));
  EDGEPASS_RETURN_IF_ERROR(
      CheckNames(p.headers, prefix, "headers", /*header=*/true));
  EDGEPASS_RETURN_IF_ERROR(
      CheckNames(p.querystrings, prefix, "querystrings", /*header=*/false));
  if (p.exp.relative) {
    if (p.exp.after <= absl::ZeroDuration() || p.exp.after > absl::Seconds(kMaxRelativeSeconds)) {
      return FieldError(absl::StrCat(prefix, "exp"),
                        "relative expiry must be positive and at most a year");
    }
  } else if (p.exp.at == absl::InfiniteFuture()) {
    return FieldError(absl::StrCat(prefix, "exp"), "is required");
  }
  if (p.nbf && !p.exp.relative && *p.nbf >= p.exp.at) {
    return FieldError(absl::StrCat(prefix, "nbf"), "must be before exp");
  }
  if (p.co_fallback && !p.co)
    return FieldError(absl::StrCat(prefix, "co_fallback"), "requires co");
  if (p.reg_fallback && !p.reg)
    return FieldError(absl::StrCat(prefix, "reg_fallback"), "requires reg");
  if (p.session_auto_generate != 0 &&
      (p.session_auto_generate < kMinSessionIdLength || p.session_auto_generate > kMaxSessionIdLength)) {
    return FieldError(
        absl::StrCat(prefix, "session_auto_generate"),
        absl::StrCat("must be 0 (default ", kDefaultSessionIdLength, ") or ",
                     kMinSessionIdLength, " to ", kMaxSessionIdLength));
  }
  return absl::OkStatus();
}

absl::StatusOr<TokenPolicy> ParseTokenPolicyJson(absl::string_view text, absl::string_view prefix) {
  const std::string pre(prefix);
  const std::string what = pre.empty() ? "token_policy" : pre.substr(0, pre.size() - 1);
  EDGEPASS_ASSIGN_OR_RETURN(Json j,
                            text::ParseJson(text, what, {.max_bytes = kMaxPolicyJsonBytes, .object = true}));
  TokenPolicy p;
  bool have_exp = false;
  for (const auto& [name, value] : j.items()) {
    const std::string field = pre + name;
    if (name == "paths") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetStringList(value, field, &p.paths));
    } else if (name == "exc") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetStringList(value, field, &p.exc));
    } else if (name == "headers") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetStringList(value, field, &p.headers));
    } else if (name == "querystrings") {
      EDGEPASS_RETURN_IF_ERROR(internal::GetStringList(value, field, &p.querystrings));
    } else if (name == "exp") {
      EDGEPASS_ASSIGN_OR_RETURN(std::string t, TimeText(value, field));
      EDGEPASS_ASSIGN_OR_RETURN(p.exp, ParseExpiry(t, field));
      have_exp = true;
    } else if (name == "nbf") {
      EDGEPASS_ASSIGN_OR_RETURN(std::string t, TimeText(value, field));
      EDGEPASS_ASSIGN_OR_RETURN(absl::Time nbf, ParseEpoch(t, field));
      p.nbf = nbf;
    } else if (name == "session_auto_generate") {
      int64_t n = 0;
      if (value.is_number_integer()) {
        n = value.get<int64_t>();
      } else if (!value.is_string() || !absl::SimpleAtoi(value.get<std::string>(), &n)) {
        return FieldError(field, "must be an integer");
      }
      if (n < 0 || n > 1000) return FieldError(field, "out of range");
      p.session_auto_generate = static_cast<int>(n);
    } else if (name == "cty_fallback") {
      bool ignored = false;  // in SMD's sample asset; SMD never reads it
      EDGEPASS_RETURN_IF_ERROR(internal::GetBool(value, field, &ignored));
    } else {
      bool* flag = name == "ip"             ? &p.ip
                   : name == "co"           ? &p.co
                   : name == "co_fallback"  ? &p.co_fallback
                   : name == "cty"          ? &p.cty
                   : name == "reg"          ? &p.reg
                   : name == "reg_fallback" ? &p.reg_fallback
                   : name == "ssn"          ? &p.ssn
                                            : nullptr;
      if (flag == nullptr) return FieldError(field, "unknown field");
      EDGEPASS_RETURN_IF_ERROR(internal::GetBool(value, field, flag));
    }
  }
  if (!have_exp) return FieldError(pre + "exp", "is required");
  EDGEPASS_RETURN_IF_ERROR(ValidateTokenPolicy(p, prefix));
  return p;
}

std::string TokenPolicyToJson(const TokenPolicy& p) {
  Json j = Json::object();
  j["paths"] = p.paths;
  if (!p.exc.empty()) j["exc"] = p.exc;
  j["exp"] = p.exp.relative ? p.exp.text : std::to_string(absl::ToUnixSeconds(p.exp.at));
  if (p.exp.relative && p.exp.text.empty()) {
    j["exp"] = absl::StrCat("+", absl::ToInt64Seconds(p.exp.after), "s");
  }
  if (p.nbf) j["nbf"] = std::to_string(absl::ToUnixSeconds(*p.nbf));
  for (auto [name, value] : {std::pair<const char*, bool>{"ip", p.ip}, {"co", p.co},
                             {"co_fallback", p.co_fallback}, {"cty", p.cty}, {"reg", p.reg},
                             {"reg_fallback", p.reg_fallback}, {"ssn", p.ssn}}) {
    if (value) j[name] = true;
  }
  if (p.session_auto_generate) j["session_auto_generate"] = p.session_auto_generate;
  if (!p.headers.empty()) j["headers"] = p.headers;
  if (!p.querystrings.empty()) j["querystrings"] = p.querystrings;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace edgepass::core
