#include "server/auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/crypto.h"
#include "core/status_macros.h"
#include "text/json_doc.h"

namespace edgepass::server {
namespace {

using Json = nlohmann::json;

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

// A modulus of kMaxJwkRsaBits is 683 base64url characters; leave room for a
// leading zero byte.
constexpr size_t kMaxModulusChars = 700;
constexpr size_t kMaxExponentChars = 12;  // up to 64 bits

absl::Status JwksError(absl::string_view source, absl::string_view message) {
  ERR_clear_error();  // leave no OpenSSL error behind for unrelated callers
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", message));
}

// Strict unpadded base64url of a big-endian unsigned integer.
absl::StatusOr<BnPtr> DecodeBigNum(const Json& jwk, const char* name, size_t max_chars,
                                   absl::string_view where) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return JwksError(where, absl::StrCat("missing \"", name, "\""));
  if (!it->is_string()) return JwksError(where, absl::StrCat("\"", name, "\" must be a string"));
  const std::string& text = it->get_ref<const std::string&>();
  std::string bytes;
  if (text.empty() || text.size() > max_chars || !core::Base64UrlDecode(text, &bytes)) {
    return JwksError(
        where, absl::StrCat("bad \"", name, "\": not unpadded base64url of a big-endian integer"));
  }
  BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                     static_cast<int>(bytes.size()), nullptr));
  if (!bn) return absl::ResourceExhaustedError("jwks: out of memory");
  return bn;
}

// Why a JWK is not an RS256 signature key, or "" when it is one.
std::string SkipReason(const Json& jwk) {
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return "no kty";
  if (*kty != "RSA") return absl::StrCat("kty ", kty->get<std::string>());
  auto use = jwk.find("use");
  if (use != jwk.end() && (!use->is_string() || *use != "sig")) return "use is not sig";
  auto alg = jwk.find("alg");
  if (alg != jwk.end()) {
    if (!alg->is_string()) return "alg is not a string";
    if (*alg != "RS256") return absl::StrCat("alg ", alg->get<std::string>());
  }
  auto ops = jwk.find("key_ops");
  if (ops != jwk.end()) {
    if (!ops->is_array()) return "key_ops is not a list";
    bool verify = false;
    for (const Json& op : *ops) verify = verify || (op.is_string() && op == "verify");
    if (!verify) return "key_ops lacks verify";
  }
  return "";
}

}  // namespace

struct JwksKey::Impl {
  ~Impl() { EVP_PKEY_free(pkey); }
  std::string kid;
  EVP_PKEY* pkey = nullptr;
  size_t signature_bytes = 0;
};

JwksKey::JwksKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

const std::string& JwksKey::kid() const { return impl_->kid; }

int JwksKey::bits() const { return EVP_PKEY_get_bits(impl_->pkey); }

bool JwksKey::VerifyRs256(absl::string_view data, absl::string_view signature) const {
  if (signature.size() != impl_->signature_bytes) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  // RSA keys verify with PKCS#1 v1.5 padding unless told otherwise.
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->pkey) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  ERR_clear_error();
  return ok;
}

absl::StatusOr<JwksKeySet> JwksKeySet::Parse(absl::string_view text, absl::string_view source) {
  if (text.empty()) return JwksError(source, "is empty");
  EDGEPASS_ASSIGN_OR_RETURN(const Json doc, text::ParseJson(text, source, {.max_bytes = kMaxJwksBytes}));
  if (!doc.is_object()) return JwksError(source, "must be a JSON object with a \"keys\" list");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return JwksError(source, "has no \"keys\" list (is this a JWKS document?)");
  }
  if (keys->size() > kMaxJwksKeys) {
    return JwksError(source, absl::StrCat("more than ", kMaxJwksKeys, " keys"));
  }

  JwksKeySet set;
  std::vector<std::string> skipped;
  absl::flat_hash_set<std::string> kids;
  for (size_t i = 0; i < keys->size(); ++i) {
    const Json& jwk = (*keys)[i];
    const std::string where = absl::StrCat(source, ": keys[", i, "]");
    if (!jwk.is_object()) return JwksError(where, "must be a JSON object");
    if (std::string why = SkipReason(jwk); !why.empty()) {
      skipped.push_back(absl::StrCat("keys[", i, "] (", why, ")"));
      continue;
    }
    auto impl = std::make_shared<JwksKey::Impl>();
    if (auto kid = jwk.find("kid"); kid != jwk.end()) {
      if (!kid->is_string() || kid->get_ref<const std::string&>().empty() ||
          kid->get_ref<const std::string&>().size() > kMaxJwkKidBytes) {
        return JwksError(
            where, absl::StrCat("\"kid\" must be a string of 1 to ", kMaxJwkKidBytes, " bytes"));
      }
      impl->kid = kid->get<std::string>();
      if (!kids.insert(impl->kid).second) {
        return JwksError(where, absl::StrCat("duplicate kid \"", impl->kid, "\""));
      }
    }
    absl::StatusOr<BnPtr> n = DecodeBigNum(jwk, "n", kMaxModulusChars, where);
    if (!n.ok()) return n.status();
    absl::StatusOr<BnPtr> e = DecodeBigNum(jwk, "e", kMaxExponentChars, where);
    if (!e.ok()) return e.status();
    const int bits = BN_num_bits(n->get());
    if (bits < kMinJwkRsaBits || bits > kMaxJwkRsaBits) {
      return JwksError(where, absl::StrCat("bad \"n\": RSA modulus must have ", kMinJwkRsaBits,
                                           " to ", kMaxJwkRsaBits, " bits; got ", bits));
    }
    if (!BN_is_odd(n->get())) return JwksError(where, "bad \"n\": RSA modulus must be odd");
    if (!BN_is_odd(e->get()) || BN_num_bits(e->get()) < 2) {
      return JwksError(where, "bad \"e\": RSA exponent must be odd and at least 3");
    }

    std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
    std::unique_ptr<OSSL_PARAM, ParamDeleter> params;
    if (bld && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n->get()) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e->get()) == 1) {
      params.reset(OSSL_PARAM_BLD_to_param(bld.get()));
    }
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &impl->pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      return JwksError(where, "OpenSSL rejected the RSA public key (\"n\", \"e\")");
    }
    impl->signature_bytes = static_cast<size_t>(EVP_PKEY_get_size(impl->pkey));
    set.keys_.push_back(JwksKey(std::move(impl)));
  }
  if (set.keys_.empty()) {
    return JwksError(
        source,
        absl::StrCat("no RS256 signature key (kty RSA, use sig, alg RS256)",
                     skipped.empty() ? absl::StrCat("; \"keys\" is empty")
                                     : absl::StrCat("; skipped ", absl::StrJoin(skipped, ", "))));
  }
  return set;
}

const JwksKey* JwksKeySet::Find(std::optional<absl::string_view> kid) const {
  if (!kid.has_value()) return keys_.size() == 1 ? &keys_[0] : nullptr;
  for (const JwksKey& key : keys_) {
    if (!key.kid().empty() && key.kid() == *kid) return &key;
  }
  return nullptr;
}

}  // namespace edgepass::server
