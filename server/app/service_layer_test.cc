// The service layer in process, over in-memory stores and a hand-moved clock
// (tests/fakes/in_memory_state.h): issuing for each scheme and entitlement,
// catalog rules, revocation ordering, edge-sync snapshot and delta. No gRPC,
// no files, no sockets: each test runs in milliseconds.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "core/random.h"
#include "core/revocation.h"
#include "core/validator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/app/catalog_editor.h"
#include "server/app/edge_sync_hub.h"
#include "server/app/key_desk.h"
#include "server/app/playback_issuer.h"
#include "server/app/revocation_desk.h"
#include "server/adapters/local_change_feed.h"
#include "server/app/live_state.h"
#include "tests/fakes/in_memory_state.h"
#include "tests/fakes/test_clock.h"

namespace edgepass::server {
namespace {

using testing::FixedKeyringSource;
using ::testing::HasSubstr;
using testing::InMemoryCatalogStore;
using testing::InMemorySecretStore;
using testing::InMemorySessionStore;
using ::testing::StartsWith;
using testing::TestClock;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01

std::shared_ptr<const core::Keyring> TestKeyring() {
  absl::StatusOr<core::Keyring> k = core::Keyring::Create(
      {{.id = "20260101_0123456789abcdef0123", .value = std::string(128, 'a'), .state = core::KeyState::kPrimary}});
  return std::make_shared<const core::Keyring>(*std::move(k));
}

// An RSA key for the CloudFront schemes, made once per run.
const std::string& CloudFrontKeyPem() {
  static const std::string* pem = [] {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    auto* out = new std::string(data, static_cast<size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
  }();
  return *pem;
}

constexpr absl::string_view kCatalog = R"({
  "policies": {"two-hours": {"paths": ["/v/"], "exp": "+2h", "ssn": true}},
  "assets": [
    {"id": "movie", "hostname": "cdn.example.com", "url_path": "/v/sd/index.m3u8", "token_policy": "two-hours",
     "variants": {"premium": {"url_path": "/v/hd/index.m3u8", "token_policy": "two-hours"}},
     "fallback_asset": "trailer"},
    {"id": "trailer", "hostname": "cdn.example.com", "url_path": "/v/trailer.m3u8",
     "token_policy": {"paths": ["/v/"], "exp": "+10m", "ip": true}},
    {"id": "cf-url", "hostname": "d1.cloudfront.net", "url_path": "/cf/index.m3u8", "scheme": "cloudfront-url",
     "cloudfront_key_pair_id": "K2JCJMDEHXQW5F", "token_policy": {"paths": ["/cf/"], "exp": "+1h", "ip": true}},
    {"id": "cf-cookie", "hostname": "d1.cloudfront.net", "url_path": "/cc/index.m3u8",
     "scheme": "cloudfront-cookie", "cloudfront_key_pair_id": "K2JCJMDEHXQW5F",
     "token_policy": {"paths": ["/cc/"], "exp": "+1h"}}
  ]})";

class ServiceLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Catalog> catalog = Catalog::Parse(kCatalog, "test catalog");
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalogs_ = std::make_unique<InMemoryCatalogStore>(*std::move(catalog));
    live_ = std::make_unique<LiveState>(catalogs_.get(), &sessions_, &keys_, &feed_, clock_.AsFunction(),
                                        LiveStateOptions{});
    ASSERT_TRUE(live_->Start().ok());
    ASSERT_TRUE(secrets_.WriteCloudFrontKey({"K2JCJMDEHXQW5F", CloudFrontKeyPem()}).ok());
    cloudfront_ = std::make_unique<CloudFrontKeyCache>(secrets_, clock_.AsFunction());
    issuer_ = std::make_unique<PlaybackIssuer>(
        [this] { return live_->catalog(); }, &keys_, &random_, clock_.AsFunction(),
        PlaybackIssuerOptions{.max_token_ttl = absl::Hours(3), .cloudfront_keys = cloudfront_.get()});
    editor_ = std::make_unique<CatalogEditor>(catalogs_.get(), live_.get(), absl::Hours(3));
    desk_ = std::make_unique<RevocationDesk>(&sessions_, live_.get(), clock_.AsFunction(),
                                             RevocationDeskOptions{.default_revocation_ttl = absl::Hours(1)});
  }

  // The validator's decision on `url`'s path from `ip`, with `revoked`.
  core::Decision Validate(const std::string& url, const std::string& ip, const core::RevocationSet& revoked = {}) {
    path_ = url.substr(url.find('/', std::string("https://").size()));
    return core::Validate({.uri = path_, .client_ip = ip}, *TestKeyring(), revoked, clock_.Now());
  }

  TestClock clock_{kNow};
  core::SecureRandom random_;
  InMemorySessionStore sessions_;
  FixedKeyringSource keys_{TestKeyring()};
  LocalChangeFeed feed_;
  InMemorySecretStore secrets_{*TestKeyring()};
  std::unique_ptr<InMemoryCatalogStore> catalogs_;
  std::unique_ptr<LiveState> live_;
  std::unique_ptr<CloudFrontKeyCache> cloudfront_;
  std::unique_ptr<PlaybackIssuer> issuer_;
  std::unique_ptr<CatalogEditor> editor_;
  std::unique_ptr<RevocationDesk> desk_;
  std::string path_;
};

