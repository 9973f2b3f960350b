// Starts the real edgepass-server binary on a free loopback port with a fresh
// data directory and talks to it over gRPC. Label: integration.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/keyring.h"
#include "core/revocation.h"
#include "core/validator.h"
#include "edgepass/v1/playback.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/server_process.h"
#include "tests/support/test_process.h"

namespace edgepass {
namespace {

using ::edgepass::testing::ChildProcess;
using ::edgepass::testing::Context;
using ::edgepass::testing::ServerProcess;
using ::edgepass::testing::ReadFileOrEmpty;
using ::edgepass::testing::RunProcess;
using ::edgepass::testing::TempDir;
using ::edgepass::testing::WriteFileOrDie;

constexpr char kServerPath[] = EDGEPASS_SERVER_PATH;
constexpr char kAsset1Path[] = "/out/v1/6d3c5e1f0a9b4c2d8e7f6a5b4c3d2e1f/index.m3u8";

// "https://host/rest" -> "/rest"
std::string UriOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "" : url.substr(slash);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = work_.path() + "/data";
    server_ = std::make_unique<ServerProcess>(work_.path(), data_dir_);
    ASSERT_TRUE(server_->WaitUntilServing());
  }

  core::Keyring LoadKeyring() {
    absl::StatusOr<core::Keyring> keys =
        core::ParseKeyringJson(ReadFileOrEmpty(data_dir_ + "/keyring.json"));
    EXPECT_TRUE(keys.ok()) << keys.status();
    return keys.ok() ? *std::move(keys) : core::Keyring();
  }

  core::Decision Check(const std::string& uri, const core::Keyring& keys, absl::Time now) {
    uri_storage_ = uri;
    core::EdgeRequest request{.uri = uri_storage_};
    return core::Validate(request, keys, revoked_, now);
  }

  TempDir work_;
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  core::RevocationSet revoked_;
  std::string uri_storage_;
};

