// `edgepass token explain` without the command line: decodes a token, a
// request path or a whole playback URL, runs core::ValidateTraced on the
// request an operator describes, and reports everything as one JSON document
// (token_explain_text.h renders it for people). Offline; core only, no gRPC,
// so the fuzz target can link it.
//
//   auto target = ParseExplainTarget(argument, /*path=*/"");
//   ExplainRequest request{.target = *target, .client_ip = "203.0.113.9"};
//   auto report = ExplainToken(request, nullptr, keys, revoked, now);
//   bool allowed = report["decision"]["allow"].get<bool>();
#ifndef EDGEPASS_CLIENT_EXPLAIN_TOKEN_EXPLAIN_H_
#define EDGEPASS_CLIENT_EXPLAIN_TOKEN_EXPLAIN_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "nlohmann/json.hpp"

namespace edgepass::explain {

// Longest token, path or URL `token explain` reads.
inline constexpr size_t kMaxExplainInputBytes = 16 * 1024;

// What the operator handed over, split into the request the validator sees.
struct ExplainTarget {
  std::string kind;                                        // "url", "path" or "token"
  std::string uri;                                         // path with the token as first segment, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, from the input
  bool path_assumed = false;  // a bare token: checked against its first `paths` prefix
};

// Reads `input`: an absolute http(s) URL
// ("https://cdn/<token>/v/1/x.m3u8?a=1"), a request path
// ("/<token>/v/1/x.m3u8?a=1") or a bare token. A bare token is checked as a
// request for `path` (an origin path starting with '/'), or for the first
// prefix of its own `paths` claim when `path` is empty. An empty input is an
// empty request path (missing_token, as `token verify --uri ""`).
// INVALID_ARGUMENT naming the input for an input over kMaxExplainInputBytes,
// a URL without a path, or a `path` that does not start with '/'.
absl::StatusOr<ExplainTarget> ParseExplainTarget(absl::string_view input, absl::string_view path);

// One edge request, as `token verify` takes it.
struct ExplainRequest {
  ExplainTarget target;
  std::string client_ip;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> query;  // after target.query
};

// The report: "input", "token" (session id, header and claims as decoded, or
// the error), "times" (UTC), "key" (kid, whether `keys` knows it, its state),
// "bindings" (bound attribute names, the viewer-attribute string built from
// `request` and, when `expected` is given, from `expected` with whether the
// token's intsig matches it) and "decision" (what `token verify` prints for
// the same request, plus a hint). Never fails: undecodable parts are reported
// as such. Thread-safe.
nlohmann::ordered_json ExplainToken(const ExplainRequest& request, const ExplainRequest* expected,
                                    const core::Keyring& keys, const core::RevocationSet& revoked,
                                    absl::Time now);

// One line on what a deny reason means and where to look ("" for kOk).
absl::string_view ReasonHint(absl::string_view reason_name);

}  // namespace edgepass::explain

#endif  // EDGEPASS_CLIENT_EXPLAIN_TOKEN_EXPLAIN_H_