// --- issuing ---

TEST_F(ServiceLayerTest, SmdTokenForTheEntitlementsVariant) {
  absl::StatusOr<IssuedPlayback> p = issuer_->IssuePlayback({.asset_id = "movie", .entitlement = "premium"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->scheme, "smd-token");
  EXPECT_EQ(p->asset_id, "movie");
  EXPECT_EQ(p->variant, "premium");
  EXPECT_THAT(p->playback_url, StartsWith("https://cdn.example.com/" + p->token + "/v/hd/index.m3u8"));
  EXPECT_THAT(p->token, StartsWith(p->session_id + "."));  // ssn binds the session
  EXPECT_EQ(p->expires_at, kNow + absl::Hours(2));
  core::Decision d = Validate(p->playback_url, "192.0.2.1");
  EXPECT_TRUE(d.allow) << core::ReasonName(d.reason);
  EXPECT_EQ(d.path, "/v/hd/index.m3u8");
}

TEST_F(ServiceLayerTest, NoEntitlementPlaysTheFallbackBoundToTheViewer) {
  absl::StatusOr<IssuedPlayback> p =
      issuer_->IssuePlayback({.asset_id = "movie", .viewer = {.ip = "198.51.100.7"}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->asset_id, "trailer");
  EXPECT_EQ(p->variant, "");
  EXPECT_EQ(p->expires_at, kNow + absl::Minutes(10));
  EXPECT_TRUE(Validate(p->playback_url, "198.51.100.7").allow);
  EXPECT_EQ(Validate(p->playback_url, "198.51.100.8").reason, core::Reason::kBindingMismatch);
}

TEST_F(ServiceLayerTest, IssueErrorsNameTheField) {
  EXPECT_EQ(issuer_->IssuePlayback({.asset_id = "nope"}).status(),
            absl::NotFoundError("asset_id: unknown asset \"nope\""));
  EXPECT_EQ(issuer_->IssuePlayback({}).status(), absl::InvalidArgumentError("asset_id: required"));
  EXPECT_THAT(std::string(issuer_->IssuePlayback({.asset_id = std::string(200, 'a')}).status().message()),
              StartsWith("asset_id: longer than"));
  // The cap applies to catalog policies too.
  PlaybackIssuer capped([this] { return live_->catalog(); }, &keys_, &random_, clock_.AsFunction(),
                        {.max_token_ttl = absl::Hours(1)});
  EXPECT_THAT(std::string(capped.IssuePlayback({.asset_id = "movie", .entitlement = "premium"}).status().message()),
              StartsWith("token_policy.exp: +2h is more than"));
  FixedKeyringSource none(nullptr);
  PlaybackIssuer keyless([this] { return live_->catalog(); }, &none, &random_, clock_.AsFunction(), {});
  EXPECT_EQ(keyless.IssuePlayback({.asset_id = "trailer"}).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ServiceLayerTest, CloudFrontSignedUrlAndCookies) {
  absl::StatusOr<IssuedPlayback> url = issuer_->IssuePlayback({.asset_id = "cf-url", .viewer = {.ip = "203.0.113.9"}});
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_THAT(url->playback_url, StartsWith("https://d1.cloudfront.net/cf/index.m3u8?Policy="));
  EXPECT_THAT(url->playback_url, HasSubstr("&Key-Pair-Id=K2JCJMDEHXQW5F"));
  EXPECT_TRUE(url->token.empty());
  // A CloudFront policy takes an IPv4 address only.
  EXPECT_THAT(std::string(issuer_->IssuePlayback({.asset_id = "cf-url", .viewer = {.ip = "2001:db8::1"}}).status().message()),
              StartsWith("viewer.ip: "));

  absl::StatusOr<IssuedPlayback> cookies = issuer_->IssuePlayback({.asset_id = "cf-cookie"});
  ASSERT_TRUE(cookies.ok()) << cookies.status();
  EXPECT_EQ(cookies->playback_url, "https://d1.cloudfront.net/cc/index.m3u8");
  ASSERT_EQ(cookies->cookies.size(), 3u);
  for (const IssuedCookie& c : cookies->cookies) {
    EXPECT_THAT(c.name, StartsWith("CloudFront-"));
    EXPECT_THAT(c.set_cookie, HasSubstr("; Path=/cc/"));
    EXPECT_THAT(c.set_cookie, HasSubstr("; Secure; HttpOnly"));
  }
}

TEST_F(ServiceLayerTest, InlinePolicyTokenIntoAUrl) {
  absl::StatusOr<core::TokenPolicy> policy = core::ParseTokenPolicyJson(R"({"paths":["/live/"],"exp":"+30m"})");
  ASSERT_TRUE(policy.ok());
  absl::StatusOr<IssuedToken> t =
      issuer_->IssueToken({.policy = *policy, .url = "https://edge.example.com/live/index.m3u8"});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->url, "https://edge.example.com/" + t->token + "/live/index.m3u8");
  EXPECT_TRUE(Validate(t->url, "192.0.2.1").allow);
  EXPECT_THAT(std::string(issuer_->IssueToken({.policy = *policy, .url = std::string(9000, 'u')}).status().message()),
              StartsWith("url: longer than"));
}

// --- catalog rules ---

TEST_F(ServiceLayerTest, CatalogEditsAreTypedAndChecked) {
  Asset asset{.id = "new", .hostname = "cdn.example.com", .url_path = "/n/index.m3u8", .policy_name = "two-hours"};
  // The named policy does not cover the path: refused, nothing stored.
  absl::StatusOr<Asset> refused = editor_->PutAsset(asset);
  EXPECT_THAT(std::string(refused.status().message()), StartsWith("asset.url_path: "));
  EXPECT_EQ(editor_->GetAsset("new").status().code(), absl::StatusCode::kNotFound);

  asset.url_path = "/v/new/index.m3u8";
  absl::StatusOr<Asset> stored = editor_->PutAsset(asset);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->policy.exp.after, absl::Hours(2));  // resolved from the catalog
  // This replica serves it once its cache reloads (asked at once).
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i, absl::SleepFor(absl::Milliseconds(5))) {
    served = issuer_->IssuePlayback({.asset_id = "new"}).ok();
  }
  EXPECT_TRUE(served);

  asset.policy_name = "missing";
  EXPECT_EQ(editor_->PutAsset(asset).status(),
            absl::InvalidArgumentError("asset.token_policy: unknown policy \"missing\""));
  // Inline policies beyond the server's cap are refused.
  Asset inline_asset = asset;
  inline_asset.policy_name.clear();
  inline_asset.policy = *core::ParseTokenPolicyJson(R"({"paths":["/v/"],"exp":"+5h"})");
  EXPECT_THAT(std::string(editor_->PutAsset(inline_asset).status().message()), StartsWith("asset.inline_policy.exp: +5h"));
  // A policy in use cannot go; an asset that is a fallback cannot go.
  EXPECT_EQ(editor_->DeletePolicy("two-hours").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(editor_->DeleteAsset("trailer").code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<AssetPage> page = editor_->ListAssets(2, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->assets.size(), 2u);
  EXPECT_EQ(page->assets[0].id, "cf-cookie");
  EXPECT_EQ(page->next_page_token, "cf-url");
  page = editor_->ListAssets(0, page->next_page_token);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->assets.size(), 3u);  // movie, new, trailer
  EXPECT_EQ(page->next_page_token, "");
}

TEST_F(ServiceLayerTest, PolicyEditRevalidatesItsAssets) {
  // "two-hours" narrowed to a path the movie does not play: refused.
  absl::Status s = editor_->PutPolicy("two-hours", *core::ParseTokenPolicyJson(R"({"paths":["/x/"],"exp":"+1h"})")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  absl::StatusOr<NamedPolicy> kept = editor_->GetPolicy("two-hours");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->policy.exp.after, absl::Hours(2));
}

TEST_F(ServiceLayerTest, KeyDeskRefusesAKeyThatCannotSign) {
  KeyDesk desk(&secrets_, cloudfront_.get());
  EXPECT_THAT(std::string(desk.PutCloudFrontKey("K1", "not a pem").status().message()), StartsWith("private_key_pem: "));
  EXPECT_EQ(desk.PutCloudFrontKey("", "x").status(), absl::InvalidArgumentError("key_pair_id: required"));
  absl::StatusOr<CloudFrontPublicKey> k = desk.PutCloudFrontKey("K3", CloudFrontKeyPem());
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_THAT(k->public_key_pem, StartsWith("-----BEGIN PUBLIC KEY-----"));
}

// --- revocation ---

// Pages of both orders while entries come and go: each entry present for the
// whole listing appears exactly once.
TEST_F(ServiceLayerTest, RevocationPagesNeitherSkipNorRepeatWhileTheListChanges) {
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(sessions_.Put({.session_id = absl::StrCat("m", 100 + i), .reason = "r", .added_at = clock_.Now(),
                               .expires_at = clock_.Now() + absl::Hours(1)}).ok());
    ASSERT_TRUE(sessions_.Put({.session_id = absl::StrCat("a", 100 + i), .type = core::RevocationType::kAuto,
                               .score = 2.5 + (i % 7), .added_at = clock_.Now(),
                               .expires_at = clock_.Now() + absl::Hours(1)}).ok());
  }
  for (bool compiled : {false, true}) {
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    do {
      absl::StatusOr<RevokedSessions> page = desk_->List(compiled, 7, token);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->sessions.size(), 7u);
      for (const core::RevocationEntry& e : page->sessions) seen.push_back(e.session_id);
      token = page->next_page_token;
      // Meanwhile: new entries (ranked anywhere) and a restore of one not yet listed.
      clock_.Advance(absl::Seconds(1));
      ASSERT_TRUE(sessions_.Put({.session_id = absl::StrCat("new", compiled ? "c" : "s", pages), .reason = "r",
                                 .added_at = clock_.Now(), .expires_at = clock_.Now() + absl::Hours(1)}).ok());
      ++pages;
    } while (!token.empty());
    EXPECT_GE(pages, 9);
    std::set<std::string> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), seen.size()) << "repeated entries, compiled=" << compiled;
    for (int i = 0; i < 30; ++i) {
      EXPECT_EQ(unique.count(absl::StrCat("m", 100 + i)), 1u) << i << " compiled=" << compiled;
      EXPECT_EQ(unique.count(absl::StrCat("a", 100 + i)), 1u) << i << " compiled=" << compiled;
    }
  }

  // Sizes: 0 is the default, above the maximum is the maximum.
  for (int i = 0; i < kMaxRevokedPageSize; ++i) {
    ASSERT_TRUE(sessions_.Put({.session_id = absl::StrCat("bulk", i), .reason = "r", .added_at = clock_.Now(),
                               .expires_at = clock_.Now() + absl::Hours(1)}).ok());
  }
  EXPECT_EQ(desk_->List(false, 0, "")->sessions.size(), static_cast<size_t>(kDefaultRevokedPageSize));
  EXPECT_EQ(desk_->List(false, kMaxRevokedPageSize + 1, "")->sessions.size(), static_cast<size_t>(kMaxRevokedPageSize));

  // Bad input names the field.
  EXPECT_EQ(desk_->List(false, -1, "").status(), absl::InvalidArgumentError("page_size: must be >= 0"));
  const std::vector<std::string> bad_tokens = {"x", "!!", "MS5zLg", std::string(300, 'A'), "MS5jLm0uMS4wLmlk"};
  for (const std::string& bad : bad_tokens) {
    absl::Status s = desk_->List(false, 5, bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), StartsWith("page_token: ")) << bad;
  }
  const std::string stored_token = desk_->List(false, 5, "")->next_page_token;
  const std::string compiled_token = desk_->List(true, 5, "")->next_page_token;
  EXPECT_THAT(std::string(desk_->List(true, 5, stored_token).status().message()), StartsWith("page_token: "));
  EXPECT_THAT(std::string(desk_->List(false, 5, compiled_token).status().message()), StartsWith("page_token: "));
}

