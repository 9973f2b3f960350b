#include "core/hmac_key.h"

// EVP cannot resume a digest from a stored state without allocating a context
// per call, and the one-shot HMAC() re-derives the key schedule (and fetches
// the algorithm) every time; the SHA256_* functions, deprecated in OpenSSL 3
// but present throughout 3.x, run the same block function on a plain struct.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace edgepass::core {
namespace {

constexpr size_t kBlockBytes = SHA256_CBLOCK;  // 64

static_assert(sizeof(SHA_LONG) == sizeof(uint32_t));

// The chaining value after absorbing exactly one block: `block`.
std::array<uint32_t, 8> MidstateAfter(const unsigned char (&block)[kBlockBytes]) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, block, kBlockBytes);
  std::array<uint32_t, 8> state;
  std::memcpy(state.data(), ctx.h, sizeof(state));
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  return state;
}

// A context that has absorbed one block and holds `state`.
void ResumeAfterOneBlock(const std::array<uint32_t, 8>& state, SHA256_CTX* ctx) {
  SHA256_Init(ctx);
  std::memcpy(ctx->h, state.data(), sizeof(state));
  ctx->Nl = kBlockBytes * 8;  // message length so far, in bits
  ctx->Nh = 0;
}

}  // namespace

HmacSha256Key::HmacSha256Key() : HmacSha256Key(absl::string_view()) {}

HmacSha256Key::HmacSha256Key(absl::string_view key) {
  unsigned char k0[kBlockBytes] = {};
  if (key.size() > kBlockBytes) {
    // Not SHA256(), which fetches the algorithm per call in OpenSSL 3.
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, key.data(), key.size());
    SHA256_Final(k0, &ctx);
    OPENSSL_cleanse(&ctx, sizeof(ctx));
  } else if (!key.empty()) {
    std::memcpy(k0, key.data(), key.size());
  }
  unsigned char pad[kBlockBytes];
  for (size_t i = 0; i < kBlockBytes; ++i) pad[i] = k0[i] ^ 0x36;
  inner_ = MidstateAfter(pad);
  for (size_t i = 0; i < kBlockBytes; ++i) pad[i] = k0[i] ^ 0x5c;
  outer_ = MidstateAfter(pad);
  OPENSSL_cleanse(k0, sizeof(k0));
  OPENSSL_cleanse(pad, sizeof(pad));
}

HmacSha256Key::~HmacSha256Key() {
  OPENSSL_cleanse(inner_.data(), sizeof(inner_));
  OPENSSL_cleanse(outer_.data(), sizeof(outer_));
}

Sha256Digest HmacSha256Key::Mac(absl::string_view data) const {
  return MacOfParts({data});
}

Sha256Digest HmacSha256Key::MacOfParts(absl::Span<const absl::string_view> parts) const {
  SHA256_CTX ctx;
  ResumeAfterOneBlock(inner_, &ctx);
  for (absl::string_view part : parts) SHA256_Update(&ctx, part.data(), part.size());
  Sha256Digest digest;
  SHA256_Final(digest.data(), &ctx);
  ResumeAfterOneBlock(outer_, &ctx);
  SHA256_Update(&ctx, digest.data(), digest.size());
  SHA256_Final(digest.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  return digest;
}

}  // namespace edgepass::core
