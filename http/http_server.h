// edgepass::http — a small, generic HTTP/1.1 server for edgepass's own
// endpoints (the validator sidecar's auth_request endpoint now, the REST
// gateway later). Handlers see plain Request/Response values
// (http_message.h) and never Boost.
//
//   absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(
//       {.host = "127.0.0.1", .port = 0}, [](const Request& r) { return
//       Response{}; });
//   std::cerr << "listening on " << (*server)->address() << "\n";  // later:
//   (*server)->Stop();
//
// HTTPS with client certificates: set ServerOptions::tls, e.g.
//   {.cert_file = "server.pem", .key_file = "server.key",
//    .client_ca_file = "clients-ca.pem",
//    .client_cert = TlsOptions::ClientCert::kRequire}
//
// Why Boost.Beast/Asio: it is fully asynchronous (N event loops, each run by
// one thread, no thread per connection), its parser enforces header and body
// limits before buffering (so a huge request costs a bounded amount of
// memory), and it adds no dependency beyond the Boost headers Debian ships
// (libboost-dev). Timeouts are one deadline timer per connection (slowloris
// connections are dropped); pipelined requests that arrive together are
// answered with one write. Beast is confined to http_server.cc (connections)
// and tls_context.cc (the TLS context).
#ifndef EDGEPASS_HTTP_HTTP_SERVER_H_
#define EDGEPASS_HTTP_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/http_message.h"

namespace edgepass::http {

// Called on a server thread for every complete request; must be thread-safe
// and should not block for long (it holds the event loop of its connection,
// shared with the other connections of that thread) unless
// ServerOptions::off_loop sends the request elsewhere. An exception
// escaping it becomes a 500 response.
using Handler = std::function<Response(const Request&)>;

// HTTPS (TLS 1.2 or later) and client certificates. Files are PEM and read
// once by Server::Start (see http/tls_files.h for the checks).
struct TlsOptions {
  enum class ClientCert {
    kNone,      // no client certificate asked for
    kOptional,  // asked for; one that does not verify fails the handshake
    kRequire,   // a connection without a verified one fails the handshake
  };
  std::string cert_file;       // empty: plain HTTP (then all else is unset)
  std::string key_file;        // required with cert_file
  std::string client_ca_file;  // required unless client_cert is kNone
  ClientCert client_cert = ClientCert::kNone;

  bool enabled() const { return !cert_file.empty(); }
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // an IP literal, or "localhost"
  uint16_t port = 0;               // 0: the OS picks one; see Server::port()
  int threads = 2;  // threads, each running its own event loop (and one more accepts)
  // Request line + header fields. Larger -> 431 and the connection closes.
  size_t max_header_bytes = 16 * 1024;
  // Request body. Larger (declared or sent) -> 413 and the connection closes.
  size_t max_body_bytes = 1024 * 1024;
  // From a request's first byte to its last; slower -> connection closed.
  // Also bounds the wait for a new connection's first request (after the TLS
  // handshake, itself under this): a client that connects and sends nothing
  // is closed after read_timeout, not idle_timeout.
  absl::Duration read_timeout = absl::Seconds(10);
  // Keep-alive wait for the next request's first byte after a response;
  // then closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  absl::Duration write_timeout = absl::Seconds(10);
  // Connections accepted beyond this are closed at once.
  size_t max_connections = 10000;
  // Stop() waits this long for requests in flight before cutting them off;
  // a handler running off the loop (below) is waited for however long it
  // takes (with run_off_loop, behind whatever the pool has queued).
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Requests for which this returns true (called on the loop, so it must be
  // quick) have their handler run on one of `blocking_threads` threads
  // instead of their connection's event loop: a handler that waits (on a
  // store, on other replicas) then holds up none of the loop's other
  // connections. Responses still go out in request order. Unset: every
  // handler runs on its loop.
  std::function<bool(const Request&)> off_loop;
  int blocking_threads = 8;
  // Runs those handlers instead of `blocking_threads` threads of the
  // server's own: a pool it shares with other transports, so that one bound
  // holds for all of them. Must run every task it is given, even while
  // Stop() waits for them.
  std::function<void(std::function<void()>)> run_off_loop;
  // Requests handed to those threads and not answered yet, at most; one more
  // gets 503 {"error": ...} with Retry-After: 1 at once, so a burst of them
  // (each holding its body) cannot grow without bound behind a slow store.
  size_t max_off_loop_requests = 1024;
  // Off by default. The TLS handshake runs under read_timeout; a verified
  // client certificate's CN is Request::peer_identity.
  TlsOptions tls;
};

struct ServerImpl;  // http_server.cc

// Malformed requests get 400 with {"error": "..."}; 431/413 as above; a
// response carries Connection: close when the client asked for it, after a
// protocol error, or while stopping. Thread-safe.
class Server {
 public:
  // Binds, listens and starts the threads. INVALID_ARGUMENT for a bad host or
  // option (a timeout that is not positive; TLS: inconsistent fields, a file
  // that is not PEM, a key that does not match the certificate), NOT_FOUND /
  // PERMISSION_DENIED for a TLS file that is missing / unreadable (the message
  // names field and path), UNAVAILABLE when the address cannot be bound (in
  // use, ...).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, Handler handler);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  // "HOST:PORT" ("[::1]:PORT" for IPv6) of the bound socket.
  std::string address() const;

  // Graceful: stops accepting, closes idle keep-alive connections, lets
  // requests in flight finish (with Connection: close) within
  // shutdown_grace, then joins the threads. Idempotent.
  void Stop();

 private:
  explicit Server(std::unique_ptr<ServerImpl> impl);
  std::unique_ptr<ServerImpl> impl_;
};

}  // namespace edgepass::http

#endif  // EDGEPASS_HTTP_HTTP_SERVER_H_
