// Catalog entries for store tests (file and Redis catalog stores alike).
//
//   store.Update([](const Catalog& c) { return WithTestAsset(c, 7); });
//   // asset "a7": cdn.example.com, /v/7/index.m3u8, inline policy /v/7/ +1h
#ifndef EDGEPASS_TESTS_FAKES_TEST_CATALOG_H_
#define EDGEPASS_TESTS_FAKES_TEST_CATALOG_H_

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/state/catalog.h"

namespace edgepass::testing {

// `base` plus asset "a<n>" with an inline policy; errors are Parse's/Merge's.
inline absl::StatusOr<server::Catalog> WithTestAsset(
    const server::Catalog& base, int n) {
  absl::StatusOr<server::Catalog> overlay = server::Catalog::Parse(
      absl::StrCat(R"({"assets":[{"id":"a)", n,
                   R"(","hostname":"cdn.example.com","url_path":"/v/)", n,
                   R"(/index.m3u8","token_policy":{"paths":["/v/)", n,
                   R"(/"],"exp":"+1h"}}]})"),
      "test");
  if (!overlay.ok()) return overlay.status();
  return server::Catalog::Merge(base, *overlay, "test");
}

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_FAKES_TEST_CATALOG_H_
