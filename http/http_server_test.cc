// edgepass::http::Server over real loopback sockets.
#include "http/http_server.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "http/http_test_client.h"
#include "nlohmann/json.hpp"

namespace edgepass::http {
namespace {

using testing::Fetch;
using testing::TestConnection;
using testing::TestResponse;

// Echoes "METHOD TARGET" and the X-Probe header (looked up in lower case).
Response Echo(const Request& request) {
  Response r;
  r.headers.Add("Content-Type", "text/plain");
  const std::string* probe = request.headers.Find("x-probe");
  r.body = absl::StrCat(request.method, " ", request.target,
                        probe ? " " + *probe : "",
                        request.body.empty() ? "" : " body=" + request.body);
  return r;
}

std::unique_ptr<Server> StartServer(ServerOptions options = {},
                                    Handler handler = Echo) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

std::string Get(absl::string_view target, absl::string_view extra = "") {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n", extra,
                      "\r\n");
}

TEST(HttpServer, BindsPortZeroAndReportsThePort) {
  std::unique_ptr<Server> server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->address(), absl::StrCat("127.0.0.1:", server->port()));
}

TEST(HttpServer, RefusesBadHostAndBusyPort) {
  EXPECT_EQ(Server::Start({.host = "not-an-ip"}, Echo).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::unique_ptr<Server> first = StartServer();
  ASSERT_NE(first, nullptr);
  // reuse_address does not allow two listeners on one port.
  EXPECT_EQ(Server::Start({.port = first->port()}, Echo).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::unique_ptr<Server> server = StartServer();
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        conn->Send(Get(absl::StrCat("/n/", i, "?q=1"), "X-PROBE: p\r\n")));
    std::optional<TestResponse> r = conn->ReadResponse();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, absl::StrCat("GET /n/", i, "?q=1 p"));
  }
  // Two pipelined requests are answered in order.
  ASSERT_TRUE(conn->Send(Get("/a") + Get("/b")));
  EXPECT_EQ(conn->ReadResponse()->body, "GET /a");
  EXPECT_EQ(conn->ReadResponse()->body, "GET /b");
  // Connection: close is honoured.
  ASSERT_TRUE(conn->Send(Get("/last", "Connection: close\r\n")));
  std::optional<TestResponse> r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "GET /last");
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(5)));
}

TEST(HttpServer, PassesTheBodyUpToTheLimit) {
  std::unique_ptr<Server> server = StartServer({.max_body_bytes = 16});
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Send(
      "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  std::optional<TestResponse> r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "POST /p body=hello");
}

TEST(HttpServer, TooLargeBodyGets413AndClose) {
  std::unique_ptr<Server> server = StartServer({.max_body_bytes = 16});
  ASSERT_NE(server, nullptr);
  // Declared too large: refused before the body is read.
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Send(
      "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n"));
  std::optional<TestResponse> r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(5)));
  // Chunked, growing past the limit.
  conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  conn->Send(
      "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
  r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
}

TEST(HttpServer, TooLargeHeaderGets431) {
  std::unique_ptr<Server> server = StartServer({.max_header_bytes = 4096});
  ASSERT_NE(server, nullptr);
  for (const std::string& request :
       {Get("/", absl::StrCat("X-Big: ", std::string(8000, 'a'), "\r\n")),
        Get(absl::StrCat("/", std::string(8000, 'u'))), Get("/", [] {
          std::string many;
          for (int i = 0; i < 500; ++i)
            absl::StrAppend(&many, "X-H", i, ": v\r\n");
          return many;
        }())}) {
    auto conn = TestConnection::Connect(server->port());
    ASSERT_NE(conn, nullptr);
    conn->Send(request);
    std::optional<TestResponse> r = conn->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 431) << request.size();
    EXPECT_TRUE(conn->WaitForClose(absl::Seconds(5)));
  }
  // Still serving.
  EXPECT_EQ(Fetch(server->port(), "GET", "/ok")->status, 200);
}

