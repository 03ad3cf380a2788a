// A client WebSocket connection to the sync server (Boost.Beast), with a deadline on every
// step. Internal to the field client; Beast stays in ws_connection.cpp.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "safer/result.h"

namespace field_client {

class WsConnection {
 public:
  // Connects to `url` (ws://host[:port][/path]; path defaults to /v1/sync) with
  // "Authorization: Bearer <token>". Errors: "unauthorized" for a 401, "network" for
  // anything that failed on the way or timed out, "invalid" for a URL it cannot use.
  static safer::Result<std::unique_ptr<WsConnection>> connect(const std::string& url, const std::string& token,
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
