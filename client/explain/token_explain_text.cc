#include "client/explain/token_explain_text.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace edgepass::explain {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string StrOr(const Json& j, absl::string_view dflt) {
  return j.is_string() ? j.get<std::string>() : std::string(dflt);
}

// "3h59m53s", or whole days past two days ("1754 days").
std::string Span(int64_t seconds) {
  if (seconds >= 2 * 86400) return absl::StrCat(seconds / 86400, " days");
  return absl::FormatDuration(absl::Seconds(seconds));
}

}  // namespace

std::string RenderExplanation(const Json& report) {
  std::string out;
  // The label column fits "  <attribute name>" (bounded: names come from a
  // token of at most 4096 bytes).
  size_t label_width = 12;
  for (const char* side : {"request", "expected"}) {
    const Json& b = report["bindings"][side];
    if (!b.is_object()) continue;
    for (const Json& p : b["parts"]) label_width = std::max(label_width, StrOr(p["name"], "").size() + 4);
  }
  label_width = std::min<size_t>(label_width, 40);
  auto line = [&out, label_width](absl::string_view label, absl::string_view text) {
    absl::StrAppend(&out, label,
                    std::string(label.size() < label_width ? label_width - label.size() : 1, ' '), text,
                    "\n");
  };
  const Json& input = report["input"];
  line("input",
       absl::StrCat(StrOr(input["kind"], "?"), "  ", StrOr(input["origin_path"], "(no path)"),
                    input["origin_path_assumed"].get<bool>() ? "  (first of the token's paths)" : ""));
  {
    std::vector<std::string> req;
    req.push_back(absl::StrCat("ip ", StrOr(input["client_ip"], "(none)")));
    for (const Json& h : input["headers"]) {
      req.push_back(absl::StrCat("header ", StrOr(h[0], ""), "=", StrOr(h[1], "")));
    }
    for (const Json& q : input["query"]) {
      req.push_back(absl::StrCat("query ", StrOr(q[0], ""), "=", StrOr(q[1], "")));
    }
    line("request", absl::StrJoin(req, "; "));
  }
  const Json& t = report["token"];
  if (t.contains("error")) {
    line("token", absl::StrCat("not decoded: ", StrOr(t["error"], "")));
  } else {
    line("session", StrOr(t["session_id"], "(none)"));
    line("header", t.contains("header_error") ? absl::StrCat("not decoded: ", StrOr(t["header_error"], ""))
                                              : Dump(t["header"]));
    line("claims", t.contains("claims_error") ? absl::StrCat("not decoded: ", StrOr(t["claims_error"], ""))
                                              : Dump(t["claims"]));
  }
  const Json& times = report["times"];
  line("now", StrOr(times["now"]["utc"], ""));
  for (const char* name : {"iat", "nbf", "exp"}) {
    if (!times.contains(name) || times[name].is_null()) continue;
    const Json& e = times[name];
    if (e.contains("error")) {
      line(name, absl::StrCat("invalid: ", StrOr(e["error"], "")));
      continue;
    }
    const int64_t delta = e["from_now_seconds"].get<int64_t>();
    const std::string rel = delta == 0  ? std::string("now")
                            : delta > 0 ? absl::StrCat("in ", Span(delta))
                                        : absl::StrCat(Span(-delta), " ago");
    line(name, absl::StrCat(StrOr(e["utc"], ""), "  (", rel, ")"));
  }
  const Json& key = report["key"];
  {
    std::string text = StrOr(key["kid"], "(no kid)");
    if (key["known"].get<bool>()) {
      absl::StrAppend(&text, "  known, state ", StrOr(key["state"], "?"));
      if (key["not_after"].is_string())
        absl::StrAppend(&text, ", validates until ", StrOr(key["not_after"], ""));
    } else {
      std::vector<std::string> ids;
      for (const Json& k : key["keyring"]) {
        ids.push_back(absl::StrCat(StrOr(k["id"], ""), " (", StrOr(k["state"], ""), ")"));
      }
      absl::StrAppend(&text,
                      "  NOT in the keyring; it has: ", ids.empty() ? "no keys" : absl::StrJoin(ids, ", "));
    }
    line("key", text);
  }

  const Json& b = report["bindings"];
  std::vector<std::string> bound;
  for (const Json& n : b["bound"]) bound.push_back(StrOr(n, ""));
  line("bound", bound.empty() ? "nothing (no viewer binding)" : absl::StrJoin(bound, ", "));
  const Json& got = b["request"];
  const Json& want = b["expected"];
  if (got["viewer_attributes"].is_string()) {
    if (want.is_null()) {
      line("attributes",
           absl::StrCat("\"", StrOr(got["viewer_attributes"], ""), "\"  (built from this request)"));
      for (const Json& p : got["parts"]) {
        line(absl::StrCat("  ", StrOr(p["name"], "")), StrOr(p["value"], "(absent: left out)"));
      }
      if (got["intsig_checked"].get<bool>() && !got["intsig_matches"].get<bool>()) {
        line("bound to",
             "only its HMAC (intsig) is in the token; pass "
             "--expected-ip/--expected-header/--expected-query");
        line("",
             "with the viewer's values at issue time to see the string side by "
             "side");
      }
    } else {
      // Side by side: what this request gives, what the token was bound to.
      std::vector<std::pair<std::string, std::pair<std::string, std::string>>> rows;
      auto value_of = [](const Json& parts, const std::string& name) -> std::string {
        for (const Json& p : parts) {
          if (StrOr(p["name"], "") == name) return StrOr(p["value"], "(absent)");
        }
        return "(absent)";
      };
      std::vector<std::string> names;
      for (const Json& p : got["parts"]) names.push_back(StrOr(p["name"], ""));
      for (const Json& p : want["parts"]) {
        if (std::find(names.begin(), names.end(), StrOr(p["name"], "")) == names.end()) {
          names.push_back(StrOr(p["name"], ""));
        }
      }
      const std::string got_string = StrOr(got["viewer_attributes"], "(not built)");
      const std::string want_string = StrOr(want["viewer_attributes"], "(not built)");
      size_t width = std::max<size_t>(got_string.size() + 2, std::string("this request").size());
      for (const std::string& n : names) width = std::max(width, value_of(got["parts"], n).size());
      auto row = [&](absl::string_view label, absl::string_view left, absl::string_view right,
                     absl::string_view mark) {
        line(label, absl::StrCat(left, std::string(width - std::min(width, left.size()) + 2, ' '), "| ",
                                 right, mark));
      };
      row("attributes", "this request", "expected (--expected-*)", "");
      for (const std::string& n : names) {
        const std::string l = value_of(got["parts"], n);
        const std::string r = value_of(want["parts"], n);
        row(absl::StrCat("  ", n), l, r, l == r ? "" : "   <- differs");
      }
      row("  string", absl::StrCat("\"", got_string, "\""), absl::StrCat("\"", want_string, "\""), "");
      line("intsig",
           absl::StrCat(
               "this request: ", got["intsig_matches"].get<bool>() ? "matches" : "does not match",
               "; expected: ",
               want["intsig_matches"].get<bool>()
                   ? "matches (the token was bound to the expected string)"
                   : (want["intsig_checked"].get<bool>() ? "does not match either (the token was bound to "
                                                           "other values)"
                                                         : "not checked")));
    }
  } else if (!bound.empty()) {
    line("attributes", "not built: the request was refused before the viewer bindings");
  }

  const Json& d = report["decision"];
  if (d["allow"].get<bool>()) {
    line("decision", absl::StrCat("ALLOW  origin path ", StrOr(d["path"], "")));
  } else {
    line("decision", absl::StrCat("DENY  ", StrOr(d["reason"], "")));
    line("", StrOr(d["hint"], ""));
  }
  return out;
}

}  // namespace edgepass::explain