TEST(HttpServer, MalformedRequestsGet400WithJsonError) {
  std::unique_ptr<Server> server = StartServer();
  ASSERT_NE(server, nullptr);
  for (absl::string_view bad : std::vector<absl::string_view>{
           "GARBAGE\r\n\r\n",
           "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
           "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: "
           "2\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
           "chunked\r\n\r\nzz\r\n",
           absl::string_view("GET /\0 HTTP/1.1\r\n\r\n", 20),
       }) {
    auto conn = TestConnection::Connect(server->port());
    ASSERT_NE(conn, nullptr);
    conn->Send(bad);
    std::optional<TestResponse> r = conn->ReadResponse();
    ASSERT_TRUE(r.has_value()) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r->body;
    EXPECT_TRUE(body["error"].is_string()) << r->body;
    EXPECT_TRUE(conn->WaitForClose(absl::Seconds(5)));
  }
  EXPECT_EQ(Fetch(server->port(), "GET", "/ok")->status, 200);
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  std::unique_ptr<Server> server =
      StartServer({.idle_timeout = absl::Milliseconds(100)});
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  conn->Send(Get("/one"));
  ASSERT_TRUE(conn->ReadResponse().has_value());
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(10)));
}

TEST(HttpServer, SilentConnectionIsClosedAfterTheReadTimeout) {
  // Connects and never sends a byte: closed after read_timeout, not held for
  // the (long) idle timeout.
  std::unique_ptr<Server> server =
      StartServer({.read_timeout = absl::Milliseconds(300),
                   .idle_timeout = absl::Seconds(60)});
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(2)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
}

TEST(HttpServer, KeptAliveConnectionWaitsTheIdleTimeoutNotTheReadTimeout) {
  std::unique_ptr<Server> server =
      StartServer({.read_timeout = absl::Milliseconds(200),
                   .idle_timeout = absl::Milliseconds(1500)});
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  conn->Send(Get("/one"));
  ASSERT_TRUE(conn->ReadResponse().has_value());
  // Idle past the read timeout but within the idle one: still open and
  // serving.
  EXPECT_FALSE(conn->WaitForClose(absl::Milliseconds(600)));
  conn->Send(Get("/two"));
  std::optional<TestResponse> two = conn->ReadResponse();
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->body, "GET /two");
  // Then idle past the idle timeout: closed.
  const absl::Time start = absl::Now();
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(10)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1000));
}

TEST(HttpServer, RefusesTimeoutsThatAreNotPositive) {
  for (ServerOptions options :
       {ServerOptions{.read_timeout = absl::ZeroDuration()},
        ServerOptions{.idle_timeout = absl::Seconds(-1)},
        ServerOptions{.write_timeout = absl::InfiniteDuration()}}) {
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Start(options, Echo);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(absl::StrContains(
      Server::Start({.idle_timeout = absl::ZeroDuration()}, Echo)
          .status()
          .message(),
      "idle_timeout"));
}

TEST(HttpServer, SlowRequestIsClosedAfterReadTimeout) {
  std::unique_ptr<Server> server =
      StartServer({.read_timeout = absl::Milliseconds(150),
                   .idle_timeout = absl::Seconds(60)});
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  // A slowloris client: the request starts and never ends.
  conn->Send("GET / HTTP/1.1\r\nHost: x\r\n");
  conn->Send("X-A: 1\r\n");
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(10)));
}

TEST(HttpServer, ServesConcurrentClients) {
  std::unique_ptr<Server> server = StartServer({.threads = 2});
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 8, kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto conn = TestConnection::Connect(server->port());
      if (conn == nullptr) return;
      for (int i = 0; i < kRequests; ++i) {
        const std::string target = absl::StrCat("/c", c, "/", i);
        if (!conn->Send(Get(target))) return;
        std::optional<TestResponse> r = conn->ReadResponse();
        if (r && r->status == 200 && r->body == "GET " + target) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
}

TEST(HttpServer, HandlerFailuresBecome500) {
  std::unique_ptr<Server> server =
      StartServer({}, [](const Request& r) -> Response {
        if (r.target == "/throw") throw std::runtime_error("boom");
        Response bad;
        bad.headers.Add("X-Injected", "a\r\nSet-Cookie: x=y");
        return bad;
      });
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Fetch(server->port(), "GET", "/throw")->status, 500);
  std::optional<TestResponse> r = Fetch(server->port(), "GET", "/crlf");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->Header("Set-Cookie"), nullptr);
}

