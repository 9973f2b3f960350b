// Cost of issuing and validating a token, each benchmark next to the raw
// OpenSSL HMAC-SHA256 work it cannot avoid (same key, same input lengths), so
// one run gives the overhead ratios. report.sh prints them.
//
//   BM_IssueToken          vs BM_IssueToken_RawHmacs   (intsig + JWT HMACs)
//   BM_IssueToken_KeyringMac vs BM_IssueToken_PrecomputedHmacs (the same two
//                          HMACs with the key schedule done once per key)
//   BM_Validate            vs BM_Validate_RawHmacs     (JWT + intsig HMACs)
//   BM_Validate_NoBindings vs BM_Validate_NoBindings_RawHmac (JWT HMAC)
//   BM_RevocationLookup    vs BM_RevocationLookup_RawHashSet (1,000,000 ids)
//
// The first gated baselines are OpenSSL's one-shot HMAC(), which re-derives
// the key schedule (and fetches the digest) on every call. The keyring keeps
// each key's HMAC state precomputed and both the validator and the issuer's
// hot-path form use it, so the *_PrecomputedHmac(s) benchmarks give the
// stricter baseline: the same input through that same state. Issuing is gated
// on it too (the typical policy: ip + ssn + 2 headers); BM_IssueToken calls
// the form that takes only the SigningKey and derives the state per call.
//
// Revocation snapshots: BM_RevocationBuild builds a 1,000,000-entry set as an
// edge validator applies a snapshot (Reserve + Add), with the resident memory
// it adds (VmRSS from /proc/self/statm) as the counter rss_mb;
// BM_RevocationBuild_RawHashMap does the same with the former
// flat_hash_map<std::string, absl::Time>. BM_RevocationParseJson reads a
// persisted 1,000,000-entry list, with its peak resident memory (peak_mb).
//
// Per-call metrics (what ServerMetrics::RecordTokenIssue does: one labelled
// counter increment, one histogram observation), with 1 and 2 threads:
// BM_RecordIssue_PrometheusCpp as the server recorded it before (key string +
// reader lock, then prometheus-cpp's shared atomic and per-Observe mutex),
// BM_RecordIssue_PrometheusCppLockFreeLookup the same children found through
// obs::BoundedFamily's lock-free index, BM_RecordIssue_Striped the striped
// families the server uses now (obs/striped_family.h).
// HMAC_CTX_copy (a baseline below) is deprecated in OpenSSL 3.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <malloc.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "core/hmac_key.h"
#include "core/keyring.h"
#include "core/random.h"
#include "core/revocation.h"
#include "core/token_issuer.h"
#include "core/token_policy.h"
#include "core/validator.h"
#include "core/viewer.h"
#include "obs/bounded_family.h"
#include "obs/striped_family.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace edgepass {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01
constexpr char kUserAgent[] =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:91.0) Gecko/20100101 "
    "Firefox/91.0";
constexpr char kReferer[] = "https://player.example.com/watch/42";
constexpr char kIp[] = "203.0.113.45";
constexpr char kUri[] = "/out/v1/00c6ff982d404e2f940b48495b243b3c/index.m3u8";

template <typename T>
T OrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "bench setup: %s: %s\n", what,
                 v.status().ToString().c_str());
    std::abort();
  }
  return *std::move(v);
}

// Everything the benchmarks share, built once.
struct Fixture {
  core::Keyring keys;
  core::SigningKey key;
  core::TokenPolicy bound_policy;  // ip + ssn + 2 headers
  core::TokenPolicy plain_policy;  // no bindings
  core::ViewerAttributes viewer;
  core::IssuedToken bound_token;
  core::IssuedToken plain_token;
  std::string bound_uri, plain_uri;
  std::string bound_signing_input;  // "<header>.<payload>"
  std::string plain_signing_input;
  std::vector<core::NameValue> headers;