TEST_F(ServerTest, IssuePlaybackTokenValidates) {
  v1::IssuePlaybackRequest request;
  request.set_asset_id("1");
  v1::IssuePlaybackResponse response;
  grpc::Status status = server_->stub().IssuePlayback(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_TRUE(absl::StartsWith(response.playback_url(), "https://cdn.example.com/" + response.token() + "/"))
      << response.playback_url();
  EXPECT_EQ(response.session_id().size(), 12u);
  EXPECT_TRUE(absl::StartsWith(response.token(), response.session_id() + "."));
  EXPECT_EQ(response.token_policy().exp(), "+2h");
  EXPECT_TRUE(response.token_policy().ssn());
  const absl::Time expires_at = absl::FromUnixSeconds(response.expires_at().seconds());
  EXPECT_GT(expires_at, absl::Now() + absl::Minutes(119));
  EXPECT_LT(expires_at, absl::Now() + absl::Minutes(121));

  core::Keyring keys = LoadKeyring();
  const std::string uri = UriOf(response.playback_url());
  core::Decision allowed = Check(uri, keys, absl::Now());
  EXPECT_TRUE(allowed.allow) << core::ReasonName(allowed.reason);
  EXPECT_EQ(allowed.path, kAsset1Path);
  EXPECT_EQ(allowed.session_id, response.session_id());

  // A segment under the same prefix is opened too.
  std::string segment = uri;
  segment.replace(segment.rfind("index.m3u8"), 10, "seg_00001.ts");
  EXPECT_TRUE(Check(segment, keys, absl::Now()).allow);

  // Tampered payload: one character of the JWT payload flipped.
  std::string tampered = uri;
  const size_t payload = tampered.find('.', tampered.find('.', 1) + 1) + 5;  // sid.header.<payload>
  tampered[payload] = tampered[payload] == 'A' ? 'B' : 'A';
  core::Decision bad_sig = Check(tampered, keys, absl::Now());
  EXPECT_FALSE(bad_sig.allow);
  EXPECT_EQ(bad_sig.reason, core::Reason::kBadSignature) << core::ReasonName(bad_sig.reason);

  core::Decision expired = Check(uri, keys, expires_at + absl::Hours(1));
  EXPECT_FALSE(expired.allow);
  EXPECT_EQ(expired.reason, core::Reason::kExpired) << core::ReasonName(expired.reason);

  std::string wrong_path = uri;
  wrong_path.replace(wrong_path.find("/out/v1/"), 40, "/out/v1/00000000000000000000000000000000");
  core::Decision denied = Check(wrong_path, keys, absl::Now());
  EXPECT_FALSE(denied.allow);
  EXPECT_EQ(denied.reason, core::Reason::kPathNotAllowed) << core::ReasonName(denied.reason);
}

TEST_F(ServerTest, IssuePlaybackBindsViewerHeader) {
  v1::IssuePlaybackRequest request;
  request.set_asset_id("2");
  (*request.mutable_viewer()->mutable_headers())["user-agent"] = "test-player/1.0";
  v1::IssuePlaybackResponse response;
  grpc::Status status = server_->stub().IssuePlayback(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::EndsWith(response.playback_url(), "/index.mpd"));

  core::Keyring keys = LoadKeyring();
  const std::string uri = UriOf(response.playback_url());
  std::vector<core::NameValue> same = {{"User-Agent", "test-player/1.0"}};
  std::vector<core::NameValue> other = {{"user-agent", "curl/8"}};
  core::Decision ok = core::Validate({.uri = uri, .headers = same}, keys, revoked_, absl::Now());
  EXPECT_TRUE(ok.allow) << core::ReasonName(ok.reason);
  core::Decision bad = core::Validate({.uri = uri, .headers = other}, keys, revoked_, absl::Now());
  EXPECT_FALSE(bad.allow);
  EXPECT_EQ(bad.reason, core::Reason::kBindingMismatch) << core::ReasonName(bad.reason);
}

TEST_F(ServerTest, UnknownAndMissingAsset) {
  v1::IssuePlaybackRequest request;
  request.set_asset_id("nope");
  v1::IssuePlaybackResponse response;
  grpc::Status status = server_->stub().IssuePlayback(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "asset_id: unknown asset \"nope\"");

  request.set_asset_id("");
  status = server_->stub().IssuePlayback(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "asset_id: required");
}

// IssuePlayback parses its own request (the raw hot path): bytes that are
// not a request get INVALID_ARGUMENT naming it, and the server keeps serving.
TEST_F(ServerTest, MalformedIssuePlaybackRequestIsInvalidArgument) {
  grpc::GenericStub generic(server_->channel());
  const std::string garbage = "\x0a\xff\xff\xff\x0f";  // asset_id, length past the end
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer reply;
  std::promise<grpc::Status> done;
  std::unique_ptr<grpc::ClientContext> context = Context();
  generic.UnaryCall(context.get(), "/edgepass.v1.PlaybackService/IssuePlayback", grpc::StubOptions(), &request,
                    &reply, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "request: not a valid edgepass.v1.IssuePlaybackRequest message");

  v1::IssuePlaybackRequest good;
  good.set_asset_id("1");
  v1::IssuePlaybackResponse response;
  ASSERT_TRUE(server_->stub().IssuePlayback(Context().get(), good, &response).ok());
  EXPECT_FALSE(response.token().empty());
}

TEST_F(ServerTest, OversizedViewerHeaderIsRefused) {
  v1::IssuePlaybackRequest request;
  request.set_asset_id("2");
  (*request.mutable_viewer()->mutable_headers())["user-agent"] = std::string(5000, 'x');
  v1::IssuePlaybackResponse response;
  grpc::Status status = server_->stub().IssuePlayback(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "viewer.headers[\"user-agent\"]: longer than 4096 bytes");
}

TEST_F(ServerTest, IssueTokenInlinePolicy) {
  v1::IssueTokenRequest request;
  request.mutable_policy()->add_paths("/live/ch1/");
  request.mutable_policy()->set_exp("+10m");
  request.set_url("https://edge.example.net/live/ch1/master.m3u8");
  v1::IssueTokenResponse response;
  grpc::Status status = server_->stub().IssueToken(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.url(), "https://edge.example.net/" + response.token() + "/live/ch1/master.m3u8");
  core::Decision d = Check(UriOf(response.url()), LoadKeyring(), absl::Now());
  EXPECT_TRUE(d.allow) << core::ReasonName(d.reason);
  EXPECT_EQ(d.path, "/live/ch1/master.m3u8");
}

TEST_F(ServerTest, IssueTokenInvalidPolicyNamesField) {
  v1::IssueTokenRequest request;
  request.mutable_policy()->add_paths("live/ch1/");
  v1::IssueTokenResponse response;
  grpc::Status status = server_->stub().IssueToken(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "policy.paths[0]: must start with '/'");

  request.mutable_policy()->clear_paths();
  status = server_->stub().IssueToken(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "policy.paths: ")) << status.error_message();

  request.mutable_policy()->add_paths("/v/");
  request.mutable_policy()->set_exp("2h");
  status = server_->stub().IssueToken(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "policy.exp: ")) << status.error_message();
}