TEST(HttpServer, StopClosesIdleConnectionsAndStopsAccepting) {
  std::unique_ptr<Server> server = StartServer();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  auto conn = TestConnection::Connect(port);
  ASSERT_NE(conn, nullptr);
  conn->Send(Get("/x"));
  ASSERT_TRUE(conn->ReadResponse().has_value());
  server->Stop();
  EXPECT_TRUE(conn->WaitForClose(absl::Seconds(5)));
  EXPECT_EQ(TestConnection::Connect(port), nullptr);
  server->Stop();  // idempotent
}

TEST(HttpServer, ASlowHandlerOnOneLoopDoesNotStopAccepting) {
  std::atomic<bool> entered{false}, release{false};
  std::unique_ptr<Server> server = StartServer({.threads = 2}, [&](const Request& request) {
    if (request.target == "/slow") {
      entered = true;
      while (!release.load()) std::this_thread::yield();
    }
    return Echo(request);
  });
  ASSERT_NE(server, nullptr);
  absl::Cleanup unblock = [&] { release = true; };  // before ~Server, even on failure
  auto slow = TestConnection::Connect(server->port());
  ASSERT_NE(slow, nullptr);
  slow->Send(Get("/slow"));
  while (!entered.load()) std::this_thread::yield();
  // The first connection's loop is busy in the handler; accepting goes on,
  // and the next connection, dealt to the other loop, is served.
  std::optional<TestResponse> fast = Fetch(server->port(), "GET", "/fast", {}, absl::Seconds(5));
  ASSERT_TRUE(fast.has_value()) << "not answered while the other loop is busy";
  EXPECT_EQ(fast->body, "GET /fast");
  release = true;
  std::optional<TestResponse> r = slow->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "GET /slow");
}

// A server whose handler for "/wait" runs off the loop and waits until
// Release() (or the end of the test, even a failed one); every other
// request is echoed on its loop. Counts the requests whose
// Request::off_loop says otherwise.
struct WaitingServer {
  explicit WaitingServer(ServerOptions options) {
    options.off_loop = [](const Request& request) { return request.target == "/wait"; };
    server = StartServer(options, [this](const Request& request) {
      if (request.off_loop != (request.target == "/wait")) ++misflagged;
      if (request.target == "/wait") {
        ++waiting;
        while (!released.load()) std::this_thread::yield();
      }
      return Echo(request);
    });
  }
  ~WaitingServer() {
    Release();  // before the server stops: Stop() waits for the handlers
    server.reset();
  }
  // False when fewer than `n` handlers are waiting after 10 s.
  bool AwaitWaiting(int n) const {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (waiting.load() < n && absl::Now() < deadline) std::this_thread::yield();
    return waiting.load() >= n;
  }
  void Release() { released = true; }

  std::atomic<int> waiting{0};
  std::atomic<int> misflagged{0};
  std::atomic<bool> released{false};
  std::unique_ptr<Server> server;
};

// The read's deadline does not cut a handler that runs off the loop for
// longer than read_timeout, on a new connection or a kept-alive one.
TEST(HttpServer, AHandlerOffTheLoopMayTakeLongerThanTheReadTimeout) {
  ServerOptions options{.read_timeout = absl::Milliseconds(200)};
  options.off_loop = [](const Request&) { return true; };
  std::unique_ptr<Server> server = StartServer(options, [](const Request& request) {
    absl::SleepFor(absl::Milliseconds(600));
    return Echo(request);
  });
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  for (const char* target : {"/first", "/second"}) {
    conn->Send(Get(target));
    std::optional<TestResponse> r = conn->ReadResponse(absl::Seconds(5));
    ASSERT_TRUE(r.has_value()) << target << ": the connection was cut while the handler ran";
    EXPECT_EQ(r->body, absl::StrCat("GET ", target));
  }
}