TEST_F(ServiceLayerTest, RevocationsListInOrderAndReachTheEdgeSnapshot) {
  for (const char* id : {"sessC", "sessA", "sessB"}) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(desk_->Revoke({.session_id = id, .reason = "shared"}).ok());
  }
  // Answered only once this replica's edge snapshot holds it.
  EXPECT_EQ(live_->edge()->revoked.size(), 3u);
  absl::StatusOr<RevokedSessions> by_id = desk_->List(false, 0, "");
  ASSERT_TRUE(by_id.ok());
  ASSERT_EQ(by_id->sessions.size(), 3u);
  EXPECT_EQ(by_id->sessions[0].session_id, "sessA");
  EXPECT_EQ(by_id->sessions[2].session_id, "sessC");
  EXPECT_EQ(by_id->sessions[0].expires_at, by_id->sessions[0].added_at + absl::Hours(1));
  EXPECT_EQ(by_id->next_page_token, "");
  absl::StatusOr<RevokedSessions> compiled = desk_->List(true, 2, "");  // newest first, a page of 2
  ASSERT_TRUE(compiled.ok());
  ASSERT_EQ(compiled->sessions.size(), 2u);
  EXPECT_EQ(compiled->sessions[0].session_id, "sessB");
  EXPECT_EQ(compiled->sessions[1].session_id, "sessA");
  compiled = desk_->List(true, 2, compiled->next_page_token);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  ASSERT_EQ(compiled->sessions.size(), 1u);
  EXPECT_EQ(compiled->sessions[0].session_id, "sessC");
  EXPECT_EQ(compiled->next_page_token, "");

  EXPECT_EQ(desk_->Revoke({.session_id = "sessD", .expires_at = kNow}).status(),
            absl::InvalidArgumentError("expires_at: must be in the future"));
  EXPECT_THAT(std::string(desk_->Revoke({.session_id = "bad id"}).status().message()), StartsWith("session_id: "));
  EXPECT_EQ(desk_->Restore("never").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(desk_->Restore("sessA").ok());
  EXPECT_EQ(live_->edge()->revoked.size(), 2u);
}

