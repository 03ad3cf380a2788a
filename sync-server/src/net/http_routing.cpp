#include "http_routing.h"

#include <boost/beast/websocket/rfc6455.hpp>

#include "safer/url_query.h"

namespace sync_server::net {

namespace http = boost::beast::http;

std::string_view target_path(std::string_view target) { return target.substr(0, target.find('?')); }

Destination destination(const http::request<http::string_body>& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string path(target_path(target));
  const bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  if (boost::beast::websocket::is_upgrade(request)) return path == "/v1/sync" ? Destination::websocket : Destination::no_websocket_here;
  if (path == "/healthz") return get ? Destination::health : Destination::health_method;
  if (path == "/readyz") return get ? Destination::ready : Destination::health_method;
  if (path == "/metrics") return get ? Destination::metrics : Destination::health_method;
  if (path == "/v1/sync") return Destination::upgrade_required;
  if (is_api_path(path)) return Destination::api;
  return get ? Destination::file : Destination::not_found;
}

std::size_t body_limit(const http::request_header<>& header) {
  const std::string_view target(header.target().data(), header.target().size());
  return max_body_bytes(std::string(header.method_string()), std::string(target_path(target)));
}

ApiRequest api_request(const http::request<http::string_body>& request, std::string peer, bool secure) {
  const std::string_view target(request.target().data(), request.target().size());
  ApiRequest api;
  api.method = std::string(request.method_string());
  api.path = std::string(target_path(target));
  if (const auto question = target.find('?'); question != std::string_view::npos) {
    api.query = safer::parse_query(target.substr(question + 1));
  }
  const auto header = [&request](http::field field) { return std::string(request[field]); };
  api.authorization = header(http::field::authorization);
  api.cookie = header(http::field::cookie);
  api.csrf_token = std::string(request["X-CSRF-Token"]);
  api.origin = header(http::field::origin);
  api.host = header(http::field::host);
  api.content_type = header(http::field::content_type);
  api.body = request.body();
  api.peer = std::move(peer);
  api.secure = secure;
  return api;
}

}  // namespace sync_server::net
