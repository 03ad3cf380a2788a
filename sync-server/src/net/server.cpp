// The listener, the server's life cycle (start, serve, graceful shutdown), and the watcher
// that closes the connections of revoked devices.
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <thread>

#include "sync_server/db.h"
#include "safer/loopback.h"
#include "log.h"
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

void net::Registry::set_device(const Connection* connection, const std::string& device_id, const std::string& credential) {
  std::lock_guard lock(mutex_);
  devices_[connection] = Authenticated{device_id, credential};
}

bool net::Registry::any_device() const {
  std::lock_guard lock(mutex_);
  return !devices_.empty();
}

std::size_t net::Registry::device_connections() const {
  std::lock_guard lock(mutex_);
  return devices_.size();
}

std::vector<std::shared_ptr<net::Connection>> net::Registry::stale(const std::map<std::string, std::string>& current) const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [connection, device] : devices_) {
    const auto found = current.find(device.device_id);
    if (found != current.end() && found->second == device.credential) continue;
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
  // Caught from start() on, so that a SIGTERM sent as soon as "listening on" is read shuts the
  // server down cleanly rather than killing it (run() waits on it).
  std::optional<net::asio::signal_set> signals;
  std::optional<net::asio::steady_timer> revocation_timer;
  std::optional<net::asio::steady_timer> grace_timer;
  std::optional<net::asio::steady_timer> accept_timer;  // the pause after EMFILE/ENFILE
  // Used by the accept loop only (one accept in flight at a time).
  bool accept_paused = false;
  std::size_t refused_since_logged = 0;
  std::chrono::steady_clock::time_point refused_logged_at;
  std::unique_ptr<ServerStore> watcher;  // read connection for the revocation watcher
  std::chrono::steady_clock::time_point shutdown_deadline;

  void accept() {
    acceptor->async_accept(net::asio::make_strand(context.ioc), [this](net::beast::error_code ec, tcp::socket socket) {
      if (ec == net::asio::error::operation_aborted || !acceptor->is_open()) return;
      if (out_of_descriptors(ec)) return pause_accepting(ec);
      if (accept_paused) {
        accept_paused = false;
        log::line("accept_resumed", "");
      }
      if (ec) {
        log::line("accept_failed", "error=\"" + ec.message() + "\"");
      } else {
        admit(std::move(socket));
      }
      accept();
    });
  }

  static bool out_of_descriptors(const net::beast::error_code& ec) {
    namespace error = net::asio::error;
    return ec == error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
           ec == error::no_buffer_space || ec == error::no_memory;
  }

  // Out of file descriptors (EMFILE, ENFILE) or memory: accepting again at once would fail
  // again at once, a busy loop. Waits, then tries again; logs once until it succeeds.
  void pause_accepting(const net::beast::error_code& ec) {
    if (!accept_paused) log::line("accept_paused", "error=\"" + ec.message() + "\" retry_ms=100");
    accept_paused = true;
    accept_timer->expires_after(std::chrono::milliseconds(100));
    accept_timer->async_wait([this](net::beast::error_code wait_ec) {
      if (!wait_ec && !context.stopping) accept();
    });
  }

  // Serves `socket` if the connection limits allow (--max-connections, --max-connections-per-ip);
  // otherwise closes it at once.
  void admit(tcp::socket socket) {
    net::beast::error_code ignored;
    const auto peer = socket.remote_endpoint(ignored).address().to_string();
    auto slot = context.limits.take_connection(peer);
    if (!slot) {
      note_refused(peer);
      socket.close(ignored);
      return;
    }
    // Small messages (acks, pull requests) go out at once: with Nagle's algorithm, the
    // last part of a large page waited for the client's delayed ACK, 40 ms a page (B2).
    socket.set_option(tcp::no_delay(true), ignored);
    net::serve_http(context, std::move(socket), std::move(*slot));
  }

  // One log line a second at most, however many connections are refused.
  void note_refused(const std::string& peer) {
    ++refused_since_logged;
    const auto now = std::chrono::steady_clock::now();
    if (now - refused_logged_at < std::chrono::seconds(1)) return;
    refused_logged_at = now;
    log::line("connection_refused", "peer=" + peer + " refused=" + std::to_string(refused_since_logged) +
                                        " open=" + std::to_string(context.limits.connections()) +
                                        " reason=\"connection limit\"");
    refused_since_logged = 0;
  }

  // Every poll: closes, with code 1008, the connections whose device's credential changed
  // since they authenticated: revoked, enrolled again (a new token, user or role), by this
  // process, by `sync-server revoke|enroll` beside it, or by another server on PostgreSQL.
  void watch_revocations() {
    revocation_timer->expires_after(context.config.revocation_poll);
    revocation_timer->async_wait([this](net::beast::error_code ec) {
      if (ec || context.stopping) return;
      if (context.registry.any_device()) {
        try {
          for (const auto& connection : context.registry.stale(watcher->current_credentials())) connection->revoked();
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
    accept_timer->cancel();
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

// Mozilla's "intermediate" server configuration (ssl-config.mozilla.org, version 5.7): TLS
// 1.2 with these forward-secret AEAD suites, TLS 1.3 with OpenSSL's default suites, and the
// client's order of preference (every suite offered is strong).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

// A TLS server context: Mozilla intermediate, the given certificate chain and key.
static safer::Result<std::unique_ptr<net_::asio::ssl::context>> tls_context(const ServerConfig& config) {
  namespace ssl = net_::asio::ssl;
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX* native = tls->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_clear_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return safer::Error{"unavailable", "this OpenSSL offers none of the TLS 1.2 cipher suites the server needs", "tls"};
  }
  SSL_CTX_set_dh_auto(native, 1);  // DHE suites use a built-in group of the key's strength
  net_::beast::error_code ec;
  tls->use_certificate_chain_file(config.tls_cert, ec);
  if (ec) return safer::Error{"invalid", "cannot use the TLS certificate " + config.tls_cert + ": " + ec.message(), "tls_cert"};
  tls->use_private_key_file(config.tls_key, ssl::context::pem, ec);
  if (ec) return safer::Error{"invalid", "cannot use the TLS key " + config.tls_key + ": " + ec.message(), "tls_key"};
  if (SSL_CTX_check_private_key(native) != 1) {
    return safer::Error{"invalid", "the TLS key " + config.tls_key + " does not belong to the certificate", "tls_key"};
  }
  return tls;
}

// Error "invalid" when the server would speak plaintext beyond this machine unasked.
static safer::Status check_plaintext(const ServerConfig& config) {
  if (!config.tls_cert.empty() || config.allow_plaintext || safer::is_loopback_host(config.listen_host)) return {};
  return safer::Error{"invalid",
                      "refusing to serve plaintext HTTP and WebSocket on " + config.listen_host +
                          ", which is not loopback: give --tls-cert and --tls-key, listen on 127.0.0.1 behind a "
                          "TLS proxy, or pass --allow-plaintext if the network is protected some other way",
                      "listen"};
}

safer::Result<unsigned short> SyncServer::start() {
  auto& context = impl_->context;
  const auto& config = context.config;
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return safer::Error{"invalid", "give both --tls-cert and --tls-key, or neither", "tls"};
  }
  if (auto plaintext = check_plaintext(config); !plaintext) return plaintext.error();
  auto metrics_access = net::MetricsAccess::make(config.metrics_token, config.metrics_allow);
  if (!metrics_access) return metrics_access.error();
  context.metrics_access = std::move(*metrics_access);
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
    try {
      (*writer)->tune_writer(config.writer_tuning);
    } catch (const std::exception& failure) {  // the checkpointer's connection could not be opened
      return safer::Error{"storage", std::string("cannot set up the database writer: ") + failure.what(), ""};
    }
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
  context.limits.configure(config.max_connections, config.max_connections_per_ip, config.max_large_uploads);

  net::beast::error_code ec;
  // "localhost" is the one name taken: the loopback rule allows it, make_address does not.
  const auto address = net::asio::ip::make_address(config.listen_host == "localhost" ? "127.0.0.1" : config.listen_host, ec);
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
  impl_->signals.emplace(context.ioc, SIGINT, SIGTERM);
  return acceptor.local_endpoint().port();
}

void SyncServer::run() {
  auto& context = impl_->context;
  if (!impl_->signals) impl_->signals.emplace(context.ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](net::beast::error_code ec, int signal_number) {
    if (!ec) impl_->shut_down(signal_number);
  });
  impl_->revocation_timer.emplace(context.ioc);
  impl_->accept_timer.emplace(context.ioc);
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
