#include "http/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "http/tls_context.h"
#include "text/host_port.h"

namespace edgepass::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

// A header name or value the serializer could not send safely (CR, LF, NUL
// would split or truncate the response).
constexpr size_t kFirstReadBytes = 4096;

bool IsSafeFieldText(absl::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

class SessionBase;
template <class Stream>
class Session;

struct ServerImpl {
  ServerOptions options;
  Handler handler;
  std::string bound_address;
  uint16_t bound_port = 0;
  // Set when options.tls is enabled; outlives the sessions (declared before
  // the io_context that owns them).
  std::unique_ptr<ssl::context> tls;

  // Declared before the io_context: sessions destroyed with its pending
  // handlers unregister themselves here.
  absl::Mutex mu;
  absl::flat_hash_map<SessionBase*, std::weak_ptr<SessionBase>> sessions
      ABSL_GUARDED_BY(mu);
  std::atomic<bool> stopping{false};
  bool stopped = false;  // guarded by stop_mu
  absl::Mutex stop_mu;

  // One event loop per thread (options.threads of them), each run by its
  // own thread: a connection lives on one loop, so handing its events over
  // takes no cross-thread wake-up. Connections are dealt out in turn.
  struct Worker {
    asio::io_context ioc{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
        work;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Worker>> workers;
  // The acceptor's own loop: a handler that takes long on a worker's loop
  // neither stops new connections reaching the others nor delays Stop()
  // closing the listening socket.
  Worker accept_loop;
  size_t next_worker = 0;  // the accept loop's only
  // Handlers of the requests options.off_loop picks, when the options name
  // no run_off_loop; joined by Stop() while the loops still run, since each
  // posts its response back to one.
  std::optional<asio::thread_pool> blocking;
  // The requests handed off the loop and not answered yet. Shared with each
  // of them, so that the last one may count itself out while Stop(), woken
  // by that, goes on to free the server.
  struct OffLoop {
    absl::Mutex mu;
    size_t requests ABSL_GUARDED_BY(mu) = 0;
    bool closed ABSL_GUARDED_BY(mu) = false;  // Stop() has begun: no more hand-offs
    // False when `max` requests wait already or Stop() has begun.
    bool TryAdd(size_t max) {
      absl::MutexLock lock(&mu);
      if (closed || requests >= max) return false;
      ++requests;
      return true;
    }
    void Done() {
      absl::MutexLock lock(&mu);
      --requests;
    }
    void Close() {
      absl::MutexLock lock(&mu);
      closed = true;
    }
    void AwaitNone() {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(
          +[](OffLoop* o) ABSL_EXCLUSIVE_LOCKS_REQUIRED(o->mu) { return o->requests == 0; }, this));
    }
  };
  std::shared_ptr<OffLoop> off_loop = std::make_shared<OffLoop>();
  void RunOffLoop(std::function<void()> task) {
    if (options.run_off_loop) {
      options.run_off_loop(std::move(task));
    } else {
      asio::post(*blocking, std::move(task));
    }
  }
  // Declared after the loops, so destroyed first.
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;

  // The workers' loops and the accept loop.
  std::vector<Worker*> Loops() {
    std::vector<Worker*> loops{&accept_loop};
    for (auto& worker : workers) loops.push_back(worker.get());
    return loops;
  }
  void Accept();
  void OnAccept(error_code ec, tcp::socket socket);
  template <class Stream>
  void StartSession(std::shared_ptr<Session<Stream>> session);
  size_t SessionCount() {
    absl::MutexLock lock(&mu);
    return sessions.size();
  }
};

// What Stop() needs of a connection, plain or TLS.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Called on any thread by Stop(): an idle connection (or one still in its
  // TLS handshake) is closed now; one with a request in flight closes after
  // its response. A connection is not idle once bytes of its next request
  // have arrived, read or still waiting in the socket (the loop may not
  // have read them yet), so a request already sent is answered.
  virtual void CloseIfIdle() = 0;
};

// One connection: (TLS handshake,) read requests, run the handler on each
// complete one, write the responses, and loop while keep-alive. Requests
// that arrived together (pipelined) are answered with one write. All of its
// handlers run on its worker's one thread. Stream is PlainStream or
// TlsStream.
template <class Stream>
class Session : public SessionBase,
                public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(tcp::socket socket, ServerImpl* server)
      : stream_(MakeStream(std::move(socket), server)),
        server_(server),
        timer_(Lowest().get_executor()) {}

  ~Session() override {
    absl::MutexLock lock(&server_->mu);
    server_->sessions.erase(this);
  }

  void Start() {
    asio::dispatch(Lowest().get_executor(),
                   [self = this->shared_from_this()] { self->Begin(); });
  }

  void CloseIfIdle() override {
    asio::post(Lowest().get_executor(), [self = this->shared_from_this()] {
      error_code ec;
      const size_t waiting = self->Lowest().socket().available(ec);
      // In a TLS handshake, bytes waiting are handshake, not a request.
      const bool handshaking = kTls && !self->tls_ready_;
      if (self->idle_ && (ec || waiting == 0 || handshaking)) self->CloseNow();
    });
  }

 private:
  static Stream MakeStream(tcp::socket socket, ServerImpl* server) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *server->tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    NewParser();
    if constexpr (kTls) {
      // A handshake that has not finished within read_timeout is dropped,
      // so slow or silent clients cannot hold connections.
      ExpireAfter(server_->options.read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) return self->CloseNow();
                                self->tls_ready_ = true;
                                self->peer_identity_ =
                                    PeerIdentity(self->stream_.native_handle());
                                self->ReadNext();
                              });
    } else {
      ReadNext();
    }
  }

  // Waits for the next request, or goes on with one already (partly) here.
  // Nothing is queued in out_ when this runs.
  void ReadNext() {
    if (server_->stopping.load()) return CloseAfterResponse();
    if (buffer_.size() > 0 || parser_->got_some()) {
      return ReadRequest();  // pipelined bytes already here
    }
    // Wait for the next request's first bytes: on a new connection under the
    // read timeout (a client that connects and sends nothing must not hold
    // the connection for the idle timeout), after a response under the
    // keep-alive idle timeout.
    idle_ = true;
    ExpireAfter(served_any_ ? server_->options.idle_timeout
                            : server_->options.read_timeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        [self = this->shared_from_this()](error_code ec, size_t n) {
          self->idle_ = false;
          if (ec) return self->OnReadError(ec);
          self->buffer_.commit(n);
          self->ReadRequest();
        });
  }

  // The request has started: the rest must arrive within read_timeout
  // (armed by ReadMore, when the rest is not here yet).
  void ReadRequest() {
    idle_ = false;
    request_started_ = std::chrono::steady_clock::now();
    Parse();
  }

  void NewParser() {
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    header_bytes_ = 0;
  }

  // Feeds the buffered bytes to the parser and answers every complete
  // request among them in turn (pipelined ones too), queuing the responses
  // in out_; then writes them all at once, or reads more of an incomplete
  // request. Beast 1.74 applies header_limit to the unparsed bytes of one
  // put only, so what the parser consumed before the header was done is
  // counted as well.
  void Parse() {
    while (true) {
      error_code ec;
      while (buffer_.size() > 0 && !parser_->is_done()) {
        const bool header_done = parser_->is_header_done();
        const size_t n = parser_->put(buffer_.data(), ec);
        // A put() stops right after the header, so what it consumed before
        // the header was done is all header.
        if (!header_done) header_bytes_ += n;
        buffer_.consume(n);
        if (ec == bhttp::error::need_more) {
          ec = {};
          break;
        }
        if (ec) return OnReadError(ec);
      }
      const size_t pending = parser_->is_header_done() ? 0 : buffer_.size();
      if (header_bytes_ + pending > server_->options.max_header_bytes) {
        return OnReadError(bhttp::error::header_limit);
      }
      if (!parser_->is_done()) break;
      switch (Handle()) {
        case Next::kClose:
          return Flush(/*close=*/true);
        case Next::kWait:
          return;  // the handler runs off the loop; Answered() goes on
        case Next::kRead:
          break;
      }
      if (buffer_.size() == 0) break;
    }
    if (!out_.empty()) return Flush(/*close=*/false);
    ReadMore();
  }

  // More bytes of the request under way, within read_timeout of its start.
  void ReadMore() {
    ExpireAt(request_started_ + ToChrono(server_->options.read_timeout));
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        [self = this->shared_from_this()](error_code ec, size_t n) {
          if (ec) return self->OnReadError(ec);
          self->buffer_.commit(n);
          self->Parse();
        });
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return Fail(Response::Error(431, "request header fields too large"));
    }
    if (ec == bhttp::error::body_limit) {
      return Fail(Response::Error(413, "request body too large"));
    }
    if (ec.category() ==
            bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message && ec != bhttp::error::need_more &&
        ec != bhttp::error::need_buffer) {
      // A protocol error: the stream cannot be resynchronized.
      return Fail(Response::Error(
          400, absl::StrCat("malformed request: ", ec.message())));
    }
    // end of stream, timeout (tcp_stream closed the socket), reset, abort,
    // a TLS error. Responses already queued are dropped with the connection.
    CloseNow();
  }

  // The request cannot be read on: answer it (after any queued responses)
  // and close.
  void Fail(Response response) {
    AppendResponse(std::move(response), false, 11, false);
    Flush(/*close=*/true);
  }

  enum class Next {
    kRead,   // the response is queued; read on
    kClose,  // the response is queued; close after it
    kWait,   // the handler runs on the blocking pool
  };

  // Runs the handler on the parsed request and queues its response, or
  // hands the request to the blocking pool (options.off_loop): then nothing
  // more is read or written on this connection until it has answered.
  Next Handle() {
    served_any_ = true;
    bhttp::request<bhttp::string_body>& req = parser_->get();
    Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      request.headers.Add(std::string(field.name_string()),
                          std::string(field.value()));
    }
    request.body = std::move(req.body());
    if (remote_address_.empty()) {  // once per connection, not per request
      error_code ec;
      tcp::endpoint peer = Lowest().socket().remote_endpoint(ec);
      if (!ec) remote_address_ = peer.address().to_string();
    }
    request.remote_address = remote_address_;
    request.peer_identity = peer_identity_;

    const bool head = req.method() == bhttp::verb::head;
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    if (server_->options.off_loop && server_->options.off_loop(request)) {
      const std::shared_ptr<ServerImpl::OffLoop>& off_loop = server_->off_loop;
      if (!off_loop->TryAdd(server_->options.max_off_loop_requests)) {
        const bool stopping = server_->stopping.load();
        Response busy = Response::Error(503, stopping ? "the server is stopping" : "too many requests waiting; retry");
        busy.headers.Add("Retry-After", "1");
        return Answered(std::move(busy), keep_alive, version, head) ? Next::kRead : Next::kClose;
      }
      request.off_loop = true;
      server_->RunOffLoop([self = this->shared_from_this(), off_loop, request = std::move(request), keep_alive,
                           version, head]() mutable {
        Response response = self->Run(request);
        asio::post(self->Lowest().get_executor(),
                   [self, response = std::move(response), keep_alive, version, head]() mutable {
                     if (!self->Answered(std::move(response), keep_alive, version, head)) {
                       return self->Flush(/*close=*/true);
                     }
                     self->Parse();  // requests pipelined behind it, then the write
                   });
        // Nothing of the server is touched after Done(): Stop() may free it then.
        self.reset();
        request = Request();
        off_loop->Done();
      });
      // No deadline while the handler runs (the connection neither reads nor
      // writes): the read's would cut a handler that takes longer than
      // read_timeout. Answered() and what follows set the next one.
      ExpireAt(std::chrono::steady_clock::time_point::max());
      return Next::kWait;
    }
    return Answered(Run(request), keep_alive, version, head) ? Next::kRead : Next::kClose;
  }

  Response Run(const Request& request) {
    try {
      return server_->handler(request);
    } catch (...) {
      return Response::Error(500, "internal error");
    }
  }

  // Queues the response to the request just parsed (keep-alive when the
  // client asked and the server is not stopping) and readies the parser for
  // the next one. False when the connection closes after it.
  bool Answered(Response response, bool client_keep_alive, unsigned version, bool head) {
    const bool keep_alive = client_keep_alive && !server_->stopping.load();
    AppendResponse(std::move(response), keep_alive, version, head);
    NewParser();
    // A pipelined request behind this one starts now for the read timeout,
    // not when the batch arrived (the handler may have blocked).
    request_started_ = std::chrono::steady_clock::now();
    return keep_alive;
  }

  // Serializes a response at the end of out_, as Beast's serializer would
  // for a string body: status line, Server, the handler's fields in order,
  // Content-Length, and Connection when keep-alive differs from the
  // version's default.
  void AppendResponse(Response response, bool keep_alive, unsigned version,
                      bool head) {
    bool valid = response.status >= 100 && response.status <= 999;
    for (const auto& [name, value] : response.headers.fields()) {
      if (name.empty() || !IsSafeFieldText(name) || !IsSafeFieldText(value))
        valid = false;
    }
    if (!valid)
      response = Response::Error(500, "handler produced an invalid response");
    const int status = response.status;
    const bool http10 = version == 10;
    const beast::string_view reason = bhttp::obsolete_reason(
        bhttp::int_to_status(static_cast<unsigned>(status)));
    absl::StrAppend(&out_, http10 ? "HTTP/1.0 " : "HTTP/1.1 ", status, " ",
                    absl::string_view(reason.data(), reason.size()),
                    "\r\nServer: edgepass\r\n");
    for (const auto& [name, value] : response.headers.fields()) {
      absl::StrAppend(&out_, name, ": ", value, "\r\n");
    }
    if (status >= 200 && status != 204 && status != 304) {
      absl::StrAppend(&out_, "Content-Length: ", response.body.size(), "\r\n");
    }
    if (http10 && keep_alive) {
      out_ += "Connection: keep-alive\r\n";
    } else if (!http10 && !keep_alive) {
      out_ += "Connection: close\r\n";
    }
    out_ += "\r\n";
    if (!head) out_ += response.body;
  }

  // Writes the queued responses in one go; then closes, or reads on. Over
  // plain TCP a write that the socket takes at once needs no timer and no
  // trip through the event loop.
  void Flush(bool close) {
    size_t written = 0;
    if constexpr (!kTls) {
      error_code ec;
      tcp::socket& socket = Lowest().socket();
      if (!socket.non_blocking()) socket.non_blocking(true, ec);
      if (!ec) written = socket.write_some(asio::buffer(out_), ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return CloseNow();
      if (written == out_.size()) {
        out_.clear();
        return AfterWrite(close);
      }
    }
    ExpireAfter(server_->options.write_timeout);
    asio::async_write(
        stream_, asio::buffer(out_) + written,
        [self = this->shared_from_this(), close](error_code ec, size_t) {
          self->out_.clear();
          if (ec) return self->CloseNow();
          self->AfterWrite(close);
        });
  }

  void AfterWrite(bool close) {
    if (close) return CloseAfterResponse();
    ReadNext();
  }

  // The connection closes at `deadline` unless a later one is set first.
  // One timer per connection, moved only when a deadline comes earlier than
  // the one it is set for (or when it fires early): the usual request, read
  // whole and answered at once, arms nothing. (beast::tcp_stream's own
  // timeouts, one timer wait per operation, stay off.)
  void ExpireAt(std::chrono::steady_clock::time_point deadline) {
    deadline_ = deadline;
    if (timer_armed_ && timer_.expiry() <= deadline) return;
    timer_armed_ = true;
    timer_.expires_at(deadline);
    timer_.async_wait([weak = this->weak_from_this()](error_code ec) {
      std::shared_ptr<Session> self = weak.lock();
      if (self == nullptr || ec == asio::error::operation_aborted) return;
      self->timer_armed_ = false;
      if (std::chrono::steady_clock::now() >= self->deadline_) return self->CloseNow();
      self->ExpireAt(self->deadline_);
    });
  }
  void ExpireAfter(absl::Duration timeout) {
    ExpireAt(std::chrono::steady_clock::now() + ToChrono(timeout));
  }

  // After a complete response, with no read pending: over TLS, send
  // close_notify first (without waiting for the peer's), so the client can
  // tell a clean end from a truncation.
  void CloseAfterResponse() {
    if constexpr (kTls) {
      if (tls_ready_) {
        tls_ready_ = false;
        SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
        ExpireAfter(server_->options.write_timeout);
        stream_.async_shutdown([self = this->shared_from_this()](error_code) {
          self->CloseNow();
        });
        return;
      }
    }
    CloseNow();
  }

  void CloseNow() {
    error_code ec;
    timer_.cancel();
    timer_armed_ = false;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().socket().close(ec);
  }

  Stream stream_;
  ServerImpl* server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string out_;  // responses serialized, not yet written
  asio::steady_timer timer_;  // see ExpireAt
  bool timer_armed_ = false;  // a wait is pending on timer_
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point request_started_;
  std::string peer_identity_;  // CN of the verified client certificate
  bool tls_ready_ = false;     // handshake done, no close_notify sent yet
  bool idle_ = true;  // waiting for a request's first byte (loop thread only)
  std::string remote_address_;  // the peer's, read at the first request
  bool served_any_ = false;  // a request was handled: keep-alive from now on
  size_t header_bytes_ =
      0;  // consumed by the parser before the header was done
};