TEST_F(ServiceLayerTest, BulkReportIsAtomicKeepsManualAndNamesTheBadEntry) {
  ASSERT_TRUE(desk_->Revoke({.session_id = "manual1", .reason = "by hand"}).ok());
  const uint64_t before = sessions_.List()->version;
  std::vector<RevocationRequest> batch = {
      {.session_id = "auto1", .reason = "auto", .score = 5, .score_components = {{"rate", 4}}},
      {.session_id = "manual1", .score = 9},
      {.session_id = "auto2", .score = 3}};
  absl::StatusOr<ReportedSessions> r = desk_->Report(batch);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, before + 1);  // one version for the batch
  EXPECT_EQ(r->outcomes, (std::vector<ReportOutcome>{ReportOutcome::kStored, ReportOutcome::kAlreadyManual,
                                                     ReportOutcome::kStored}));
  EXPECT_EQ(r->sessions[0].type, core::RevocationType::kAuto);
  EXPECT_EQ(r->sessions[1].type, core::RevocationType::kManual);
  EXPECT_EQ(r->sessions[1].reason, "by hand");
  EXPECT_EQ(live_->edge()->revoked.size(), 3u);  // answered once this replica's snapshot holds it

  // A single report of a MANUAL session keeps it too.
  absl::StatusOr<core::RevocationEntry> one =
      desk_->Revoke({.session_id = "manual1", .type = core::RevocationType::kAuto, .score = 7});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->type, core::RevocationType::kManual);

  // A bad entry: nothing stored, the entry named.
  batch = {{.session_id = "auto3", .score = 3}, {.session_id = "auto4", .score = 3}, {.session_id = "auto5", .score = -1}};
  EXPECT_EQ(desk_->Report(batch).status(), absl::InvalidArgumentError("sessions[2].score: must be a finite number >= 0"));
  batch = {{.session_id = "bad id", .score = 3}};
  EXPECT_THAT(std::string(desk_->Report(batch).status().message()), StartsWith("sessions[0].session_id: "));
  EXPECT_EQ(sessions_.List()->version, before + 1);
  EXPECT_EQ(sessions_.List()->entries.size(), 3u);
  EXPECT_EQ(desk_->Report(std::vector<RevocationRequest>(kMaxReportBatch + 1, {.session_id = "x", .score = 3})).status(),
            absl::InvalidArgumentError("sessions: at most 1000 per call (got 1001)"));
  EXPECT_EQ(desk_->Report({}).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- edge sync ---

TEST_F(ServiceLayerTest, EdgeSyncSnapshotThenOneDeltaPerChange) {
  ASSERT_TRUE(desk_->Revoke({.session_id = "before"}).ok());
  EdgeSyncHub hub(live_.get(), clock_.AsFunction());
  hub.Start();
  std::atomic<int> wakes{0};
  absl::StatusOr<std::shared_ptr<EdgeSubscription>> sub =
      hub.Subscribe({.validator_id = "edge-1", .peer = "ipv4:127.0.0.1:1"}, [&] { ++wakes; });
  ASSERT_TRUE(sub.ok()) << sub.status();

  std::optional<EdgeMessage> snap = (*sub)->Pull();
  ASSERT_TRUE(snap.has_value());
  EXPECT_TRUE(snap->snapshot);
  EXPECT_TRUE(snap->complete);
  ASSERT_NE(snap->keyring, nullptr);
  EXPECT_EQ(snap->snapshot_revoked_count, 1u);
  ASSERT_EQ(snap->revoked_add.size(), 1u);
  EXPECT_EQ(snap->revoked_add[0].session_id, "before");
  EXPECT_FALSE((*sub)->Pull().has_value());  // up to date

  ASSERT_TRUE(desk_->Revoke({.session_id = "after"}).ok());
  for (int i = 0; i < 200 && wakes.load() == 0; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GT(wakes.load(), 0);
  std::optional<EdgeMessage> delta = (*sub)->Pull();
  ASSERT_TRUE(delta.has_value());
  EXPECT_FALSE(delta->snapshot);
  EXPECT_EQ(delta->keyring, nullptr);  // unchanged keyring is not resent
  ASSERT_EQ(delta->revoked_add.size(), 1u);
  EXPECT_EQ(delta->revoked_add[0].session_id, "after");
  EXPECT_EQ(delta->version, live_->edge()->version);

  ASSERT_TRUE(desk_->Restore("before").ok());
  std::optional<EdgeMessage> removal = (*sub)->Pull();
  ASSERT_TRUE(removal.has_value());
  EXPECT_THAT(removal->revoked_remove, ::testing::ElementsAre("before"));

  // Registry: sent, acknowledged, lag.
  ASSERT_TRUE(hub.Acknowledge("edge-1", removal->version - 1, "").ok());
  ValidatorSummary summary = hub.Summarize(removal->version);
  EXPECT_EQ(summary.connected, 1u);
  EXPECT_EQ(summary.max_lag, 1u);
  std::vector<ValidatorInfo> list = hub.ListValidators();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].sent_version, removal->version);
  EXPECT_EQ(hub.Acknowledge("edge-2", 1, "").code(), absl::StatusCode::kNotFound);

  hub.Stop();
  EXPECT_TRUE((*sub)->ended());
  EXPECT_FALSE((*sub)->Pull().has_value());
  hub.Unsubscribe(*sub);
  EXPECT_EQ(hub.Summarize(removal->version).connected, 0u);
}

