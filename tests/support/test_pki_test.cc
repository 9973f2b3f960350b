// The test PKI: files, modes, and which certificates verify against which CA.
#include "tests/support/test_pki.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <string>

#include "gtest/gtest.h"

namespace edgepass::testing {
namespace {

X509* ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// X509_V_OK when `leaf_pem` chains to `ca_pem` for `purpose`.
int Verify(const std::string& leaf_pem, const std::string& ca_pem,
           int purpose) {
  X509* leaf = ParseCert(leaf_pem);
  X509* ca = ParseCert(ca_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  const int verified = X509_verify_cert(ctx);
  const int error = verified == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(ca);
  X509_free(leaf);
  return error;
}

mode_t FileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

TEST(TestPki, WritesTheFilesWithPrivateKeysReadableByOwnerOnly) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  absl::StatusOr<TestPki> pki = MakeTestPki(dir.path(), {"alice", "bob"});
  ASSERT_TRUE(pki.ok()) << pki.status();
  EXPECT_EQ(pki->ca_file, dir.path() + "/ca.pem");
  EXPECT_EQ(pki->server.cert_file, dir.path() + "/server.pem");
  EXPECT_EQ(pki->server.key_file, dir.path() + "/server.key");
  EXPECT_EQ(pki->clients.at("bob").cert_file, dir.path() + "/client-bob.pem");
  EXPECT_EQ(pki->clients.at("bob").key_file, dir.path() + "/client-bob.key");
  EXPECT_EQ(pki->rogue_ca_file, dir.path() + "/rogue-ca.pem");
  EXPECT_EQ(pki->rogue_client.cert_file, dir.path() + "/client-rogue.pem");
  for (const std::string& key :
       {pki->server.key_file, pki->clients.at("alice").key_file,
        pki->clients.at("bob").key_file, pki->rogue_client.key_file}) {
    EXPECT_EQ(FileMode(key), 0600u) << key;
  }
  EXPECT_EQ(FileMode(pki->ca_file), 0644u);
  EXPECT_EQ(pki->clients.at("alice").name, "alice");
  EXPECT_EQ(pki->rogue_client.name, "rogue");
}

TEST(TestPki, ClientsVerifyAgainstTheirOwnCaOnly) {
  TempDir dir;
  absl::StatusOr<TestPki> pki = MakeTestPki(dir.path(), {"alice"});
  ASSERT_TRUE(pki.ok()) << pki.status();
  const std::string& alice = pki->clients.at("alice").cert_pem;
  EXPECT_EQ(Verify(alice, pki->ca_pem, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(Verify(pki->server.cert_pem, pki->ca_pem, X509_PURPOSE_SSL_SERVER),
            X509_V_OK);
  // Each leaf is only good for its own role.
  EXPECT_NE(Verify(alice, pki->ca_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_NE(Verify(pki->server.cert_pem, pki->ca_pem, X509_PURPOSE_SSL_CLIENT),
            X509_V_OK);
  EXPECT_EQ(
      Verify(pki->rogue_client.cert_pem, pki->ca_pem, X509_PURPOSE_SSL_CLIENT),
      X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(Verify(pki->rogue_client.cert_pem, pki->rogue_ca_pem,
                   X509_PURPOSE_SSL_CLIENT),
            X509_V_OK);
}

TEST(TestPki, ServerCertificateNamesLocalhostAndLoopbackAddresses) {
  TempDir dir;
  absl::StatusOr<TestPki> pki = MakeTestPki(dir.path(), {});
  ASSERT_TRUE(pki.ok()) << pki.status();
  X509* server = ParseCert(pki->server.cert_pem);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(X509_check_host(server, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server, "::1", 0), 1);
  EXPECT_NE(X509_check_host(server, "example.com", 0, 0, nullptr), 1);
  X509_free(server);
}

TEST(TestPki, RejectsClientNamesThatAreNotPlainFileNames) {
  TempDir dir;
  for (const char* bad : {"", "../x", "a b", "rogue"}) {
    absl::StatusOr<TestPki> pki = MakeTestPki(dir.path(), {bad});
    EXPECT_EQ(pki.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace edgepass::testing