  Fixture() {
    core::SecureRandom random;
    key = core::GenerateSigningKey(kNow, core::KeyState::kPrimary, random);
    keys = OrDie(core::Keyring::Create({key}), "keyring");
    bound_policy = OrDie(
        core::ParseTokenPolicyJson(
            R"({"paths":["/out/v1/00c6ff982d404e2f940b48495b243b3c/"],"exp":"+4h",)"
            R"("ip":true,"ssn":true,"headers":["user-agent","referer"]})"),
        "policy");
    plain_policy = OrDie(
        core::ParseTokenPolicyJson(
            R"({"paths":["/out/v1/00c6ff982d404e2f940b48495b243b3c/"],"exp":"+4h"})"),
        "policy");
    viewer.ip = kIp;
    viewer.session_id = "pTq3ZkW8sN1x";
    viewer.headers = {{"user-agent", kUserAgent}, {"referer", kReferer}};
    bound_token = OrDie(
        core::IssueToken(bound_policy, viewer, key, kNow, random), "issue");
    plain_token = OrDie(core::IssueToken(plain_policy, core::ViewerAttributes(),
                                         key, kNow, random),
                        "issue");
    bound_uri = absl::StrCat("/", bound_token.token, kUri);
    plain_uri = absl::StrCat("/", plain_token.token, kUri);
    bound_signing_input = SigningInput(bound_token.token);
    plain_signing_input = SigningInput(plain_token.token);
    headers = {{"host", "cdn.example.com"},
               {"user-agent", kUserAgent},
               {"referer", kReferer}};
  }

  static std::string SigningInput(const std::string& token) {
    std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
    const size_t n = parts.size();
    return absl::StrCat(parts[n - 3], ".", parts[n - 2]);
  }
};

const Fixture& F() {
  static const Fixture* const fixture = new Fixture();
  return *fixture;
}

void RawHmac(const std::string& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md,
       &len);
  benchmark::DoNotOptimize(md);
}

// --- issue -------------------------------------------------------------------

void BM_IssueToken(benchmark::State& state) {
  const Fixture& f = F();
  core::SecureRandom random;  // not drawn from: the session id is fixed
  for (auto _ : state) {
    auto token =
        core::IssueToken(f.bound_policy, f.viewer, f.key, kNow, random);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_IssueToken);

// The same with the key's HMAC state from the keyring, as the server issues.
void BM_IssueToken_KeyringMac(benchmark::State& state) {
  const Fixture& f = F();
  const core::SigningKey* key = f.keys.Primary();
  const core::HmacSha256Key* mac = f.keys.MacKeyOf(key);
  core::SecureRandom random;  // not drawn from: the session id is fixed
  for (auto _ : state) {
    auto token =
        core::IssueToken(f.bound_policy, f.viewer, *key, *mac, kNow, random);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_IssueToken_KeyringMac);

void BM_IssueToken_RawHmacs(benchmark::State& state) {
  const Fixture& f = F();
  for (auto _ : state) {
    RawHmac(f.key.value, f.bound_token.intsig_input);
    RawHmac(f.key.value, f.bound_signing_input);
  }
}
BENCHMARK(BM_IssueToken_RawHmacs);

// The issue target's baseline: the same two HMACs (intsig, then the JWT) with
// the key schedule done once per key, three ways. PrecomputedHmacs is the
// state the keyring keeps (SHA-256 midstates after the ipad/opad blocks);
// EvpMacDupHmacs duplicates a keyed OpenSSL 3 EVP_MAC context per HMAC;
// HmacCtxCopyHmacs copies a keyed HMAC_CTX per HMAC.
void BM_IssueToken_PrecomputedHmacs(benchmark::State& state) {
  const Fixture& f = F();
  const core::HmacSha256Key mac(f.key.value);
  for (auto _ : state) {
    benchmark::DoNotOptimize(mac.Mac(f.bound_token.intsig_input));
    benchmark::DoNotOptimize(mac.Mac(f.bound_signing_input));
  }
}
BENCHMARK(BM_IssueToken_PrecomputedHmacs);

void BM_IssueToken_EvpMacDupHmacs(benchmark::State& state) {
  const Fixture& f = F();
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* keyed = EVP_MAC_CTX_new(hmac);
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(keyed,
                   reinterpret_cast<const unsigned char*>(f.key.value.data()),
                   f.key.value.size(), params) != 1) {
    state.SkipWithError("EVP_MAC_init failed");
  }
  auto mac = [&](const std::string& data) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed);
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t len = 0;
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                   data.size());
    EVP_MAC_final(ctx, md, &len, sizeof(md));
    EVP_MAC_CTX_free(ctx);
    benchmark::DoNotOptimize(md);
  };
  for (auto _ : state) {
    mac(f.bound_token.intsig_input);
    mac(f.bound_signing_input);
  }
  EVP_MAC_CTX_free(keyed);
  EVP_MAC_free(hmac);
}
BENCHMARK(BM_IssueToken_EvpMacDupHmacs);

