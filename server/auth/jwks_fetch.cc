#include "server/auth/jwks_fetch.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/ip_address.h"
#include "files/atomic_file.h"
#include "text/host_port.h"

namespace edgepass::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kMaxResponseHeaderBytes = 16 * 1024;

struct Url {
  bool https = false;
  std::string host;         // without brackets
  std::string port;         // decimal
  std::string target;       // path and query, at least "/"
  std::string host_header;  // host[:port] as sent
};

absl::StatusOr<Url> ParseUrl(absl::string_view url) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("jwks url ", url, ": ", why));
  };
  Url out;
  absl::string_view rest = url;
  if (absl::StartsWithIgnoreCase(rest, "https://")) {
    out.https = true;
    rest.remove_prefix(8);
  } else if (absl::StartsWithIgnoreCase(rest, "http://")) {
    rest.remove_prefix(7);
  } else {
    return bad("must start with http:// or https://");
  }
  const size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  absl::string_view target = end == absl::string_view::npos ? "" : rest.substr(end);
  target = target.substr(0, target.find('#'));
  out.target = target.empty() || target[0] != '/' ? absl::StrCat("/", target) : std::string(target);
  for (char c : out.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("path has a space or control");
  }
  if (absl::StrContains(authority, '@')) return bad("user info is not supported");
  absl::StatusOr<text::HostPort> host_port =
      text::ParseHostPort(authority, {.min_port = 1, .port_optional = true});
  if (!host_port.ok()) return bad(host_port.status().message());
  for (char c : host_port->host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != ':' && c != '_') {
      return bad("host has a character outside [A-Za-z0-9.-_:]");
    }
  }
  out.host = std::move(host_port->host);
  out.port = absl::StrCat(host_port->port >= 0 ? host_port->port : out.https ? 443 : 80);
  out.host_header = std::string(authority);
  return out;
}

struct Exchange {
  const Url* url;
  size_t max_bytes;
  std::chrono::steady_clock::time_point deadline;
  net::ssl::context* tls;  // null for http
  const char* stage = "resolve";
  bool done = false;
  int status = 0;
  std::string body;
};

template <class Stream>
net::awaitable<void> GetOver(Stream& stream, Exchange& x) {
  bhttp::request<bhttp::empty_body> req(bhttp::verb::get, x.url->target, 11);
  req.set(bhttp::field::host, x.url->host_header);
  req.set(bhttp::field::user_agent, "edgepass-oidc");
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::connection, "close");
  x.stage = "send request";
  co_await bhttp::async_write(stream, req, net::use_awaitable);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(kMaxResponseHeaderBytes);
  parser.body_limit(x.max_bytes);
  x.stage = "read response";
  // Boost 1.74's parser forgets a body_limit error raised by Content-Length
  // when body bytes arrive in the same read as the header (eager parsing):
  // read the header alone, and check the declared and the received length.
  co_await bhttp::async_read_header(stream, buffer, parser, net::use_awaitable);
  if (parser.content_length().value_or(0) > x.max_bytes) {
    throw boost::system::system_error(bhttp::error::body_limit);
  }
  co_await bhttp::async_read(stream, buffer, parser, net::use_awaitable);
  x.status = static_cast<int>(parser.get().result_int());
  x.body = std::move(parser.get().body());
  if (x.body.size() > x.max_bytes) throw boost::system::system_error(bhttp::error::body_limit);
}

net::awaitable<void> Run(Exchange& x) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  const tcp::resolver::results_type endpoints =
      co_await resolver.async_resolve(x.url->host, x.url->port, net::use_awaitable);
  if (x.tls == nullptr) {
    beast::tcp_stream stream(executor);
    stream.expires_at(x.deadline);
    x.stage = "connect";
    co_await stream.async_connect(endpoints, net::use_awaitable);
    co_await GetOver(stream, x);
  } else {
    beast::ssl_stream<beast::tcp_stream> stream(executor, *x.tls);
    beast::get_lowest_layer(stream).expires_at(x.deadline);
    // SNI for names (never for IP literals); the certificate must name the host.
    boost::system::error_code ignored;
    net::ip::make_address(x.url->host, ignored);
    if (ignored && SSL_set_tlsext_host_name(stream.native_handle(), x.url->host.c_str()) != 1) {
      throw boost::system::system_error(boost::system::error_code(
          static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
    }
    stream.set_verify_mode(net::ssl::verify_peer);
    stream.set_verify_callback(net::ssl::host_name_verification(x.url->host));
    x.stage = "connect";
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, net::use_awaitable);
    x.stage = "TLS handshake";
    co_await stream.async_handshake(net::ssl::stream_base::client, net::use_awaitable);
    co_await GetOver(stream, x);
  }
  x.done = true;
}


