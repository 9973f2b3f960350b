// What one issue call costs the server in process, layer by layer, to place
// the gap between tests/bench/service_ratios.sh's IssuePlayback and its empty
// RPC: the service layer alone, the same behind the edgepass.v1 message
// conversion, with the reply serialized as gRPC sends it, and the whole REST
// gateway (routing, access, JSON both ways). Over in-memory stores with
// metrics on, as the server runs.
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "core/random.h"
#include "server/adapters/local_change_feed.h"
#include "server/api/playback_reply.h"
#include "server/api/playback_request.h"
#include "server/api/proto_convert.h"
#include "server/api/proto_api.h"
#include "server/app/playback_issuer.h"
#include "server/app/live_state.h"
#include "server/rest/rest_gateway.h"
#include "server/app/server_metrics.h"
#include "tests/fakes/in_memory_state.h"

namespace edgepass::server {
namespace {

std::shared_ptr<const core::Keyring> Keys() {
  absl::StatusOr<core::Keyring> k = core::Keyring::Create(
      {{.id = "20260101_0123456789abcdef0123", .value = std::string(128, 'a'), .state = core::KeyState::kPrimary}});
  return std::make_shared<const core::Keyring>(*std::move(k));
}

// The server's parts for asset "1" of the sample catalog.
struct Bed {
  testing::InMemoryCatalogStore catalogs{*Catalog::Parse(SampleCatalogJson(), "sample")};
  testing::InMemorySessionStore sessions;
  testing::FixedKeyringSource keys{Keys()};
  LocalChangeFeed feed;
  core::SecureRandom random;
  ServerMetrics metrics;
  LiveState live{&catalogs, &sessions, &keys, &feed, [] { return absl::Now(); }, {}};
  PlaybackIssuer issuer{[this] { return live.catalog(); }, &keys, &random, [] { return absl::Now(); },
                        PlaybackIssuerOptions{.metrics = &metrics}};
  PlaybackApi api{&issuer, absl::Hours(1)};
  AccessPolicy access = AccessPolicy::Open();
  std::unique_ptr<RestGateway> gateway = *RestGateway::Create({.playback = &api}, &access, {});
  Bed() { (void)live.Start(); }
};

Bed& TheBed() {
  static Bed* bed = new Bed();
  return *bed;
}

void BM_IssuePlayback_ServiceLayer(benchmark::State& state) {
  Bed& bed = TheBed();
  const PlaybackRequest request{.asset_id = "1", .viewer = {.ip = "203.0.113.7"}};
  for (auto _ : state) benchmark::DoNotOptimize(bed.issuer.IssuePlayback(request));
}
BENCHMARK(BM_IssuePlayback_ServiceLayer);

void BM_IssuePlayback_ProtoApi(benchmark::State& state) {
  Bed& bed = TheBed();
  v1::IssuePlaybackRequest request;
  request.set_asset_id("1");
  request.mutable_viewer()->set_ip("203.0.113.7");
  for (auto _ : state) {
    v1::IssuePlaybackResponse response;
    benchmark::DoNotOptimize(bed.api.IssuePlayback(request, &response));
  }
}
BENCHMARK(BM_IssuePlayback_ProtoApi);

std::string RequestWire() {
  v1::IssuePlaybackRequest request;
  request.set_asset_id("1");
  request.mutable_viewer()->set_ip("203.0.113.7");
  return request.SerializeAsString();
}

// The request's bytes read by the fast reader (playback_request.h)...
void BM_ReadIssuePlaybackRequest_Fast(benchmark::State& state) {
  const std::string wire = RequestWire();
  for (auto _ : state) {
    PlaybackRequest request;
    benchmark::DoNotOptimize(DecodeCommonIssuePlaybackRequest(wire, &request));
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(BM_ReadIssuePlaybackRequest_Fast);

// ...and by the path it stands in for: protobuf, then PlaybackRequestFromProto.
void BM_ReadIssuePlaybackRequest_Protobuf(benchmark::State& state) {
  const std::string wire = RequestWire();
  for (auto _ : state) {
    v1::IssuePlaybackRequest parsed;
    parsed.ParseFromString(wire);
    benchmark::DoNotOptimize(PlaybackRequestFromProto(parsed));
  }
}
BENCHMARK(BM_ReadIssuePlaybackRequest_Protobuf);

// Bytes in, bytes out, as the gRPC adapter answers: the request read, the
// reply written as wire bytes from the issued playback (playback_reply.h)...
void BM_IssuePlayback_ProtoApiWire(benchmark::State& state) {
  Bed& bed = TheBed();
  const std::string wire = RequestWire();
  size_t bytes = 0;
  for (auto _ : state) {
    PlaybackRequest request;
    DecodeCommonIssuePlaybackRequest(wire, &request);
    absl::StatusOr<IssuedPlayback> issued = bed.api.IssuePlayback(request);
    std::string out;
    AppendIssuePlaybackResponse(*issued, &out);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["reply_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_IssuePlayback_ProtoApiWire);

// ...and the same through protobuf's messages both ways, as the adapter did
// before.
void BM_IssuePlayback_ProtoApiWire_ViaMessage(benchmark::State& state) {
  Bed& bed = TheBed();
  const std::string wire = RequestWire();
  for (auto _ : state) {
    v1::IssuePlaybackRequest parsed;
    parsed.ParseFromString(wire);
    v1::IssuePlaybackResponse response;
    benchmark::DoNotOptimize(bed.api.IssuePlayback(parsed, &response));
    std::string out = response.SerializeAsString();
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_IssuePlayback_ProtoApiWire_ViaMessage);

void BM_IssuePlayback_RestGateway(benchmark::State& state) {
  Bed& bed = TheBed();
  http::Request request;
  request.method = "POST";
  request.target = "/v1/assets/1/playback";
  request.remote_address = "127.0.0.1";
  request.headers.Add("Content-Type", "application/json");
  request.body = R"({"viewer":{"ip":"203.0.113.7"}})";
  for (auto _ : state) benchmark::DoNotOptimize(bed.gateway->Handle(request));
}
BENCHMARK(BM_IssuePlayback_RestGateway);

}  // namespace
}  // namespace edgepass::server

BENCHMARK_MAIN();