void BM_IssueToken_HmacCtxCopyHmacs(benchmark::State& state) {
  const Fixture& f = F();
  HMAC_CTX* keyed = HMAC_CTX_new();
  HMAC_CTX* ctx = HMAC_CTX_new();
  HMAC_Init_ex(keyed, f.key.value.data(), static_cast<int>(f.key.value.size()),
               EVP_sha256(), nullptr);
  auto mac = [&](const std::string& data) {
    HMAC_CTX_copy(ctx, keyed);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC_Update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                data.size());
    HMAC_Final(ctx, md, &len);
    benchmark::DoNotOptimize(md);
  };
  for (auto _ : state) {
    mac(f.bound_token.intsig_input);
    mac(f.bound_signing_input);
  }
  HMAC_CTX_free(ctx);
  HMAC_CTX_free(keyed);
}
BENCHMARK(BM_IssueToken_HmacCtxCopyHmacs);

// --- validate ----------------------------------------------------------------

void BM_Validate(benchmark::State& state) {
  const Fixture& f = F();
  const core::RevocationSet revoked;
  const core::EdgeRequest request{
      .uri = f.bound_uri, .client_ip = kIp, .headers = f.headers};
  for (auto _ : state) {
    core::Decision d = core::Validate(request, f.keys, revoked, kNow);
    if (!d.allow) state.SkipWithError("request denied");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Validate);

void BM_Validate_RawHmacs(benchmark::State& state) {
  const Fixture& f = F();
  for (auto _ : state) {
    RawHmac(f.key.value, f.bound_signing_input);
    RawHmac(f.key.value, f.bound_token.intsig_input);
  }
}
BENCHMARK(BM_Validate_RawHmacs);

void BM_Validate_PrecomputedHmacs(benchmark::State& state) {
  const Fixture& f = F();
  const core::HmacSha256Key mac(f.key.value);
  for (auto _ : state) {
    benchmark::DoNotOptimize(mac.Mac(f.bound_signing_input));
    benchmark::DoNotOptimize(mac.Mac(f.bound_token.intsig_input));
  }
}
BENCHMARK(BM_Validate_PrecomputedHmacs);

void BM_Validate_NoBindings(benchmark::State& state) {
  const Fixture& f = F();
  const core::RevocationSet revoked;
  const core::EdgeRequest request{
      .uri = f.plain_uri, .client_ip = kIp, .headers = f.headers};
  for (auto _ : state) {
    core::Decision d = core::Validate(request, f.keys, revoked, kNow);
    if (!d.allow) state.SkipWithError("request denied");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Validate_NoBindings);

void BM_Validate_NoBindings_RawHmac(benchmark::State& state) {
  const Fixture& f = F();
  for (auto _ : state) RawHmac(f.key.value, f.plain_signing_input);
}
BENCHMARK(BM_Validate_NoBindings_RawHmac);

void BM_Validate_NoBindings_PrecomputedHmac(benchmark::State& state) {
  const Fixture& f = F();
  const core::HmacSha256Key mac(f.key.value);
  for (auto _ : state) benchmark::DoNotOptimize(mac.Mac(f.plain_signing_input));
}
BENCHMARK(BM_Validate_NoBindings_PrecomputedHmac);

// --- revocation --------------------------------------------------------------

constexpr int kRevoked = 1'000'000;

std::vector<std::string> SessionIds(int n, char salt) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int i = 0; i < n; ++i)
    ids.push_back(absl::StrCat(std::string(1, salt), "sess", i, "x"));
  return ids;
}

