// A client WebSocket connection to the sync server (Boost.Beast), with a deadline on every
// step. Internal to the field client; Beast stays in ws_connection.cpp.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "safer/result.h"

namespace field_client {

// Error "invalid" (field "server") when `url` is ws:// to a host other than loopback
// (127.0.0.0/8, ::1, localhost) and `allow_plaintext` is false: the token and the records
// would cross a network unencrypted. Nothing for wss://, loopback, or when allowed; URLs it
// cannot parse are left to connect() to refuse.
safer::Status check_plaintext(const std::string& url, bool allow_plaintext);

// An HTTP answer: its status and body.
struct HttpAnswer {
  int status = 0;
  std::string body;
};

class WsConnection {
 public:
  // One POST of the JSON `body` to `path` on the server `url` names (wss:// → HTTPS, ws:// →
  // HTTP), with connect()'s TLS rules and errors ("invalid", "network", "untrusted_server"),
  // then the connection closes. Any status is an answer; its body is read up to 64 KiB.
  static safer::Result<HttpAnswer> post_json(const std::string& url, const std::string& path, const std::string& body,
                                             const std::string& ca_file, std::chrono::milliseconds timeout);

  // Connects to `url` (ws:// or wss://host[:port][/path]; the path defaults to /v1/sync) with
  // "Authorization: Bearer <token>". For wss://, TLS 1.2 or newer, and the server's
  // certificate must verify against `ca_file` (PEM) or, when it is empty, the system's
  // trusted CAs, and name the host. Errors: "unauthorized" for a 401, "untrusted_server" when
  // the certificate does not verify, "network" for anything else that failed on the way or
  // timed out, "invalid" for a URL it cannot use.
  static safer::Result<std::unique_ptr<WsConnection>> connect(const std::string& url, const std::string& token,
                                                              const std::string& ca_file,
                                                              std::chrono::milliseconds timeout);
  ~WsConnection();

  safer::Status send(const std::string& text);
  // The next text message. "network" if the connection closed or nothing came in time.
  safer::Result<std::string> receive();
  // A clean close (1000); errors are ignored.
  void close();

 private:
  struct Impl;
  explicit WsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace field_client