// Requests waiting off the loop are bounded: one more is refused at once.
TEST(HttpServer, RequestsWaitingOffTheLoopAreBounded) {
  WaitingServer waiting({.blocking_threads = 1, .max_off_loop_requests = 2});
  ASSERT_NE(waiting.server, nullptr);
  const uint16_t port = waiting.server->port();
  auto running = TestConnection::Connect(port);
  auto queued = TestConnection::Connect(port);
  ASSERT_NE(running, nullptr);
  ASSERT_NE(queued, nullptr);
  running->Send(Get("/wait"));
  ASSERT_TRUE(waiting.AwaitWaiting(1));
  queued->Send(Get("/wait"));  // the one thread is busy: queued, the second
  absl::SleepFor(absl::Milliseconds(100));
  std::optional<TestResponse> refused = Fetch(port, "GET", "/wait", {}, absl::Seconds(5));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(*refused->Header("Retry-After"), "1");
  // Requests that stay on the loop are not counted.
  std::optional<TestResponse> fast = Fetch(port, "GET", "/fast", {}, absl::Seconds(5));
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->status, 200);
  waiting.Release();
  for (auto* conn : {running.get(), queued.get()}) {
    std::optional<TestResponse> r = conn->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "GET /wait");
  }
  // Answered ones no longer count.
  std::optional<TestResponse> again = Fetch(port, "GET", "/wait", {}, absl::Seconds(5));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, 200);
}

// Stop() with a request in flight, its handler on the loop or (off_loop)
// on the blocking pool: the handler finishes and its response goes out,
// saying Connection: close.
void ExpectStopLetsARequestInFlightFinish(ServerOptions options) {
  std::atomic<bool> entered{false}, release{false};
  std::unique_ptr<Server> server = StartServer(options, [&](const Request&) {
    entered = true;
    while (!release.load()) std::this_thread::yield();
    Response r;
    r.body = "done";
    return r;
  });
  ASSERT_NE(server, nullptr);
  auto conn = TestConnection::Connect(server->port());
  ASSERT_NE(conn, nullptr);
  conn->Send(Get("/slow"));
  while (!entered.load()) std::this_thread::yield();
  const uint16_t port = server->port();
  std::thread stopper([&] { server->Stop(); });
  // Once new connections are refused, Stop() has begun.
  while (TestConnection::Connect(port) != nullptr) std::this_thread::yield();
  release = true;
  std::optional<TestResponse> r = conn->ReadResponse();
  stopper.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(*r->Header("Connection"), "close");
}

TEST(HttpServer, StopLetsARequestInFlightFinish) { ExpectStopLetsARequestInFlightFinish({}); }

TEST(HttpServer, StopWaitsForAHandlerRunningOffTheLoop) {
  ServerOptions options;
  options.off_loop = [](const Request&) { return true; };
  ExpectStopLetsARequestInFlightFinish(options);
}

// run_off_loop: the handler runs on the caller's threads (a pool shared
// with other transports), and Stop() waits for it all the same; the task
// touches nothing of the server after Stop() has returned (the sanitizer
// build checks).
TEST(HttpServer, StopWaitsForAHandlerRunOnThreadsOfTheCaller) {
  absl::Mutex mu;
  std::vector<std::thread> threads;  // joined after the server is gone
  ServerOptions options;
  options.off_loop = [](const Request&) { return true; };
  options.run_off_loop = [&](std::function<void()> task) {
    absl::MutexLock lock(&mu);
    threads.emplace_back(std::move(task));
  };
  ExpectStopLetsARequestInFlightFinish(options);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(threads.size(), 1u);
  for (std::thread& t : threads) t.join();
}