TEST_F(ServerTest, KeyringFileIsPrivate) {
  struct stat st;
  ASSERT_EQ(stat((data_dir_ + "/keyring.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(data_dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_EQ(LoadKeyring().keys().size(), 1u);
  ASSERT_NE(LoadKeyring().Primary(), nullptr);
}

TEST_F(ServerTest, SigtermDrainsAndExitsZero) {
  const absl::Time start = absl::Now();
  ASSERT_TRUE(server_->process().Signal(SIGTERM));
  std::optional<int> code = server_->process().WaitForExit(absl::Seconds(8));
  ASSERT_TRUE(code.has_value()) << "server did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << server_->log();
  EXPECT_LT(absl::Now() - start, absl::Seconds(6));
}

TEST_F(ServerTest, RestartKeepsKeyring) {
  const std::string before = ReadFileOrEmpty(data_dir_ + "/keyring.json");
  ASSERT_TRUE(server_->process().Signal(SIGTERM));
  ASSERT_EQ(server_->process().WaitForExit(absl::Seconds(8)), 0);
  ServerProcess again(work_.path(), data_dir_);
  ASSERT_TRUE(again.WaitUntilServing());
  EXPECT_EQ(ReadFileOrEmpty(data_dir_ + "/keyring.json"), before);
}

// Start-up failures: no server runs, the process must exit by itself.
class ServerStartupTest : public ::testing::Test {
 protected:
  std::optional<int> StartAndWait(std::vector<std::string> extra = {}) {
    ServerProcess server(work_.path(), data_dir_, std::move(extra));
    std::optional<int> code = server.process().WaitForExit(absl::Seconds(10));
    log_ = server.log();
    return code;
  }
  void SetUp() override {
    data_dir_ = work_.path() + "/data";
    std::filesystem::create_directories(data_dir_);
  }
  TempDir work_;
  std::string data_dir_;
  std::string log_;
};

TEST_F(ServerStartupTest, MalformedCatalogNamesEntry) {
  WriteFileOrDie(data_dir_ + "/catalog.json", R"({"assets":[
    {"id":"1","hostname":"h","url_path":"/v/1/i.m3u8","token_policy":{"paths":["/v/1/"],"exp":"+1h"}},
    {"id":"2","hostname":"h","url_path":"/v/2/i.m3u8","token_policy":{"paths":["v/2/"],"exp":"+1h"}}]})");
  std::optional<int> code = StartAndWait();
  ASSERT_TRUE(code.has_value()) << "server kept running with a malformed catalog";
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(
      log_, R"(catalog.json: assets[1] (id \"2\"): token_policy.paths[0]: must start with '/')"))
      << log_;
}

TEST_F(ServerStartupTest, CorruptKeyringIsNeverOverwritten) {
  const std::string corrupt = "{\"keys\": [ {\"id\": \"k1\", \"value\": \"short\"";
  WriteFileOrDie(data_dir_ + "/keyring.json", corrupt);
  std::optional<int> code = StartAndWait();
  ASSERT_TRUE(code.has_value()) << "server kept running with a corrupt keyring";
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(log_, data_dir_ + "/keyring.json")) << log_;
  EXPECT_EQ(ReadFileOrEmpty(data_dir_ + "/keyring.json"), corrupt);
}

TEST_F(ServerStartupTest, KeyringReadableByOthersRefusesToStart) {
  core::SecureRandom random;
  const std::string keyring = core::KeyringToJson(*core::Keyring::Create(
      {core::GenerateSigningKey(absl::Now(), core::KeyState::kPrimary, random)}));
  WriteFileOrDie(data_dir_ + "/keyring.json", keyring);
  ASSERT_EQ(chmod((data_dir_ + "/keyring.json").c_str(), 0644), 0);
  std::optional<int> code = StartAndWait();
  ASSERT_TRUE(code.has_value()) << "server started with a world-readable keyring";
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(log_, "chmod 600")) << log_;
  EXPECT_EQ(ReadFileOrEmpty(data_dir_ + "/keyring.json"), keyring);
}

TEST_F(ServerStartupTest, MalformedRevocationListRefusesToStart) {
  WriteFileOrDie(data_dir_ + "/revocations.json", "[1, 2");
  std::optional<int> code = StartAndWait();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(log_, "revocations.json")) << log_;
}

TEST_F(ServerStartupTest, BadConfigurationExitsTwo) {
  std::optional<int> code = StartAndWait({"--default-token-ttl", "forever"});
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << log_;
  EXPECT_TRUE(absl::StrContains(log_, "--default-token-ttl")) << log_;
}

TEST_F(ServerStartupTest, HelpExitsZero) {
  testing::RunResult r = RunProcess({kServerPath, "--help"}, work_.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "--data-dir")) << r.out;
}

