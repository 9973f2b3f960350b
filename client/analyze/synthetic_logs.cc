#include "client/analyze/synthetic_logs.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "text/json_string.h"

namespace edgepass::analyze {
namespace {

using text::JsonString;

constexpr int64_t kSegmentMs = 6000;

std::string Encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '%' || c == '"' || c == '\\' || c >= 0x7f || c == '?' || c == '#') {
      absl::StrAppendFormat(&out, "%%%02X", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out.empty() ? "-" : out;
}

const char* const kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "AppleCoreMedia/1.0.0.21C62 (iPhone; U; CPU OS 17_2 like Mac OS X; en_us)",
};

struct Builder {
  std::mt19937_64 rng;
  SyntheticLog log;
  int next_id = 0;

  std::string NewId(const char* kind) { return absl::StrFormat("%s%05d", kind, next_id++); }

  std::string Ip(int n) { return absl::StrFormat("10.%d.%d.%d", (n >> 16) & 255, (n >> 8) & 255, n & 255); }

  // One viewer playing `segments` segments of asset `asset` from `start`.
  void Play(const std::string& id, const std::string& ip, const std::string& ua, const std::string& referer,
            int asset, int64_t start, int segments, bool byte_ranges) {
    const std::string prefix = absl::StrCat("/", id, ".eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln/video/", asset);
    auto add = [&](int64_t t, std::string uri, int status, uint64_t bytes) {
      log.requests.push_back({t, ip, std::move(uri), referer, ua, status, bytes, id});
    };
    add(start, prefix + "/index.m3u8", 200, 612);  // a manifest: under 1 KiB, filtered out
    std::uniform_int_distribution<int64_t> jitter(-400, 400);
    for (int i = 0; i < segments; ++i) {
      const int64_t t = start + i * kSegmentMs + (i == 0 ? 0 : jitter(rng));
      const std::string uri = absl::StrFormat("%s/seg_%05d.ts", prefix, i);
      if (byte_ranges) {  // two ranges of one segment: one request
        add(t, uri, 206, 400000);
        add(t + 150, uri, 206, 380000);
      } else {
        add(t, uri, 200, 780000);
      }
    }
  }
};

}  // namespace

SyntheticLog GenerateSyntheticLog(const SyntheticOptions& o) {
  Builder b{std::mt19937_64(o.seed)};
  const int64_t max_segments = o.span_ms / kSegmentMs;
  std::uniform_int_distribution<int> seg_count(8, static_cast<int>(max_segments) - 1);
  std::uniform_int_distribution<int> agent(0, 3);
  for (int i = 0; i < o.ordinary; ++i) {
    const std::string id = b.NewId("view");
    const int segments = seg_count(b.rng);
    std::uniform_int_distribution<int64_t> start(0, o.span_ms - segments * kSegmentMs);
    b.Play(id, b.Ip(i + 1), kAgents[agent(b.rng)], i % 3 == 0 ? "" : "https://www.example.com/watch",
           i % 20, o.start_ms + start(b.rng), segments, i % 10 == 0);
  }
  auto shared = [&](const char* kind, int segments, std::vector<std::string>* ids) {
    const std::string id = b.NewId(kind);
    ids->push_back(id);
    const int64_t t0 = o.start_ms + 30000;
    for (int v = 0; v < 4; ++v) {
      b.Play(id, b.Ip(0x200000 + b.next_id * 8 + v), kAgents[v % 3],
             v % 2 == 0 ? "https://www.example.com/watch" : "https://pirate.example.net/", 7, t0 + v * 1500,
             segments, false);
    }
  };
  for (int i = 0; i < o.shared; ++i) shared("shared", 50, &b.log.shared_ids);
  for (int i = 0; i < o.short_shared; ++i) shared("short", 4, &b.log.short_shared_ids);
  std::stable_sort(b.log.requests.begin(), b.log.requests.end(),
                   [](const SyntheticRequest& a, const SyntheticRequest& c) { return a.time_ms < c.time_ms; });
  return std::move(b.log);
}

std::string CloudFrontW3c(const std::vector<SyntheticRequest>& requests) {
  std::string out =
      "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
      "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header "
      "cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
      "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type "
      "sc-content-type sc-content-len sc-range-start sc-range-end\n";
  // What varies per request in a real log, so that the file compresses as
  // one does (about 8:1, not 30:1): the request id (40 random bytes, as
  // CloudFront's), the viewer's port and the times taken.
  uint64_t state = 0x243F6A8885A308D3ULL;
  auto next = [&state] {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  std::string id_bytes(40, '\0');
  for (const SyntheticRequest& r : requests) {
    for (size_t i = 0; i < id_bytes.size(); i += 8) {
      const uint64_t v = next();
      std::memcpy(id_bytes.data() + i, &v, 8);
    }
    const uint64_t v = next();
    const std::string taken = absl::StrFormat("%.3f", static_cast<double>(v % 250 + 1) / 1000);
    absl::StrAppend(&out, absl::FormatTime("%Y-%m-%d\t%H:%M:%S", absl::FromUnixMillis(r.time_ms), absl::UTCTimeZone()),
                    "\tFRA56-P1\t", r.bytes, "\t", r.ip, "\tGET\td111111abcdef8.cloudfront.net\t", Encode(r.uri), "\t",
                    r.status, "\t", Encode(r.referer), "\t", Encode(r.user_agent), "\t-\t-\tHit\t",
                    absl::WebSafeBase64Escape(id_bytes), "==\tmedia.example.com\thttps\t312\t", taken,
                    "\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t", 1024 + (v >> 20) % 64512, "\t", taken,
                    "\tHit\tvideo/MP2T\t", r.bytes, "\t-\t-\n");
  }
  return out;
}

std::string CloudFrontJsonLines(const std::vector<SyntheticRequest>& requests) {
  std::string out;
  for (const SyntheticRequest& r : requests) {
    const absl::Time t = absl::FromUnixMillis(r.time_ms);
    absl::StrAppend(&out, "{\"date\":\"", absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()),
                    "\",\"time\":\"", absl::FormatTime("%H:%M:%S", t, absl::UTCTimeZone()),
                    "\",\"x-edge-location\":\"FRA56-P1\",\"sc-bytes\":\"", r.bytes, "\",\"c-ip\":\"", r.ip,
                    "\",\"cs-method\":\"GET\",\"cs-uri-stem\":", JsonString(Encode(r.uri)),
                    ",\"sc-status\":\"", r.status, "\",\"cs(Referer)\":", JsonString(Encode(r.referer)),
                    ",\"cs(User-Agent)\":", JsonString(Encode(r.user_agent)), "}\n");
  }
  return out;
}

std::string NginxJsonLines(const std::vector<SyntheticRequest>& requests) {
  std::string out;
  for (const SyntheticRequest& r : requests) {
    absl::StrAppend(&out, "{\"msec\":\"", r.time_ms / 1000, ".", absl::StrFormat("%03d", r.time_ms % 1000),
                    "\",\"client_ip\":\"", r.ip, "\",\"method\":\"GET\",\"uri\":", JsonString(r.uri),
                    ",\"status\":", r.status, ",\"bytes\":", r.bytes, ",\"referer\":", JsonString(r.referer),
                    ",\"user_agent\":", JsonString(r.user_agent), ",\"session_id\":", JsonString(r.session_id),
                    "}\n");
  }
  return out;
}

}  // namespace edgepass::analyze
