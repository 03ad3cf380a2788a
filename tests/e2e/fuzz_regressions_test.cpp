// Regression tests for what fuzz/http_request_fuzzer found (docs/FUZZING.md). Its inputs are
// the bytes a client writes on one connection; here every saved input, and every seed, is
// written as it is to a real sync-server on 127.0.0.1, after the fuzzer's placeholders are
// replaced in the Authorization, Cookie and X-CSRF-Token lines: TOKEN (a coordinator's device
// token), OFFICER (an officer's), SESSION (a dashboard session) and CSRF (its token). Each
// finding also has a test named after its bug that says what the right behaviour is.
#include "api_support.h"
#include "fuzz_inputs.h"

#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace api_test;
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

std::string saved(const std::string& name) {
  const fs::path path = fs::path(FUZZ_REGRESSIONS_DIR) / "http_request_fuzzer" / name;
  REQUIRE(fs::is_regular_file(path));
  return test_support::read_bytes(path);
}

// A server with the fuzzer's fixture: a coordinator's and an officer's device, a dashboard login.
struct Fixture {
  ServerProcess server;
  std::string coordinator_token, officer_token;
  WebSession session;

  Fixture() {
    server.start();
    coordinator_token = server.enroll("fuzz-coordinator", "fuzz.coordinator", "coordinator");
    officer_token = server.enroll("fuzz-officer", "officer.ann", "officer");
    add_coordinator(server, "coordinator");
    session = log_in(server, "coordinator");
  }

  // `bytes` with the placeholders replaced, in the header lines the fuzzer replaces them in.
  std::string with_credentials(const std::string& bytes) const {
    const std::string session_token = session.cookie.substr(session.cookie.find('=') + 1);
    std::string out;
    for (std::size_t start = 0; start < bytes.size();) {
      const std::size_t end = std::min(bytes.find('\n', start), bytes.size() - 1) + 1;
      std::string line = bytes.substr(start, end - start);
      std::string lower = line.substr(0, 14);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // In the header's value only: the name "X-CSRF-Token" holds a placeholder too.
      const auto replace = [&line](const std::string& placeholder, const std::string& value) {
        for (auto at = line.find(placeholder, line.find(':')); at != std::string::npos;
             at = line.find(placeholder, at + value.size())) {
          line.replace(at, placeholder.size(), value);
        }
      };
      if (lower.rfind("authorization:", 0) == 0) {
        replace("TOKEN", coordinator_token);
        replace("OFFICER", officer_token);
      } else if (lower.rfind("cookie:", 0) == 0) {
        replace("SESSION", session_token);
      } else if (lower.rfind("x-csrf-token:", 0) == 0) {
        replace("CSRF", session.csrf_token);
      }
      out += line;
      start = end;
    }
    return out;
  }
};

struct RawReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Writes `bytes` on one connection, ends the sending side, and reads until the server closes
// (or 10 s pass); returns the responses in order. A response that is not HTTP ends the list.
std::vector<RawReply> replay(unsigned short port, const std::string& bytes) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(bytes), ec);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::string received;
  std::vector<char> chunk(64 * 1024);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  socket.non_blocking(true);
  while (std::chrono::steady_clock::now() < until) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    received.append(chunk.data(), n);
    if (ec) break;  // the server closed the connection (or reset it)
  }
  std::vector<RawReply> replies;
  std::string_view rest(received);
  while (!rest.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 * 1024 * 1024);
    const std::size_t used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
    if (ec || !parser.is_done()) break;
    rest.remove_prefix(used);
    const auto& response = parser.get();
    replies.push_back({static_cast<int>(response.result_int()), std::string(response[http::field::content_type]),
                       response.body()});
    if (response.result_int() == 101) break;  // a WebSocket from here on
  }
  return replies;
}

bool is_utf8_json(const std::string& body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(body.c_str(), body.size());
  return !document.HasParseError();
}

}  // namespace

TEST_CASE("every input the HTTP request fuzzer found, and every seed, is answered and the server lives on",
          "[e2e][regression][fuzz]") {
  // The fuzzer checks respond() in process; this is the same bytes on a real connection: no
  // answer is a 503 (an exception that reached respond()'s last resort), and the server still
  // answers afterwards.
  Fixture fixture;
  REQUIRE_FALSE(test_support::files_in(fs::path(FUZZ_CORPUS_DIR) / "http_request_fuzzer").empty());
  const auto inputs = test_support::fuzz_inputs("http_request_fuzzer");
  for (const auto& path : inputs) {
    INFO(path.string());
    for (const auto& reply : replay(fixture.server.port(), fixture.with_credentials(test_support::read_bytes(path)))) {
      INFO(reply.status << " " << reply.body);
      CHECK(reply.status >= 101);
      CHECK(reply.status <= 599);
      CHECK(reply.status != 503);
    }
    CHECK(test_support::http_get(fixture.server.port(), "/healthz").status == 200);
  }
}

TEST_CASE("bug: a 404 echoes an id from the path that is not UTF-8, and its JSON is not UTF-8",
          "[e2e][regression][fuzz]") {
  // POST /api/v1/devices/<id>/revoke for an unknown device
  // answers {"error":"no device <id> is enrolled"} with <id> copied from the request target,
  // byte for byte; JsonOut does not check UTF-8, so a target holding bytes such as 0xC0 gives a
  // body that is not JSON (RFC 8259 §8.1) and that strict parsers refuse. The same holds for
  // POST /api/v1/households/<id>/assignment ("there is no household <id>"). Fixed in JsonOut:
  // text that is not UTF-8 is written with U+FFFD for each ill-formed byte.
  Fixture fixture;
  const auto replies = replay(fixture.server.port(), fixture.with_credentials(saved("revoke-path-not-utf8")));
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].status == 404);
  CHECK(replies[0].content_type.rfind("application/json", 0) == 0);
  INFO(replies[0].body);
  CHECK(is_utf8_json(replies[0].body));

  const auto assignment = call(fixture.server, "POST", "/api/v1/households/\xC0\xC1/assignment",
                               bearer(fixture.coordinator_token), R"({"assigned_to":null})");
  CHECK(assignment.status == 404);
  CHECK(is_utf8_json(assignment.body));
}