absl::Status CheckTransport(absl::string_view source, const Url& url) {
  if (url.https || core::IsLoopbackHost(url.host)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "jwks url ", source,
      ": http:// is allowed on loopback only (127.0.0.0/8, ::1, localhost); "
      "use https://"));
}

absl::StatusOr<std::string> FetchUrl(absl::string_view source, const JwksFetchOptions& options) {
  absl::StatusOr<Url> url = ParseUrl(source);
  if (!url.ok()) return url.status();
  if (absl::Status s = CheckTransport(source, *url); !s.ok()) return s;
  auto unavailable = [&](absl::string_view why) {
    return absl::UnavailableError(absl::StrCat("jwks url ", source, ": ", why));
  };

  std::optional<net::ssl::context> tls;
  if (url->https) {
    tls.emplace(net::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    if (options.ca_file.empty()) {
      tls->set_default_verify_paths(ec);
    } else {
      tls->load_verify_file(options.ca_file, ec);
    }
    if (ec) {
      ::ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          "jwks url ", source, ": cannot load CA certificates from ",
          options.ca_file.empty() ? "the system store" : options.ca_file, ": ", ec.message()));
    }
  }

  Exchange x{
      .url = &*url,
      .max_bytes = options.max_bytes,
      .deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(options.timeout),
      .tls = tls ? &*tls : nullptr};
  std::string failure;
  absl::StatusCode failure_code = absl::StatusCode::kUnavailable;
  // Declared last so it goes first: an unfinished exchange (timeout) is torn
  // down while `x` and the handler's captures still exist.
  net::io_context io;
  net::co_spawn(io, Run(x), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const boost::system::system_error& error) {
      if (error.code() == bhttp::error::body_limit) {
        failure = absl::StrCat("response larger than ", options.max_bytes, " bytes");
        failure_code = absl::StatusCode::kFailedPrecondition;
      } else if (error.code() == beast::error::timeout) {
        failure =
            absl::StrCat(x.stage, ": timed out after ", absl::FormatDuration(options.timeout));
      } else {
        failure = absl::StrCat(x.stage, ": ", error.code().message());
      }
    } catch (const std::exception& error) {
      failure = absl::StrCat(x.stage, ": ", error.what());
    }
  });
  // The stream deadline covers connect to the last byte; this also bounds the
  // resolver (a name lookup that never answers).
  io.run_for(absl::ToChronoNanoseconds(options.timeout + absl::Milliseconds(100)));
  ::ERR_clear_error();
  if (!failure.empty()) {
    return absl::Status(failure_code, absl::StrCat("jwks url ", source, ": ", failure));
  }
  if (!x.done) {
    return unavailable(
        absl::StrCat(x.stage, ": timed out after ", absl::FormatDuration(options.timeout)));
  }
  if (x.status != 200) return unavailable(absl::StrCat("HTTP status ", x.status, ", want 200"));
  return std::move(x.body);
}

}  // namespace

bool IsJwksUrl(absl::string_view source) {
  return absl::StartsWithIgnoreCase(source, "http://") ||
         absl::StartsWithIgnoreCase(source, "https://");
}

absl::Status CheckJwksSource(absl::string_view source) {
  if (!IsJwksUrl(source)) return absl::OkStatus();
  absl::StatusOr<Url> url = ParseUrl(source);
  if (!url.ok()) return url.status();
  return CheckTransport(source, *url);
}

absl::StatusOr<std::string> FetchJwks(absl::string_view source, const JwksFetchOptions& options) {
  if (IsJwksUrl(source)) return FetchUrl(source, options);
  if (source.empty()) return absl::InvalidArgumentError("jwks source is empty");
  if (absl::StrContains(source, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("jwks source ", source, ": only http:// and https:// URLs are supported"));
  }
  absl::StatusOr<std::string> text =
      files::ReadFileToString(std::string(source));
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("jwks file: ", text.status().message()));
  }
  if (text->size() > options.max_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("jwks file ", source, ": larger than ", options.max_bytes, " bytes"));
  }
  return text;
}

}  // namespace edgepass::server
