// The CloudFront keys of FileSecretStore (a 0600 file beside the keyring,
// written atomically) and the issuers' CloudFrontKeyCache over it, on real
// files.
#include "server/adapters/file_secret_store.h"

#include <sys/stat.h>

#include <string>

#include "absl/time/clock.h"
#include "core/cloudfront_test_keys_internal.h"
#include "files/atomic_file.h"
#include "gtest/gtest.h"
#include "server/app/cloudfront_key_cache.h"
#include "tests/support/temp_dir.h"

namespace edgepass::server {
namespace {

using ::edgepass::core::testing::GenerateEcPrivateKeyPem;
using ::edgepass::core::testing::OtherRsaPrivateKeyPem;
using ::edgepass::core::testing::RsaPrivateKeyPem;

// A fresh directory, removed with its files.
using ::edgepass::testing::TempDir;

TEST(FileSecretStoreCloudFront, AbsentFileHoldsNoKeys) {
  TempDir dir;
  FileSecretStore store(dir.path() + "/keyring.json");
  EXPECT_EQ(store.cloudfront_keys_path(), dir.path() + "/cloudfront_keys.json");
  absl::StatusOr<std::vector<CloudFrontKeyEntry>> keys = store.ReadCloudFrontKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE(keys->empty());
}

TEST(FileSecretStoreCloudFront, WriteAddsAndReplacesInA0600File) {
  TempDir dir;
  FileSecretStore store(dir.path() + "/keyring.json");
  ASSERT_TRUE(store.WriteCloudFrontKey({"KB", RsaPrivateKeyPem()}).ok());
  ASSERT_TRUE(store.WriteCloudFrontKey({"KA", RsaPrivateKeyPem()}).ok());
  ASSERT_TRUE(store.WriteCloudFrontKey({"KB", OtherRsaPrivateKeyPem()}).ok());
  absl::StatusOr<std::vector<CloudFrontKeyEntry>> keys = store.ReadCloudFrontKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].key_pair_id, "KA");
  EXPECT_EQ((*keys)[1].key_pair_id, "KB");
  EXPECT_EQ((*keys)[1].private_key_pem, OtherRsaPrivateKeyPem());
  struct stat st;
  ASSERT_EQ(::stat(store.cloudfront_keys_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // The keyring file is another file, untouched.
  EXPECT_NE(::stat((dir.path() + "/keyring.json").c_str(), &st), 0);
}

TEST(FileSecretStoreCloudFront, RefusesBadEntriesWritingNothing) {
  TempDir dir;
  FileSecretStore store(dir.path() + "/keyring.json");
  ASSERT_TRUE(store.WriteCloudFrontKey({"KA", RsaPrivateKeyPem()}).ok());
  const std::string before =
      *files::ReadFileToString(store.cloudfront_keys_path());
  absl::Status s = store.WriteCloudFrontKey({"bad-id", RsaPrivateKeyPem()});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 12), "key_pair_id:");
  s = store.WriteCloudFrontKey({"KB", ""});
  EXPECT_EQ(s.message().substr(0, 16), "private_key_pem:");
  EXPECT_EQ(*files::ReadFileToString(store.cloudfront_keys_path()), before);
}

TEST(FileSecretStoreCloudFront, RefusesAFileOthersCanReadOrThatDoesNotParse) {
  TempDir dir;
  FileSecretStore store(dir.path() + "/keyring.json");
  ASSERT_TRUE(store.WriteCloudFrontKey({"KA", RsaPrivateKeyPem()}).ok());
  ASSERT_EQ(::chmod(store.cloudfront_keys_path().c_str(), 0644), 0);
  absl::StatusOr<std::vector<CloudFrontKeyEntry>> keys = store.ReadCloudFrontKeys();
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(keys.status().message().find("chmod 600"), std::string::npos);

  // A broken file is reported without quoting its bytes, and never overwritten.
  const std::string secret_looking = "{\"cloudfront_keys\": [MIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
  ASSERT_TRUE(
      files::WriteFileAtomically(store.cloudfront_keys_path(), secret_looking)
          .ok());
  keys = store.ReadCloudFrontKeys();
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(keys.status().message().find("MIIE"), std::string::npos) << keys.status();
  EXPECT_FALSE(store.WriteCloudFrontKey({"KB", RsaPrivateKeyPem()}).ok());
  EXPECT_EQ(*files::ReadFileToString(store.cloudfront_keys_path()),
            secret_looking);
}

TEST(CloudFrontKeyCache, ServesSignersAndRereadsOnAMissAtMostOncePerInterval) {
  TempDir dir;
  FileSecretStore store(dir.path() + "/keyring.json");
  absl::Time now = absl::FromUnixSeconds(1700000000);
  CloudFrontKeyCache cache(store, [&] { return now; },
                           {.ttl = absl::Minutes(5), .miss_reload_interval = absl::Seconds(1)});
  absl::StatusOr<core::CloudFrontSigner> missing = cache.Signer("KA");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(missing.status().message(), "cloudfront_key_pair_id: no such key in the secrets store");
  EXPECT_EQ(cache.reads(), 1);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(cache.Signer("KA").ok());
  EXPECT_EQ(cache.reads(), 1);  // misses within the interval do not re-read

  // Another writer (another replica) stores it: found after the interval.
  ASSERT_TRUE(store.WriteCloudFrontKey({"KA", RsaPrivateKeyPem()}).ok());
  now += absl::Seconds(2);
  absl::StatusOr<core::CloudFrontSigner> signer = cache.Signer("KA");
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->key_pair_id(), "KA");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(cache.Signer("KA").ok());
  EXPECT_EQ(cache.reads(), 2);

  // A write in this process invalidates at once.
  ASSERT_TRUE(store.WriteCloudFrontKey({"KB", OtherRsaPrivateKeyPem()}).ok());
  cache.Invalidate();
  EXPECT_TRUE(cache.Signer("KB").ok());
  EXPECT_EQ(cache.reads(), 3);
}

TEST(CloudFrontKeyCache, AStoredKeyThatDoesNotParseIsNamedNotQuoted) {
  TempDir dir;
  FileSecretStore store(dir.path() + "/keyring.json");
  ASSERT_TRUE(store.WriteCloudFrontKey({"KE", GenerateEcPrivateKeyPem()}).ok());
  CloudFrontKeyCache cache(store, [] { return absl::Now(); });
  absl::StatusOr<core::CloudFrontSigner> signer = cache.Signer("KE");
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(signer.status().message(), "cloudfront_key_pair_id: the stored key does not parse");
}

}  // namespace
}  // namespace edgepass::server
