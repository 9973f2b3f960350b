// FetchJwks over real loopback sockets: plain HTTP from edgepass::http, HTTPS
// from a small TLS server here whose CA and certificate are made at test time.
#include "server/auth/jwks_fetch.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "http/http_server.h"
#include "server/auth/oidc_verifier.h"
#include "tests/support/oidc_test_tokens.h"
#include "tests/support/test_process.h"

namespace edgepass::server {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::edgepass::testing::IdTokenClaims;
using ::edgepass::testing::JwksJson;
using ::edgepass::testing::OidcTestKey;

// ---- A throwaway PKI: one CA, one server certificate ----------------------

struct TestPki {
  std::string ca_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test PKI: %s failed\n", what);
    std::abort();
  }
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr && X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by issuer (self-signed when
// issuer_cert is null).
X509* MakeCert(EVP_PKEY* key, const char* cn, X509* issuer_cert, EVP_PKEY* issuer_key,
               long serial) {
  X509* cert = X509_new();
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* issuer = issuer_cert != nullptr ? issuer_cert : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  if (issuer_cert == nullptr) {
    AddExtension(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert, issuer, NID_ext_key_usage, "serverAuth");
    AddExtension(cert, issuer, NID_subject_alt_name, "DNS:jwks.test,IP:127.0.0.1");
  }
  Check(X509_sign(cert, issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string CertPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_X509(bio, cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string KeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

const TestPki& Pki() {
  static const TestPki* pki = [] {
    EVP_PKEY* ca_key = EVP_EC_gen("P-256");
    EVP_PKEY* server_key = EVP_EC_gen("P-256");
    Check(ca_key != nullptr && server_key != nullptr, "EVP_EC_gen");
    X509* ca = MakeCert(ca_key, "edgepass test CA", nullptr, ca_key, 1);
    X509* leaf = MakeCert(server_key, "jwks.test", ca, ca_key, 2);
    auto* out = new TestPki{CertPem(ca), CertPem(leaf), KeyPem(server_key)};
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(server_key);
    EVP_PKEY_free(ca_key);
    return out;
  }();
  return *pki;
}

// Serves `body` as JSON over TLS on 127.0.0.1, one connection at a time, on
// its own thread until destroyed. Connections whose handshake fails (the
// client refused the certificate) are counted and dropped.
class TlsJwksHost {
 public:
  explicit TlsJwksHost(std::string body)
      : body_(std::move(body)),
        acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
        tls_(net::ssl::context::tls_server) {
    tls_.use_certificate_chain(net::buffer(Pki().server_cert_pem));
    tls_.use_private_key(net::buffer(Pki().server_key_pem), net::ssl::context::pem);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TlsJwksHost() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int served() const { return served_; }
  int failed_handshakes() const { return failed_handshakes_; }

 private:
  void Loop() {
    while (true) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stop_) return;
      if (ec) continue;
      net::ssl::stream<tcp::socket&> stream(socket, tls_);
      stream.handshake(net::ssl::stream_base::server, ec);
      if (ec) {
        ++failed_handshakes_;
        continue;
      }
      std::string request;
      char buf[1024];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const size_t n = stream.read_some(net::buffer(buf), ec);
        if (ec) break;
        request.append(buf, n);
      }
      if (ec) continue;
      const std::string response = absl::StrCat(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ", body_.size(),
          "\r\nConnection: close\r\n\r\n", body_);
      net::write(stream, net::buffer(response), ec);
      stream.shutdown(ec);
      ++served_;
    }
  }

  const std::string body_;
  net::io_context io_;
  tcp::acceptor acceptor_;
  net::ssl::context tls_;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::atomic<int> failed_handshakes_{0};
  std::thread thread_;
};

const OidcTestKey& Key() {
  static const auto* key = new OidcTestKey("tls-key");
  return *key;
}

class JwksFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_file_ = dir_.path() + "/ca.pem";
    edgepass::testing::WriteFileOrDie(ca_file_, Pki().ca_pem);
  }
  edgepass::testing::TempDir dir_;
  std::string ca_file_;
};

TEST_F(JwksFetchTest, HttpsWithTheIssuingCaFetchesTheDocument) {
  TlsJwksHost host(JwksJson({&Key()}));
  const std::string url = absl::StrCat("https://127.0.0.1:", host.port(), "/jwks.json");
  absl::StatusOr<std::string> text = FetchJwks(url, {.ca_file = ca_file_});
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, JwksJson({&Key()}));

  // And end to end through the verifier.
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  absl::StatusOr<std::unique_ptr<OidcVerifier>> v =
      OidcVerifier::Create({.issuer = "https://idp.test",
                            .audiences = {"app"},
                            .jwks_source = url,
                            .jwks_ca_file = ca_file_},
                           [now] { return now; });
  ASSERT_TRUE(v.ok()) << v.status();
  absl::StatusOr<OidcIdentity> id =
      (*v)->Verify(Key().Mint(IdTokenClaims("https://idp.test", "app", now, {"gold"})));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->groups, std::vector<std::string>{"gold"});
  EXPECT_EQ(host.served(), 2);
}

TEST_F(JwksFetchTest, HttpsRefusesACertificateTheSystemStoreDoesNotTrust) {
  TlsJwksHost host(JwksJson({&Key()}));
  const std::string url = absl::StrCat("https://127.0.0.1:", host.port(), "/jwks.json");
  absl::StatusOr<std::string> text = FetchJwks(url, {});
  EXPECT_EQ(text.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StartsWith(text.status().message(),
                               absl::StrCat("jwks url ", url, ": TLS handshake: ")))
      << text.status();
  EXPECT_TRUE(absl::StrContains(text.status().message(), "certificate verify failed"))
      << text.status();
  EXPECT_EQ(host.served(), 0);
}

