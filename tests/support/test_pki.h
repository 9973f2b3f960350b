// A throwaway PKI for TLS and mTLS tests, made with the OpenSSL API (no
// `openssl` command): a CA, a server certificate for localhost, one client
// certificate per name, and a rogue CA with a client that no server trusts.
// Keys are EC P-256, certificates valid from one hour ago for 30 days.
//
//   TempDir dir;  // removed with everything in it when it goes
//   absl::StatusOr<TestPki> pki = MakeTestPki(dir.path(), {"alice", "bob"});
//   server_options.tls = {.cert_file = pki->server_cert_file, ...};
//   client_options.cert_file = pki->clients.at("alice").cert_file;
#ifndef EDGEPASS_TESTS_SUPPORT_TEST_PKI_H_
#define EDGEPASS_TESTS_SUPPORT_TEST_PKI_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/temp_dir.h"  // TempDir, for the files

namespace edgepass::testing {

// One certificate with its private key, as files and as PEM text.
struct TestCert {
  std::string name;       // the subject CN
  std::string cert_file;  // PEM certificate
  std::string key_file;   // PEM PKCS#8 private key, mode 0600
  std::string cert_pem;
  std::string key_pem;
};

struct TestPki {
  std::string dir;
  std::string ca_file;  // dir/ca.pem, CN=edgepass test CA
  std::string ca_pem;
  // dir/server.pem + server.key: CN=localhost, SAN DNS:localhost,
  // IP:127.0.0.1, IP:::1, EKU serverAuth, signed by the CA.
  TestCert server;
  // By name: dir/client-NAME.pem + .key, CN=NAME, EKU clientAuth, signed by
  // the CA.
  std::map<std::string, TestCert> clients;
  std::string rogue_ca_file;  // dir/rogue-ca.pem, CN=edgepass rogue CA
  std::string rogue_ca_pem;
  // dir/client-rogue.pem + .key: CN=rogue, EKU clientAuth, signed by the
  // rogue CA (so a server trusting ca.pem must reject it).
  TestCert rogue_client;
};

// Writes the files above into `dir` (created if missing; existing files are
// overwritten). Client names must be 1-64 characters of [A-Za-z0-9._-] and
// not "rogue": INVALID_ARGUMENT naming the bad name otherwise; INTERNAL when
// OpenSSL fails; the errno's code, naming the file, when a file cannot be
// written. Thread-safe (each call has its own keys).
absl::StatusOr<TestPki> MakeTestPki(
    const std::string& dir, const std::vector<std::string>& client_names);

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_SUPPORT_TEST_PKI_H_
