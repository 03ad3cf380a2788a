// The listener, the server's life cycle (start, serve, graceful shutdown), and the watcher
// that closes the connections of revoked devices.
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <thread>

#include "../db.h"
#include "../log.h"
#include "context.h"

namespace sync_server {

namespace net_ = sync_server::net;
using net_::asio::ip::tcp;

void net::Registry::add(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  connections_[connection.get()] = connection;
}

void net::Registry::remove(const Connection* connection) {
  std::lock_guard lock(mutex_);
  connections_.erase(connection);
  devices_.erase(connection);
}

void net::Registry::set_device(const Connection* connection, const std::string& device_id) {
  std::lock_guard lock(mutex_);
  devices_[connection] = device_id;
}

std::vector<std::string> net::Registry::devices() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [connection, device] : devices_) out.push_back(device);
  return out;
}

std::vector<std::shared_ptr<net::Connection>> net::Registry::connections_of(const std::string& device_id) const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [connection, device] : devices_) {
    if (device != device_id) continue;
    if (auto alive = connections_.at(connection).lock()) out.push_back(std::move(alive));
  }
  return out;
}

std::vector<std::shared_ptr<net::Connection>> net::Registry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [connection, weak] : connections_) {
    if (auto alive = weak.lock()) out.push_back(std::move(alive));
  }
  return out;
}

struct SyncServer::Impl {
  explicit Impl(ServerConfig config) { context.config = std::move(config); }

  net::Context context;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::asio::steady_timer> revocation_timer;
  std::optional<net::asio::steady_timer> grace_timer;
  std::unique_ptr<ServerStore> watcher;  // read connection for the revocation watcher
  std::chrono::steady_clock::time_point shutdown_deadline;

  void accept() {
    acceptor->async_accept(net::asio::make_strand(context.ioc), [this](net::beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::asio::error::operation_aborted || !acceptor->is_open()) return;
        log::line("accept_failed", "error=\"" + ec.message() + "\"");
      } else {
        // Small messages (acks, pull requests) go out at once: with Nagle's algorithm, the
        // last part of a large page waited for the client's delayed ACK, 40 ms a page (B2).
        net::beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        net::serve_http(context, std::move(socket));
      }
      accept();
    });
  }

  // Every poll: if a revocation was recorded (by this process or by `sync-server revoke`
  // running beside it), close the connections of revoked devices, with code 1008.
  void watch_revocations() {
    revocation_timer->expires_after(context.config.revocation_poll);
    revocation_timer->async_wait([this](net::beast::error_code ec) {
      if (ec || context.stopping) return;
      const auto devices = context.registry.devices();
      if (!devices.empty()) {
        try {
          for (const auto& device : watcher->revoked_among(devices)) {
            for (const auto& connection : context.registry.connections_of(device)) connection->revoked();
          }
        } catch (const std::exception& failure) {
          log::line("revocation_check_failed", "error=\"" + std::string(failure.what()) + "\"");
        }
      }
      watch_revocations();
    });
  }

  void shut_down(int signal_number) {
    if (context.stopping.exchange(true)) return;
    log::line("shutdown", "signal=" + std::to_string(signal_number) + " connections=" +
                              std::to_string(context.registry.all().size()));
    net::beast::error_code ignored;
    acceptor->close(ignored);
    revocation_timer->cancel();
    for (const auto& connection : context.registry.all()) connection->shut_down();
    shutdown_deadline = std::chrono::steady_clock::now() + context.config.shutdown_grace;
    grace_timer.emplace(context.ioc);
    wait_for_connections();
  }

  // Polls until every connection has closed (then the io_context runs out of work and
  // run() returns), or cuts them when the grace period is over.
  void wait_for_connections() {
    const auto open = context.registry.all().size();
    if (open == 0) return;
    if (std::chrono::steady_clock::now() >= shutdown_deadline) {
      log::line("shutdown_forced", "connections=" + std::to_string(open));
      context.ioc.stop();
      return;
    }
    grace_timer->expires_after(std::chrono::milliseconds(20));
    grace_timer->async_wait([this](net::beast::error_code ec) {
      if (!ec) wait_for_connections();
    });
  }
};