// Half the lookups hit (revoked ids), half miss (ids never added).
void BM_RevocationLookup(benchmark::State& state) {
  static const auto* const fixture = [] {
    auto* f = new std::pair<core::RevocationSet, std::vector<std::string>>();
    for (std::string& id : SessionIds(kRevoked, 'r'))
      f->first.Add(std::move(id), absl::InfiniteFuture());
    std::vector<std::string> probes = SessionIds(4096, 'r');
    for (std::string& id : SessionIds(4096, 'm'))
      probes.push_back(std::move(id));
    f->second = std::move(probes);
    return f;
  }();
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += fixture->first.Contains(fixture->second[i], kNow);
    i = (i + 4097) % fixture->second.size();
  }
  benchmark::DoNotOptimize(hits);
  state.counters["entries"] = static_cast<double>(fixture->first.size());
}
BENCHMARK(BM_RevocationLookup);

void BM_RevocationLookup_RawHashSet(benchmark::State& state) {
  static const auto* const fixture = [] {
    auto* f = new std::pair<absl::flat_hash_set<std::string>,
                            std::vector<std::string>>();
    for (std::string& id : SessionIds(kRevoked, 'r'))
      f->first.insert(std::move(id));
    std::vector<std::string> probes = SessionIds(4096, 'r');
    for (std::string& id : SessionIds(4096, 'm'))
      probes.push_back(std::move(id));
    f->second = std::move(probes);
    return f;
  }();
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += fixture->first.contains(absl::string_view(fixture->second[i]));
    i = (i + 4097) % fixture->second.size();
  }
  benchmark::DoNotOptimize(hits);
}
BENCHMARK(BM_RevocationLookup_RawHashSet);

// Resident set size of this process, in bytes.
double ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

const std::vector<std::string>& SnapshotIds() {
  static const auto* const ids = new std::vector<std::string>(SessionIds(kRevoked, 'r'));
  return *ids;
}

// One build per iteration; rss_mb is what the last built set added to the
// resident set (earlier ones are freed and trimmed before it is measured).
template <typename BuildFn>
void MeasureBuild(benchmark::State& state, BuildFn build) {
  const std::vector<std::string>& ids = SnapshotIds();
  double rss_delta = 0;
  size_t entries = 0;
  for (auto _ : state) {
    state.PauseTiming();
    malloc_trim(0);  // hand freed pages back, so the delta is this set's alone
    const double before = ResidentBytes();
    state.ResumeTiming();
    auto set = build(ids);
    state.PauseTiming();
    rss_delta = ResidentBytes() - before;
    entries = set.size();
    { auto discard = std::move(set); }
    state.ResumeTiming();
  }
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["rss_mb"] = rss_delta / (1 << 20);
}

void BM_RevocationBuild(benchmark::State& state) {
  MeasureBuild(state, [](const std::vector<std::string>& ids) {
    core::RevocationSet set;
    set.Reserve(ids.size());
    for (const std::string& id : ids) set.Add(id, kNow + absl::Hours(4));
    return set;
  });
}
BENCHMARK(BM_RevocationBuild)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_RevocationBuild_RawHashMap(benchmark::State& state) {
  MeasureBuild(state, [](const std::vector<std::string>& ids) {
    absl::flat_hash_map<std::string, absl::Time> set;
    set.reserve(ids.size());
    for (const std::string& id : ids) set.try_emplace(id, kNow + absl::Hours(4));
    return set;
  });
}
BENCHMARK(BM_RevocationBuild_RawHashMap)->Unit(benchmark::kMillisecond)->Iterations(1);

// Peak resident set size since the last ResetPeakResident(), in bytes.
double PeakResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024;  // kB
  }
  return 0;
}
void ResetPeakResident() { std::ofstream("/proc/self/clear_refs") << "5"; }

// A persisted list of 1,000,000 {"session_id","expires_at"} objects read with
// ParseRevocationJson (a streaming parse); peak_mb is the most it held at once
// above the resident set before, text excluded.
void BM_RevocationParseJson(benchmark::State& state) {
  static const std::string* const text = [] {
    auto* json = new std::string("{\"sessions\":[");
    json->reserve(kRevoked * 50);
    for (const std::string& id : SnapshotIds()) {
      absl::StrAppend(json, json->back() == '[' ? "" : ",", R"({"session_id":")", id,
                      R"(","expires_at":1767240000})");
    }
    *json += "]}";
    return json;
  }();
  double peak = 0;
  size_t entries = 0;
  for (auto _ : state) {
    state.PauseTiming();
    malloc_trim(0);
    const double before = ResidentBytes();
    ResetPeakResident();
    state.ResumeTiming();
    auto set = core::ParseRevocationJson(*text);
    state.PauseTiming();
    if (!set.ok()) state.SkipWithError("parse failed");
    peak = PeakResidentBytes() - before;
    entries = set.ok() ? set->size() : 0;
    { auto discard = std::move(set); }
    state.ResumeTiming();
  }
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["peak_mb"] = peak / (1 << 20);
  state.counters["text_mb"] = static_cast<double>(text->size()) / (1 << 20);
}
BENCHMARK(BM_RevocationParseJson)->Unit(benchmark::kMillisecond)->Iterations(1);

