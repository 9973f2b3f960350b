// Credentials from a web-identity token (a Kubernetes service-account token
// or any OIDC ID token): STS AssumeRoleWithWebIdentity (query protocol, XML
// reply, unsigned), cached, refreshed before they expire.
//
//   WebIdentityCredentialsProvider p({.role_arn = arn, .token_file = path,
//                                     .session_name = "edgepass"}, http, sts, clock);
//   absl::StatusOr<Credentials> c = p.Get();
#ifndef EDGEPASS_AWS_WEB_IDENTITY_H_
#define EDGEPASS_AWS_WEB_IDENTITY_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aws/credentials.h"
#include "aws/http_client.h"

namespace edgepass::aws {

struct WebIdentityConfig {
  std::string role_arn;
  std::string token_file;    // re-read at every exchange (the kubelet rotates it)
  std::string session_name;  // "" -> "edgepass-<unix seconds>"
  int duration_seconds = 3600;
};

inline constexpr size_t kMaxWebIdentityTokenBytes = 16 * 1024;
// Credentials are refreshed this long before they expire.
inline constexpr absl::Duration kCredentialsRefreshWindow = absl::Minutes(10);

// The Credentials of an AssumeRoleWithWebIdentity XML reply. INVALID_ARGUMENT
// naming the missing element; for an <ErrorResponse>, the status of its
// <Code> (UNAUTHENTICATED for InvalidIdentityToken / ExpiredTokenException /
// AccessDenied, UNAVAILABLE for throttling and IDPCommunicationError,
// INVALID_ARGUMENT otherwise).
absl::StatusOr<Credentials> ParseAssumeRoleWithWebIdentityResponse(absl::string_view xml,
                                                                   int http_status);

class WebIdentityCredentialsProvider : public CredentialsProvider {
 public:
  WebIdentityCredentialsProvider(WebIdentityConfig config, const HttpClient* http,
                                 Endpoint sts, std::function<absl::Time()> now);

  // Cached credentials while they have more than kCredentialsRefreshWindow
  // left; else a new exchange. When the exchange fails, the cached
  // credentials while they are still valid, else the error (token file
  // unreadable: FAILED_PRECONDITION; STS: as the parser above; network: UNAVAILABLE).
  absl::StatusOr<Credentials> Get() override;
  std::string source() const override { return "web-identity"; }

  // Successful STS exchanges so far (tests).
  int exchanges() const;

 private:
  absl::StatusOr<Credentials> Exchange(absl::Time now);

  const WebIdentityConfig config_;
  const HttpClient* http_;
  const Endpoint sts_;
  const std::function<absl::Time()> now_;
  mutable absl::Mutex mu_;
  Credentials cached_ ABSL_GUARDED_BY(mu_);
  bool have_ ABSL_GUARDED_BY(mu_) = false;
  int exchanges_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace edgepass::aws

#endif  // EDGEPASS_AWS_WEB_IDENTITY_H_