SyncServer::SyncServer(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

SyncServer::~SyncServer() = default;

// A TLS server context: TLS 1.2 or newer, the given certificate chain and key.
static safer::Result<std::unique_ptr<net_::asio::ssl::context>> tls_context(const ServerConfig& config) {
  namespace ssl = net_::asio::ssl;
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  net_::beast::error_code ec;
  tls->use_certificate_chain_file(config.tls_cert, ec);
  if (ec) return safer::Error{"invalid", "cannot use the TLS certificate " + config.tls_cert + ": " + ec.message(), "tls_cert"};
  tls->use_private_key_file(config.tls_key, ssl::context::pem, ec);
  if (ec) return safer::Error{"invalid", "cannot use the TLS key " + config.tls_key + ": " + ec.message(), "tls_key"};
  if (SSL_CTX_check_private_key(tls->native_handle()) != 1) {
    return safer::Error{"invalid", "the TLS key " + config.tls_key + " does not belong to the certificate", "tls_key"};
  }
  return tls;
}

safer::Result<unsigned short> SyncServer::start() {
  auto& context = impl_->context;
  const auto& config = context.config;
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return safer::Error{"invalid", "give both --tls-cert and --tls-key, or neither", "tls"};
  }
  if (!config.tls_cert.empty()) {
    auto tls = tls_context(config);
    if (!tls) return tls.error();
    context.tls = std::move(*tls);
  }
  // One writer on SQLite (it has one); on PostgreSQL `writers`, each with its connection.
  std::vector<std::unique_ptr<ServerStore>> writers;
  const bool postgresql = db::Database::is_postgresql_url(config.db_path);
  for (std::size_t i = 0; i < (postgresql ? std::max<std::size_t>(config.writers, 1) : 1); ++i) {
    auto writer = ServerStore::open(config.db_path, config.store_options);
    if (!writer) return writer.error();
    writers.push_back(std::move(*writer));
  }
  auto watcher = ServerStore::open(config.db_path, config.store_options);
  if (!watcher) return watcher.error();
  impl_->watcher = std::move(*watcher);
  try {
    context.readers = std::make_unique<ReaderPool>(config.db_path, config.store_options, config.reader_threads);
    context.logins = std::make_unique<ReaderPool>(config.db_path, config.store_options,
                                                  std::max<std::size_t>(1, config.login.threads),
                                                  std::max<std::size_t>(1, config.login.max_queued));
    context.login_limits = std::make_unique<net::LoginLimits>(config.login);
    context.login_cookie_key = impl_->watcher->login_cookie_key();
  } catch (const std::exception& failure) {
    return safer::Error{"storage", failure.what(), ""};
  }
  context.commits = std::make_unique<CommitQueue>(std::move(writers), config.max_group_batches);

  net::beast::error_code ec;
  const auto address = net::asio::ip::make_address(config.listen_host, ec);
  if (ec) return safer::Error{"invalid", "cannot listen on \"" + config.listen_host + "\": not an IP address", "listen"};
  auto& acceptor = impl_->acceptor.emplace(context.ioc);
  const tcp::endpoint endpoint(address, config.listen_port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return safer::Error{"unavailable", "cannot listen on " + config.listen_host + ":" +
                                           std::to_string(config.listen_port) + ": " + ec.message(), "listen"};
  }
  return acceptor.local_endpoint().port();
}

void SyncServer::run() {
  auto& context = impl_->context;
  net::asio::signal_set signals(context.ioc, SIGINT, SIGTERM);
  signals.async_wait([this](net::beast::error_code ec, int signal_number) {
    if (!ec) impl_->shut_down(signal_number);
  });
  impl_->revocation_timer.emplace(context.ioc);
  impl_->watch_revocations();
  impl_->accept();

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < context.config.io_threads; ++i) threads.emplace_back([&context] { context.ioc.run(); });
  context.ioc.run();  // returns when every connection has closed after shutdown
  for (auto& thread : threads) thread.join();

  // Every session has ended, so no push is waiting for an answer; finish the rest.
  context.commits->stop();
  context.readers->stop();
  context.logins->stop();
  log::line("stopped", "");
}

}  // namespace sync_server
