// A raw WebSocket client for end-to-end tests that speak the protocol by hand (to send what a
// well-behaved client never would). Every operation has a deadline; on loopback only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

struct WsOutcome {
  bool ok = false;
  int http_status = 0;   // of the upgrade, when it was refused
  std::string error;     // what went wrong, for messages
};

class WsTestClient {
 public:
  WsTestClient();
  ~WsTestClient();

  // Connects to 127.0.0.1:port/v1/sync; `token` empty sends no Authorization header.
  WsOutcome connect(unsigned short port, const std::string& token,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10));
  bool send(const std::string& text, std::chrono::milliseconds deadline = std::chrono::seconds(10));
  bool send_binary(const std::string& bytes, std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // The next message; nullopt when the connection closed or nothing came in time.
  std::optional<std::string> receive(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // send() then receive().
  std::optional<std::string> request(const std::string& text, std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // After receive() returned nullopt because the server closed: its close code (0 if none).
  int close_code() const;
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One plain HTTP request on 127.0.0.1:port; returns status, headers and body (status 0 when
// the exchange failed or timed out).
struct HttpReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, names in lower case
  // The first header named `name` (lower case), or "".
  std::string header(const std::string& name) const;
};
HttpReply http_request(unsigned short port, const std::string& method, const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       const std::string& body = "", std::chrono::milliseconds deadline = std::chrono::seconds(10));
HttpReply http_get(unsigned short port, const std::string& target, const std::string& token = "",
                   std::chrono::milliseconds deadline = std::chrono::seconds(10));

}  // namespace test_support
