// What the HTTP session decides from a request alone, with no socket: where a complete
// request goes, how large its body may be, and the request as the coordinator API sees it.
// HttpSession (http_session.cpp) acts on these decisions; the HTTP fuzzer
// (fuzz/http_request_fuzzer.cpp) calls the same functions, so it fuzzes the real routing.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "api.h"

namespace sync_server::net {

// Where a complete request goes (HttpSession::handle()).
enum class Destination {
  websocket,         // an upgrade at /v1/sync: the device's token is checked, then WebSocket
  no_websocket_here, // an upgrade anywhere else: 404
  health,            // GET or HEAD /healthz: "ok"
  health_method,     // /healthz, /readyz or /metrics with another method: 405
  ready,             // GET or HEAD /readyz: 200 "ready", or 503 saying why not (readiness.h)
  metrics,           // GET or HEAD /metrics: Prometheus text to whom metrics_access.h allows
  upgrade_required,  // /v1/sync without an upgrade: 426
  api,               // /api/…: handle_api()
  file,              // GET or HEAD of anything else: the dashboard's files, or 404
  not_found,         // anything else: 404
};

Destination destination(const boost::beast::http::request<boost::beast::http::string_body>& request);

// The path of a request target: "/api/v1/stats?from=…" → "/api/v1/stats".
std::string_view target_path(std::string_view target);

// The largest body the request with this header may carry (max_body_bytes() of its path).
std::size_t body_limit(const boost::beast::http::request_header<>& header);

// The request as the coordinator API sees it (HttpSession::api()).
ApiRequest api_request(const boost::beast::http::request<boost::beast::http::string_body>& request, std::string peer,
                       bool secure);

}  // namespace sync_server::net
