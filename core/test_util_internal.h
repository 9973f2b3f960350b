// Internal to core tests: a deterministic RandomSource and a token forger that
// signs arbitrary header/payload JSON, for building hostile tokens.
#ifndef EDGEPASS_CORE_TEST_UTIL_INTERNAL_H_
#define EDGEPASS_CORE_TEST_UTIL_INTERNAL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "core/crypto.h"
#include "core/random.h"

namespace edgepass::core::testing {

class CountingRandom : public RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(next_++ * 97 + 13);
  }

 private:
  unsigned next_ = 0;
};

// "<b64(header)>.<b64(payload)>.<HS256 signature under key>".
inline std::string SignJwt(absl::string_view header_json, absl::string_view payload_json,
                           absl::string_view key) {
  const std::string input =
      absl::StrCat(Base64UrlEncode(header_json), ".", Base64UrlEncode(payload_json));
  return absl::StrCat(input, ".", Base64UrlEncode(HmacSha256(key, input)));
}

}  // namespace edgepass::core::testing

#endif  // EDGEPASS_CORE_TEST_UTIL_INTERNAL_H_
