#include "aws/secrets_manager_client.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws/aws_error.h"
#include "aws/json_request.h"
#include "aws/sigv4.h"
#include "nlohmann/json.hpp"

namespace edgepass::aws {
namespace {

using Json = nlohmann::json;

std::string StringField(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

absl::StatusOr<Json> ParseReply(absl::string_view operation, const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) {
    return absl::InternalError(absl::StrCat("secretsmanager.", operation, ": reply is not a JSON object"));
  }
  return j;
}

// Full jitter (AWS architecture blog "Exponential Backoff And Jitter"):
// uniform in [0, min(max, base * 2^attempt)].
absl::Duration Backoff(const SecretsManagerOptions& o, int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  absl::Duration cap = std::min(o.max_backoff, o.base_backoff * (int64_t{1} << std::min(attempt, 20)));
  std::uniform_int_distribution<int64_t> dist(0, absl::ToInt64Microseconds(cap));
  return absl::Microseconds(dist(rng));
}

// A refusal of our signing time: the server's clock differs from ours by
// more than AWS allows (5 minutes).
bool IsClockSkewError(const AwsError& e) {
  return e.code == "RequestTimeTooSkewed" || e.code == "SignatureExpired" ||
         (e.code == "InvalidSignatureException" &&
          absl::StrContains(e.message, "Signature expired"));
}

}  // namespace

std::string SecretDescription::VersionWithStage(absl::string_view stage) const {
  for (const auto& [id, stages] : versions) {
    if (std::find(stages.begin(), stages.end(), stage) != stages.end()) return id;
  }
  return "";
}

SecretsManagerClient::SecretsManagerClient(SecretsManagerOptions options,
                                           std::shared_ptr<CredentialsProvider> credentials,
                                           const HttpClient* http)
    : options_(std::move(options)),
      endpoint_(options_.endpoint.value_or(Endpoint{
          .scheme = "https",
          .host = absl::StrCat("secretsmanager.", options_.region, ".amazonaws.com")})),
      credentials_(std::move(credentials)),
      http_(http) {}

absl::Duration SecretsManagerClient::clock_skew() const {
  return absl::Microseconds(skew_us_.load(std::memory_order_relaxed));
}

int64_t SecretsManagerClient::requests_sent() const {
  return requests_.load(std::memory_order_relaxed);
}

absl::StatusOr<std::string> SecretsManagerClient::Call(absl::string_view operation,
                                                       const std::string& body) {
  const std::string name = absl::StrCat("secretsmanager.", operation);
  absl::Status last;
  bool skew_corrected = false;
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    if (attempt > 0 && !skew_corrected) options_.sleep(Backoff(options_, attempt - 1));
    absl::StatusOr<Credentials> creds = credentials_->Get();
    if (!creds.ok()) {
      return absl::Status(creds.status().code(),
                          absl::StrCat(name, ": credentials: ", creds.status().message()));
    }
    HttpRequest request =
        JsonProtocolRequest(endpoint_.HostHeader(), absl::StrCat("secretsmanager.", operation), body);
    request.headers.emplace_back("User-Agent", "edgepass");
    const absl::Time signing_time = options_.now() + clock_skew();
    SignRequest(*creds,
                {.region = options_.region, .service = "secretsmanager", .time = signing_time},
                &request);
    requests_.fetch_add(1, std::memory_order_relaxed);
    absl::StatusOr<HttpResponse> response = http_->Send(endpoint_, request);
    if (!response.ok()) {
      last = absl::Status(response.status().code(),
                          absl::StrCat(name, ": ", response.status().message()));
      if (absl::IsUnavailable(response.status())) continue;  // connection trouble: retry
      return last;
    }
    if (response->status >= 200 && response->status <= 299) return std::move(response->body);
    AwsError error = ParseAwsError(*response);
    last = AwsErrorStatus(name, error);
    absl::Time server_time;
    std::string unused;
    if (IsClockSkewError(error) && !skew_corrected &&
        absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", response->Header("Date"), &server_time,
                        &unused)) {
      // Correct once per call from the reply's Date header, then sign again.
      skew_us_.store(absl::ToInt64Microseconds(server_time - options_.now()),
                     std::memory_order_relaxed);
      skew_corrected = true;
      continue;
    }
    skew_corrected = false;
    if (!IsRetryable(error)) return last;
  }
  return absl::Status(last.code(),
                      absl::StrCat(last.message(), " (after ", options_.max_attempts, " attempts)"));
}