TEST_F(ServiceLayerTest, EdgeSyncResumesWithAMarkerAndSplitsLargeSnapshots) {
  EdgeSyncHub hub(live_.get(), clock_.AsFunction());
  std::shared_ptr<const EdgeSnapshot> now = live_->edge();
  auto resumed = hub.Subscribe(
      {.validator_id = "edge-1", .have_version = now->version, .have_keyring_fingerprint = now->keyring_fingerprint},
      [] {});
  ASSERT_TRUE(resumed.ok());
  std::optional<EdgeMessage> marker = (*resumed)->Pull();
  ASSERT_TRUE(marker.has_value());
  EXPECT_FALSE(marker->snapshot);
  EXPECT_TRUE(marker->complete);
  EXPECT_TRUE(marker->revoked_add.empty());
  EXPECT_EQ(marker->keyring, nullptr);

  for (size_t i = 0; i < kRevokedPerMessage + 5; ++i) {
    ASSERT_TRUE(sessions_.Put({.session_id = absl::StrCat("s", i), .added_at = kNow, .expires_at = kNow + absl::Hours(1)}).ok());
  }
  live_->RequestReload(ChangeKind::kSessions);
  ASSERT_TRUE(live_->AwaitEdgeVersion(kRevokedPerMessage + 5, absl::Seconds(5)));
  auto fresh = hub.Subscribe({.validator_id = "edge-2"}, [] {});
  ASSERT_TRUE(fresh.ok());
  std::optional<EdgeMessage> first = (*fresh)->Pull();
  std::optional<EdgeMessage> second = (*fresh)->Pull();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_TRUE(first->snapshot && !first->complete);
  EXPECT_EQ(first->revoked_add.size(), kRevokedPerMessage);
  EXPECT_EQ(first->snapshot_revoked_count, kRevokedPerMessage + 5);
  EXPECT_TRUE(second->snapshot && second->complete);
  EXPECT_EQ(second->revoked_add.size(), 5u);
  EXPECT_FALSE(second->snapshot_revoked_count.has_value());
  EXPECT_FALSE((*fresh)->Pull().has_value());

  EXPECT_THAT(std::string(hub.Subscribe({.validator_id = "bad id"}, [] {}).status().message()), StartsWith("validator_id: "));
  hub.Unsubscribe(*resumed);
  hub.Unsubscribe(*fresh);
}

}  // namespace
}  // namespace edgepass::server
