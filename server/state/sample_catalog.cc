#include "server/state/catalog.h"

namespace edgepass::server {

absl::string_view SampleCatalogJson() {
  static constexpr char kSample[] = R"json({
  "policies": {
    "session-2h": {
      "paths": ["/out/v1/6d3c5e1f0a9b4c2d8e7f6a5b4c3d2e1f/"],
      "exc": ["/out/v1/6d3c5e1f0a9b4c2d8e7f6a5b4c3d2e1f/ads/"],
      "exp": "+2h",
      "ssn": true
    },
    "session-ua-2h": {
      "paths": ["/out/v1/9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d/"],
      "exp": "+2h",
      "ssn": true,
      "headers": ["user-agent"]
    }
  },
  "assets": [
    {
      "id": "1",
      "hostname": "cdn.example.com",
      "url_path": "/out/v1/6d3c5e1f0a9b4c2d8e7f6a5b4c3d2e1f/index.m3u8",
      "scheme": "smd-token",
      "token_policy": "session-2h"
    },
    {
      "id": "2",
      "hostname": "cdn.example.com",
      "url_path": "/out/v1/9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d/index.mpd",
      "scheme": "smd-token",
      "token_policy": "session-ua-2h"
    }
  ]
}
)json";
  return kSample;
}

}  // namespace edgepass::server