// --- Per-call metrics -------------------------------------------------------

const std::vector<double> kMetricBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                            0.0025,  0.005,  0.01,    0.025,  0.05,
                                            0.1,     0.25,   0.5,     1};
constexpr double kIssueSeconds = 0.00002;

// The lookup the server used before LabelSetIndex: a joined key string and a
// reader lock around a hash map of children.
class LockedLookup {
 public:
  explicit LockedLookup(prometheus::Family<prometheus::Counter>& family) : family_(family) {}
  prometheus::Counter& Get(std::initializer_list<absl::string_view> values,
                           const std::vector<std::string>& names) {
    const std::string key = absl::StrJoin(values, "\x1f");
    {
      absl::ReaderMutexLock lock(&mu_);
      if (auto it = children_.find(key); it != children_.end()) return *it->second;
    }
    absl::MutexLock lock(&mu_);
    prometheus::Labels labels;
    size_t i = 0;
    for (absl::string_view v : values) labels[names[i++]] = std::string(v);
    prometheus::Counter& child = family_.Add(labels);
    children_.emplace(key, &child);
    return child;
  }

 private:
  prometheus::Family<prometheus::Counter>& family_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, prometheus::Counter*> children_;
};

struct PrometheusCppIssueMetrics {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& issued =
      prometheus::BuildCounter().Name("bench_issued_total").Help("Issued.").Register(registry);
  prometheus::Histogram& seconds = prometheus::BuildHistogram()
                                       .Name("bench_issue_seconds")
                                       .Help("Issue time.")
                                       .Register(registry)
                                       .Add({}, kMetricBuckets);
  const std::vector<std::string> names = {"asset", "scheme", "outcome"};
  LockedLookup locked{issued};
  obs::BoundedFamily<prometheus::Counter> bounded{issued, names, 2000};
};

PrometheusCppIssueMetrics& PrometheusCppMetrics() {
  static auto* metrics = new PrometheusCppIssueMetrics;
  return *metrics;
}

void BM_RecordIssue_PrometheusCpp(benchmark::State& state) {
  PrometheusCppIssueMetrics& m = PrometheusCppMetrics();
  for (auto _ : state) {
    m.locked.Get({"asset-1", "smd-token", "ok"}, m.names).Increment();
    m.seconds.Observe(kIssueSeconds);
  }
}
BENCHMARK(BM_RecordIssue_PrometheusCpp)->Threads(1)->Threads(2);

void BM_RecordIssue_PrometheusCppLockFreeLookup(benchmark::State& state) {
  PrometheusCppIssueMetrics& m = PrometheusCppMetrics();
  for (auto _ : state) {
    m.bounded.Get({"asset-1", "smd-token", "ok"}).Increment();
    m.seconds.Observe(kIssueSeconds);
  }
}
BENCHMARK(BM_RecordIssue_PrometheusCppLockFreeLookup)->Threads(1)->Threads(2);

void BM_RecordIssue_Striped(benchmark::State& state) {
  static auto* issued = new obs::StripedCounterFamily(
      "bench_issued_total", "Issued.", {"asset", "scheme", "outcome"}, 2000);
  static auto* seconds =
      new obs::StripedHistogramFamily("bench_issue_seconds", "Issue time.", {}, 1, kMetricBuckets);
  obs::StripedHistogram& histogram = seconds->Get({});
  for (auto _ : state) {
    issued->Get({"asset-1", "smd-token", "ok"}).Increment();
    histogram.Observe(kIssueSeconds);
  }
}
BENCHMARK(BM_RecordIssue_Striped)->Threads(1)->Threads(2);

}  // namespace
}  // namespace edgepass

BENCHMARK_MAIN();
