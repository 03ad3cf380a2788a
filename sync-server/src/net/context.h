// Internal to the network layer: what every connection shares, and the registry through
// which shutdown and revocation reach open connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "commit_queue.h"
#include "reader_pool.h"
#include "metrics_access.h"
#include "metrics_scrape.h"
#include "readiness.h"
#include "connection_limits.h"
#include "lingering_close.h"
#include "login_limits.h"
#include "sync_server/server.h"

namespace sync_server::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using PlainStream = LingeringStream;  // beast::tcp_stream that drains before closing a WebSocket
using TlsStream = beast::ssl_stream<PlainStream>;

// A connection the server can ask to finish.
class Connection {
 public:
  virtual ~Connection() = default;
  // Graceful shutdown: finish what is in flight, then close (WebSocket: code 1001).
  virtual void shut_down() = 0;
  // The device's token was revoked or replaced, or its user or role changed: close
  // (WebSocket: code 1008).
  virtual void revoked() {}
};

// Thread-safe.
class Registry {
 public:
  void add(const std::shared_ptr<Connection>& connection);
  void remove(const Connection* connection);
  // The connection serves `device_id`, authenticated with `credential` (DeviceRecord::credential).
  void set_device(const Connection* connection, const std::string& device_id, const std::string& credential);

  bool any_device() const;
  // Connections serving an authenticated device.
  std::size_t device_connections() const;
  // The device connections whose credential is not their device's in `current` (device id ->
  // credential, as ServerStore::current_credentials() gives it).
  std::vector<std::shared_ptr<Connection>> stale(const std::map<std::string, std::string>& current) const;
  std::vector<std::shared_ptr<Connection>> all() const;

 private:
  struct Authenticated {
    std::string device_id;
    std::string credential;
  };
  mutable std::mutex mutex_;
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> connections_;  // guarded by mutex_
  std::unordered_map<const Connection*, Authenticated> devices_;                   // guarded by mutex_
};

struct Context {
  ServerConfig config;
  Readiness readiness;  // before `readers`, whose last jobs may still report to it
  MetricsScrape metrics_scrape;  // likewise
  MetricsAccess metrics_access;      // set by SyncServer::start()
  asio::io_context ioc;
  std::unique_ptr<CommitQueue> commits;
  std::unique_ptr<ReaderPool> readers;
  std::unique_ptr<ReaderPool> logins;  // password checks only, bounded queue (login.cpp)
  std::unique_ptr<LoginLimits> login_limits;
  std::string login_cookie_key;  // signs device cookies; constant after start()
  Registry registry;
  Limits limits;  // configured by SyncServer::start()
  std::atomic<bool> stopping{false};
  std::unique_ptr<asio::ssl::context> tls;  // set: every connection is TLS (HTTPS and WSS)
};

// Starts serving one accepted TCP connection (HTTP, possibly upgraded to WebSocket), which
// holds `slot` (its place among the open connections) until it ends.
void serve_http(Context& context, tcp::socket socket, Slot slot);

// Takes over an upgraded connection for the authenticated device, and its slot.
void serve_websocket(Context& context, PlainStream stream, Request request, DeviceRecord device, Slot slot);
void serve_websocket(Context& context, TlsStream stream, Request request, DeviceRecord device, Slot slot);

}  // namespace sync_server::net
