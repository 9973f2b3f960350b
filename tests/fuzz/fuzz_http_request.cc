// libFuzzer target: HTTP/1.1 request parsing as edgepass::http's server does
// it, without sockets. http/http_server.cc reads with Beast's
// request_parser<string_body> (header_limit = max_header_bytes, body_limit =
// max_body_bytes), counts header bytes across reads itself (Beast 1.74
// applies header_limit per read only), re-creates the parser for each
// pipelined request, then copies method, target, fields and body into an
// http::Request. That loop lives inside the socket session, so this target
// drives the same parser calls on the same options over the fuzz bytes, cut
// into reads of fuzz-chosen sizes, and hands each request to the
// http_message helpers a handler uses (Headers::Find, TargetPath,
// Response::Error). It is a model of the session's parsing loop, kept in step
// with http_server.cc by hand: a change there needs a change here.
//
// Input: byte 0 picks the read sizes (1 + byte % 64 ... cycling over the
// next bytes' low bits); the rest is what the client sends.
// Checks: no crash, leak, UB or timeout; nothing accepted exceeds the limits.
#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "http/http_message.h"
#include "http/http_server.h"

namespace bhttp = boost::beast::http;

namespace {

void Handle(bhttp::request<bhttp::string_body>& req) {
  edgepass::http::Request request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  for (const auto& field : req) {
    request.headers.Add(std::string(field.name_string()),
                        std::string(field.value()));
  }
  request.body = std::move(req.body());
  (void)request.headers.Find("host");
  (void)request.headers.Find("content-type");
  (void)edgepass::http::TargetPath(request.target);
  (void)edgepass::http::Response::Error(400, request.target);
  (void)req.keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const edgepass::http::ServerOptions options;  // the server's default limits
  const uint8_t pattern = data[0];
  const char* wire = reinterpret_cast<const char*>(data) + 1;
  size_t left = size - 1;

  boost::beast::flat_buffer buffer;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser;
  size_t header_bytes = 0;
  unsigned read = 0;
  auto new_request = [&] {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser->body_limit(options.max_body_bytes);
    header_bytes = 0;
  };
  new_request();
  for (int requests = 0; requests < 64;) {
    // A "read": move up to n bytes from the wire into the buffer.
    if (left > 0) {
      const size_t n =
          std::min<size_t>(left, 1 + ((pattern >> (read++ % 8)) * 37) % 4096);
      auto space = buffer.prepare(n);
      std::memcpy(space.data(), wire, n);
      buffer.commit(n);
      wire += n;
      left -= n;
    }
    boost::system::error_code ec;
    bool progressed = false;
    // What async_read_some does with the bytes at hand.
    while (buffer.size() > 0 && !parser->is_done()) {
      const bool header_done_before = parser->is_header_done();
      const size_t consumed = parser->put(buffer.data(), ec);
      buffer.consume(consumed);
      if (!header_done_before) header_bytes += consumed;
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec) break;
      progressed = progressed || consumed > 0;
      if (!parser->is_header_done()) {
        const size_t pending = buffer.size();
        if (header_bytes + pending > options.max_header_bytes) {
          ec = bhttp::error::header_limit;
          break;
        }
      }
      if (consumed == 0) break;
    }
    if (!ec && !parser->is_header_done() &&
        header_bytes + buffer.size() > options.max_header_bytes) {
      ec = bhttp::error::header_limit;
    }
    if (ec) return 0;  // 400, 413 or 431, then the connection closes
    if (parser->is_done()) {
      bhttp::request<bhttp::string_body>& req = parser->get();
      if (req.body().size() > options.max_body_bytes) std::abort();
      Handle(req);
      const bool keep_alive = req.keep_alive();
      ++requests;
      if (!keep_alive) return 0;
      new_request();
      continue;
    }
    if (left == 0) {
      // End of stream: Beast reports a partial message; the session closes.
      if (parser->got_some() && !parser->is_done()) {
        parser->put_eof(ec);
        if (!ec && parser->is_done()) Handle(parser->get());
      }
      return 0;
    }
  }
  return 0;
}
