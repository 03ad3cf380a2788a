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

class WsConnection {
 public:
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