template <class Stream>
void ServerImpl::StartSession(std::shared_ptr<Session<Stream>> session) {
  {
    absl::MutexLock lock(&mu);
    sessions.emplace(session.get(), session);
  }
  session->Start();
}

void ServerImpl::Accept() {
  Worker& worker = *workers[next_worker++ % workers.size()];
  // The connection's handlers need no strand: one thread runs its loop.
  acceptor->async_accept(worker.ioc.get_executor(),
                        [this](error_code ec, tcp::socket socket) {
                          OnAccept(ec, std::move(socket));
                        });
}

void ServerImpl::OnAccept(error_code ec, tcp::socket socket) {
  if (stopping.load() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: back off briefly instead of spinning.
    accept_retry->expires_after(std::chrono::milliseconds(50));
    accept_retry->async_wait([this](error_code wait_ec) {
      if (!wait_ec && !stopping.load()) Accept();
    });
    return;
  }
  if (SessionCount() >= options.max_connections) {
    error_code ignored;
    socket.close(ignored);
  } else if (tls != nullptr) {
    StartSession(std::make_shared<Session<TlsStream>>(std::move(socket), this));
  } else {
    StartSession(
        std::make_shared<Session<PlainStream>>(std::move(socket), this));
  }
  Accept();
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, Handler handler) {
  if (!handler) return absl::InvalidArgumentError("http server: no handler");
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError(
        "http server: threads must be in [1, 256]");
  }
  if (options.off_loop && (options.blocking_threads < 1 || options.blocking_threads > 256 ||
                           options.max_off_loop_requests < 1)) {
    return absl::InvalidArgumentError(
        "http server: blocking_threads must be in [1, 256] and max_off_loop_requests at least 1");
  }
  if (options.max_header_bytes < 256 ||
      options.max_header_bytes > (64u << 20)) {
    return absl::InvalidArgumentError(
        "http server: max_header_bytes must be in [256, 64 MiB]");
  }
  for (const auto& [name, value] : {std::pair<const char*, absl::Duration>{
                                        "read_timeout", options.read_timeout},
                                    {"idle_timeout", options.idle_timeout},
                                    {"write_timeout", options.write_timeout}}) {
    if (value <= absl::ZeroDuration() || value == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("http server: ", name, " must be a positive duration"));
    }
  }
  error_code ec;
  const std::string host =
      options.host == "localhost" ? "127.0.0.1" : options.host;
  asio::ip::address ip = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "http server: host '", options.host, "' is not an IP address"));
  }

  auto impl = std::make_unique<ServerImpl>();
  absl::StatusOr<std::unique_ptr<ssl::context>> tls =
      MakeServerTlsContext(options.tls);
  if (!tls.ok()) return tls.status();
  impl->tls = std::move(*tls);  // nullptr: plain HTTP
  impl->options = options;
  impl->handler = std::move(handler);
  if (options.off_loop && !options.run_off_loop) impl->blocking.emplace(static_cast<size_t>(options.blocking_threads));
  tcp::endpoint endpoint(ip, options.port);
  for (int i = 0; i < options.threads; ++i) {
    impl->workers.push_back(std::make_unique<ServerImpl::Worker>());
  }
  impl->acceptor.emplace(impl->accept_loop.ioc);
  impl->accept_retry.emplace(impl->acceptor->get_executor());
  tcp::acceptor& acceptor = *impl->acceptor;
  auto fail = [&](absl::string_view what) {
    return absl::UnavailableError(absl::StrCat("http server: ", what, " ", host,
                                               ":", options.port, ": ",
                                               ec.message()));
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec))
    return fail("setsockopt");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec))
    return fail("listen");
  tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname");
  impl->bound_port = local.port();
  impl->bound_address = text::JoinHostPort(ip.to_string(), local.port());

  for (ServerImpl::Worker* loop : impl->Loops()) {
    loop->work.emplace(loop->ioc.get_executor());
  }
  impl->Accept();
  for (ServerImpl::Worker* loop : impl->Loops()) {
    loop->thread = std::thread([ioc = &loop->ioc] { ioc->run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<ServerImpl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

uint16_t Server::port() const { return impl_->bound_port; }

std::string Server::address() const { return impl_->bound_address; }

void Server::Stop() {
  absl::MutexLock stop_lock(&impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping.store(true);

  // Closed on the accept loop (the acceptor is not thread-safe), which no
  // handler blocks; waited for, so that every connection accepted before is
  // among the sessions below and none is accepted after, and so that the
  // close runs before the loops stop.
  auto closed = std::make_shared<absl::Notification>();
  asio::post(impl_->acceptor->get_executor(), [impl = impl_.get(), closed] {
    error_code ec;
    impl->acceptor->close(ec);
    impl->accept_retry->cancel();
    closed->Notify();
  });
  closed->WaitForNotificationWithTimeout(impl_->options.shutdown_grace);
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    absl::MutexLock lock(&impl_->mu);
    for (auto& [ptr, weak] : impl_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->CloseIfIdle();
  live.clear();

  // Requests in flight finish (their responses say Connection: close).
  auto all_closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl_->mu) {
    return impl_->sessions.empty();
  };
  {
    absl::MutexLock lock(&impl_->mu);
    impl_->mu.AwaitWithTimeout(absl::Condition(&all_closed),
                               impl_->options.shutdown_grace);
  }
  // A handler still running off the loop finishes, and its response (posted
  // to a loop) goes out before the loops stop.
  // None is handed off after this (a request read meanwhile gets 503).
  if (impl_->options.off_loop) {
    impl_->off_loop->Close();
    if (impl_->blocking) impl_->blocking->join();
    impl_->off_loop->AwaitNone();
    absl::MutexLock lock(&impl_->mu);
    impl_->mu.AwaitWithTimeout(absl::Condition(&all_closed), impl_->options.shutdown_grace);
  }
  for (ServerImpl::Worker* loop : impl_->Loops()) {
    loop->work.reset();
    loop->ioc.stop();
  }
  for (ServerImpl::Worker* loop : impl_->Loops()) {
    if (loop->thread.joinable()) loop->thread.join();
  }
}

}  // namespace edgepass::http