absl::StatusOr<SecretValue> SecretsManagerClient::GetSecretValue(absl::string_view secret_id,
                                                                 absl::string_view version_stage) {
  Json req = {{"SecretId", secret_id},
              {"VersionStage", version_stage.empty() ? kStageCurrent : version_stage}};
  absl::StatusOr<std::string> text = Call("GetSecretValue", req.dump());
  if (!text.ok()) return text.status();
  absl::StatusOr<Json> j = ParseReply("GetSecretValue", *text);
  if (!j.ok()) return j.status();
  SecretValue v;
  v.arn = StringField(*j, "ARN");
  v.name = StringField(*j, "Name");
  v.version_id = StringField(*j, "VersionId");
  if (!j->contains("SecretString") || !(*j)["SecretString"].is_string()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secretsmanager.GetSecretValue: secret ", secret_id, " has no SecretString (binary?)"));
  }
  v.secret_string = (*j)["SecretString"].get<std::string>();
  if (j->contains("VersionStages") && (*j)["VersionStages"].is_array()) {
    for (const Json& s : (*j)["VersionStages"]) {
      if (s.is_string()) v.version_stages.push_back(s.get<std::string>());
    }
  }
  return v;
}

absl::StatusOr<std::string> SecretsManagerClient::PutSecretValue(
    absl::string_view secret_id, absl::string_view secret_string,
    absl::string_view client_request_token, const std::vector<std::string>& version_stages) {
  Json req = {{"SecretId", secret_id}, {"SecretString", secret_string}};
  if (!client_request_token.empty()) req["ClientRequestToken"] = client_request_token;
  if (!version_stages.empty()) req["VersionStages"] = version_stages;
  absl::StatusOr<std::string> text = Call("PutSecretValue", req.dump());
  if (!text.ok()) return text.status();
  absl::StatusOr<Json> j = ParseReply("PutSecretValue", *text);
  if (!j.ok()) return j.status();
  return StringField(*j, "VersionId");
}

absl::StatusOr<SecretDescription> SecretsManagerClient::DescribeSecret(absl::string_view secret_id) {
  Json req = {{"SecretId", secret_id}};
  absl::StatusOr<std::string> text = Call("DescribeSecret", req.dump());
  if (!text.ok()) return text.status();
  absl::StatusOr<Json> j = ParseReply("DescribeSecret", *text);
  if (!j.ok()) return j.status();
  SecretDescription d;
  d.arn = StringField(*j, "ARN");
  d.name = StringField(*j, "Name");
  if (j->contains("VersionIdsToStages") && (*j)["VersionIdsToStages"].is_object()) {
    for (const auto& [id, stages] : (*j)["VersionIdsToStages"].items()) {
      std::vector<std::string>& out = d.versions[id];
      if (!stages.is_array()) continue;
      for (const Json& s : stages) {
        if (s.is_string()) out.push_back(s.get<std::string>());
      }
    }
  }
  return d;
}

absl::StatusOr<std::string> SecretsManagerClient::CreateSecret(
    absl::string_view name, absl::string_view secret_string,
    absl::string_view client_request_token) {
  Json req = {{"Name", name}, {"SecretString", secret_string}};
  if (!client_request_token.empty()) req["ClientRequestToken"] = client_request_token;
  absl::StatusOr<std::string> text = Call("CreateSecret", req.dump());
  if (!text.ok()) return text.status();
  absl::StatusOr<Json> j = ParseReply("CreateSecret", *text);
  if (!j.ok()) return j.status();
  return StringField(*j, "VersionId");
}

absl::Status SecretsManagerClient::UpdateSecretVersionStage(
    absl::string_view secret_id, absl::string_view stage, absl::string_view move_to_version_id,
    absl::string_view remove_from_version_id) {
  Json req = {{"SecretId", secret_id}, {"VersionStage", stage}};
  if (!move_to_version_id.empty()) req["MoveToVersionId"] = move_to_version_id;
  if (!remove_from_version_id.empty()) req["RemoveFromVersionId"] = remove_from_version_id;
  return Call("UpdateSecretVersionStage", req.dump()).status();
}

}  // namespace edgepass::aws
