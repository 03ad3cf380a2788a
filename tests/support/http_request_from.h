// http_request() from a chosen loopback address, for tests of per-address behaviour (login
// rate limits and lock-out): all of 127.0.0.0/8 is loopback, so "127.0.0.2" is another client.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "ws_test_client.h"

namespace test_support {

// As http_request(), from the local address `from` ("" lets the system choose).
HttpReply http_request_from(const std::string& from, unsigned short port, const std::string& method,
                            const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {},
                            const std::string& body = "", std::chrono::milliseconds deadline = std::chrono::seconds(10));

}  // namespace test_support