constexpr char kSmdItem[] = R"({"id":{"S":"7"},"url_path":{"S":"/out/v1/abc/index.m3u8"},"endpoint_hostname":{"S":"d1.cloudfront.net"},"token_policy":{"M":{"headers":{"L":[{"S":"user-agent"}]},"exc":{"L":[{"S":"/ads/"}]},"nbf":{"S":"1645000000"},"session_auto_generate":{"N":"12"},"ssn":{"BOOL":true},"cty_fallback":{"BOOL":true},"paths":{"L":[{"S":"/out/v1/abc/"}]},"ip":{"BOOL":false},"cty":{"BOOL":false},"co_fallback":{"BOOL":true},"co":{"BOOL":false},"exp":{"S":"+2h"}}}})";

TEST_F(ServerStartupTest, ImportsSmdAssets) {
  WriteFileOrDie(work_.path() + "/smd.json", std::string(R"({"Items":[)") + kSmdItem + "]}");
  ServerProcess server(work_.path(), data_dir_, {"--import-smd-assets", work_.path() + "/smd.json"});
  ASSERT_TRUE(server.WaitUntilServing());
  v1::IssuePlaybackRequest request;
  request.set_asset_id("7");
  (*request.mutable_viewer()->mutable_headers())["user-agent"] = "ua";
  v1::IssuePlaybackResponse response;
  grpc::Status status = server.stub().IssuePlayback(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(response.playback_url(), "https://d1.cloudfront.net/"));
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(data_dir_ + "/catalog.json"), "d1.cloudfront.net"));
  // The sample assets are still there.
  request.set_asset_id("1");
  EXPECT_TRUE(server.stub().IssuePlayback(Context().get(), request, &response).ok());
}

TEST_F(ServerStartupTest, BadSmdImportWritesNothing) {
  std::string bad = kSmdItem;
  bad.replace(bad.find(R"({"S":"/out/v1/abc/"})"), 20, R"({"S":"out/v1/abc/"})");
  WriteFileOrDie(work_.path() + "/smd.json", bad);
  {
    ServerProcess first(work_.path(), data_dir_);  // writes the sample catalog
    ASSERT_TRUE(first.WaitUntilServing());
  }
  const std::string before = ReadFileOrEmpty(data_dir_ + "/catalog.json");
  std::optional<int> code = StartAndWait({"--import-smd-assets", work_.path() + "/smd.json"});
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(absl::StrContains(log_, R"(Items[0] (id \"7\"): token_policy.paths[0])")) << log_;
  EXPECT_EQ(ReadFileOrEmpty(data_dir_ + "/catalog.json"), before);
}

#ifdef EDGEPASS_CLI_PATH
constexpr char kCliPath[] = EDGEPASS_CLI_PATH;
#endif

TEST_F(ServerTest, CliIssueAndVerify) {
#ifndef EDGEPASS_CLI_PATH
  GTEST_SKIP() << "edgepass_cli target not built";
#else
  testing::RunResult issued =
      RunProcess({kCliPath, "issue", "1", "--server", server_->address()}, work_.path());
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  std::smatch m;
  static const std::regex kUrl("https://[^\\s]+");
  ASSERT_TRUE(std::regex_search(issued.out, m, kUrl)) << issued.out;
  const std::string uri = UriOf(m[0]);
  const std::string keyring = data_dir_ + "/keyring.json";

  testing::RunResult allow =
      RunProcess({kCliPath, "token", "verify", "--keyring", keyring, "--uri", uri}, work_.path());
  EXPECT_EQ(allow.exit_code, 0) << allow.out << allow.err;
  nlohmann::json a = nlohmann::json::parse(allow.out, nullptr, false);
  ASSERT_TRUE(a.is_object()) << allow.out;
  EXPECT_EQ(a.value("allow", false), true);
  EXPECT_EQ(a.value("path", std::string()), kAsset1Path);

  const std::string later = std::to_string(absl::ToUnixSeconds(absl::Now() + absl::Hours(3)));
  testing::RunResult deny = RunProcess(
      {kCliPath, "token", "verify", "--keyring", keyring, "--uri", uri, "--now", later}, work_.path());
  EXPECT_EQ(deny.exit_code, 1) << deny.out << deny.err;
  nlohmann::json d = nlohmann::json::parse(deny.out, nullptr, false);
  ASSERT_TRUE(d.is_object()) << deny.out;
  EXPECT_EQ(d.value("reason", std::string()), core::ReasonName(core::Reason::kExpired));
#endif
}

}  // namespace
}  // namespace edgepass