TEST_F(JwksFetchTest, HttpsRefusesACertificateForAnotherHost) {
  TlsJwksHost host(JwksJson({&Key()}));
  // The certificate names jwks.test and 127.0.0.1, not localhost.
  const std::string url = absl::StrCat("https://localhost:", host.port(), "/jwks.json");
  absl::StatusOr<std::string> text = FetchJwks(url, {.ca_file = ca_file_});
  EXPECT_EQ(text.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(text.status().message(), "TLS handshake: ")) << text.status();
  EXPECT_EQ(host.served(), 0);
}

TEST_F(JwksFetchTest, UnreadableCaFileIsAConfigurationError) {
  absl::StatusOr<std::string> text =
      FetchJwks("https://127.0.0.1:1/jwks.json", {.ca_file = dir_.path() + "/absent.pem"});
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(text.status().message(),
                                absl::StrCat("cannot load CA certificates from ", dir_.path())))
      << text.status();
}

TEST_F(JwksFetchTest, MalformedUrlsAreRefused) {
  struct Case {
    const char* url;
    const char* message;
  };
  const Case cases[] = {
      {"http://user:pw@127.0.0.1/jwks",
       "jwks url http://user:pw@127.0.0.1/jwks: user info is not supported"},
      {"http://127.0.0.1:99999/jwks", "jwks url http://127.0.0.1:99999/jwks: port must be 1-65535"},
      {"http://127.0.0.1:/jwks", "jwks url http://127.0.0.1:/jwks: port must be 1-65535"},
      {"http:///jwks", "jwks url http:///jwks: host is empty"},
      {"https://[::1/jwks", "jwks url https://[::1/jwks: unbalanced '[' in host"},
      {"http://a b/jwks", "jwks url http://a b/jwks: host has a character outside [A-Za-z0-9.-_:]"},
      {"ftp://idp.test/jwks",
       "jwks source ftp://idp.test/jwks: only http:// and https:// URLs are supported"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> text = FetchJwks(c.url, {});
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument) << c.url;
    EXPECT_EQ(text.status().message(), c.message);
  }
}

TEST_F(JwksFetchTest, PlainHttpIsRefusedOffLoopback) {
  for (const char* url :
       {"http://idp.example/jwks", "HTTP://192.0.2.1/jwks",
        "http://0.0.0.0:8080/jwks", "http://[::]/jwks",
        "http://[2001:db8::1]/jwks", "http://127.0.0.1.nip.io/jwks",
        "http://localhost.example/jwks", "http://[::ffff:192.0.2.1]/jwks"}) {
    const std::string message =
        absl::StrCat("jwks url ", url,
                     ": http:// is allowed on loopback only (127.0.0.0/8, ::1, "
                     "localhost); use https://");
    absl::Status checked = CheckJwksSource(url);
    EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(checked.message(), message);
    // Fetching refuses it too, before any connection.
    absl::StatusOr<std::string> text =
        FetchJwks(url, {.timeout = absl::Seconds(30)});
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(text.status().message(), message);
  }
  for (const char* source :
       {"http://127.0.0.1:8080/jwks", "http://127.200.0.1/jwks",
        "http://[::1]:80/jwks", "http://localhost/jwks",
        "http://LOCALHOST:9/jwks", "http://[::ffff:127.0.0.1]/jwks",
        "https://idp.example/jwks", "https://192.0.2.1/jwks",
        "/etc/edgepass/jwks.json"}) {
    EXPECT_TRUE(CheckJwksSource(source).ok())
        << source << ": " << CheckJwksSource(source);
  }
  EXPECT_EQ(CheckJwksSource("https://[::1/jwks").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(JwksFetchTest, HttpFailuresNameTheUrl) {
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::Start({}, [](const http::Request& request) {
        if (request.target == "/moved") {
          http::Response r;
          r.status = 302;
          r.headers.Add("Location", "http://127.0.0.1:1/jwks");
          return r;
        }
        return http::Response::Json(200, std::string(kMaxJwksBytes + 1, ' '));
      });
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base = absl::StrCat("http://127.0.0.1:", (*server)->port());

  absl::StatusOr<std::string> moved = FetchJwks(base + "/moved", {});
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(moved.status().message(),
            absl::StrCat("jwks url ", base, "/moved: HTTP status 302, want 200"));

  absl::StatusOr<std::string> huge = FetchJwks(base + "/huge", {});
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(huge.status().message(),
            absl::StrCat("jwks url ", base, "/huge: response larger than 262144 bytes"));

  const uint16_t closed = edgepass::testing::FreeLoopbackPort();
  const std::string refused_url = absl::StrCat("http://127.0.0.1:", closed, "/jwks");
  absl::StatusOr<std::string> refused = FetchJwks(refused_url, {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StartsWith(refused.status().message(),
                               absl::StrCat("jwks url ", refused_url, ": connect: ")))
      << refused.status();
}

TEST_F(JwksFetchTest, ASilentServerTimesOut) {
  // Listens (the kernel completes the TCP handshake) but never answers.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/jwks");

  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> text = FetchJwks(url, {.timeout = absl::Milliseconds(300)});
  const absl::Duration took = absl::Now() - start;
  close(fd);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(text.status().message(),
            absl::StrCat("jwks url ", url, ": read response: timed out after 300ms"));
  EXPECT_LT(took, absl::Seconds(3));
}

}  // namespace
}  // namespace edgepass::server