// A request read after Stop() has begun is not handed off the loop (where
// nothing would run it, and Stop() would wait for it for ever): 503, and the
// connection closes. The handler already off the loop finishes.
TEST(HttpServer, ARequestReadAfterStopBeganIsRefusedNotHandedOff) {
  WaitingServer waiting({.threads = 1, .shutdown_grace = absl::Milliseconds(200)});
  ASSERT_NE(waiting.server, nullptr);
  const uint16_t port = waiting.server->port();
  auto busy = TestConnection::Connect(port);
  auto late = TestConnection::Connect(port);
  ASSERT_NE(busy, nullptr);
  ASSERT_NE(late, nullptr);
  busy->Send(Get("/wait"));
  ASSERT_TRUE(waiting.AwaitWaiting(1));
  const std::string request = Get("/wait");
  late->Send(request.substr(0, 10));  // half a request: the connection is not idle
  std::thread stopper([&] { waiting.server->Stop(); });
  absl::SleepFor(absl::Milliseconds(600));  // past the grace: Stop() waits for the handler now
  late->Send(request.substr(10));
  std::optional<TestResponse> refused = late->ReadResponse(absl::Seconds(5));
  waiting.Release();
  stopper.join();
  ASSERT_TRUE(refused.has_value()) << "the late request was not answered";
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->body, R"({"error":"the server is stopping"})");
  std::optional<TestResponse> finished = busy->ReadResponse();
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->body, "GET /wait");
}

// One loop, and handlers that wait run off it: the loop's other
// connections are answered meanwhile, and a connection's responses keep
// their order.
TEST(HttpServer, AHandlerRunOffTheLoopHoldsUpNoOtherConnection) {
  WaitingServer waiting({.threads = 1});
  ASSERT_NE(waiting.server, nullptr);
  const uint16_t port = waiting.server->port();
  auto waiter = TestConnection::Connect(port);
  ASSERT_NE(waiter, nullptr);
  // Pipelined behind the waiting request: answered after it, in order.
  waiter->Send(Get("/wait") + Get("/after"));
  auto other = TestConnection::Connect(port);
  ASSERT_NE(other, nullptr);
  other->Send(Get("/wait"));
  ASSERT_TRUE(waiting.AwaitWaiting(2)) << "the second handler did not run while the first waited";
  // Both handlers wait; the one loop serves another connection at once.
  std::optional<TestResponse> fast = Fetch(port, "GET", "/fast", {}, absl::Seconds(5));
  ASSERT_TRUE(fast.has_value()) << "not answered while handlers wait off the loop";
  EXPECT_EQ(fast->body, "GET /fast");
  waiting.Release();
  std::optional<TestResponse> r = waiter->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "GET /wait");
  r = waiter->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "GET /after");
  r = other->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "GET /wait");
  EXPECT_EQ(waiting.misflagged.load(), 0) << "Request::off_loop does not say where the handler ran";
}

TEST(HttpMessage, HeadersAreCaseInsensitiveAndErrorBodiesAreJson) {
  Headers h;
  h.Add("X-Original-URI", "/a");
  h.Add("x-original-uri", "/b");
  EXPECT_EQ(*h.Find("X-ORIGINAL-URI"), "/a");
  h.Set("X-Original-Uri", "/c");
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(*h.Find("x-original-uri"), "/c");
  EXPECT_EQ(h.Find("missing"), nullptr);
  // Valid UTF-8 is kept (it reads back as the same text), an invalid byte becomes U+FFFD.
  EXPECT_EQ(Response::Error(400, "a\"b\\\n\x01" "caf\xC3\xA9\xff").body,
            "{\"error\":\"a\\\"b\\\\\\n\\u0001caf\xC3\xA9\xEF\xBF\xBD\"}");
  EXPECT_EQ(TargetPath("/p/q?x=1?y"), "/p/q");
}

}  // namespace
}  // namespace edgepass::http
