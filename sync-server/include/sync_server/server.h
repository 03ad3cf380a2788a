// The sync server: HTTP and WebSocket on one port (protocol.md §1), Boost.Beast over Asio.
//
//   GET  /v1/sync        WebSocket upgrade with "Authorization: Bearer <token>" (§1-§4)
//   GET  /api/v1/stats   coordinator statistics (§7)
//   GET  /healthz        200
//   GET  /metrics        Prometheus text format, to a token or allowed networks (metrics_access.h)
//
// Threads: `io_threads` run the network (each connection on its own strand); one writer
// thread (on PostgreSQL `writers` of them) applies pushes with group commit (commit_queue.h);
// `reader_threads` serve reads with their own database connections (reader_pool.h).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "safer/result.h"
#include "sync_server/server_store.h"

namespace sync_server {

// Dashboard logins (POST /api/v1/session, docs/api.md): checked apart from devices' work,
// on their own small pool, behind cheap limits, so that a flood of them cannot slow sync.
struct LoginSettings {
  std::size_t threads = 1;       // password checks at once; each takes 128 MiB (password.h)
  std::size_t max_queued = 8;    // checks waiting; one more is refused at once with 503
  double per_address_per_minute = 20;  // attempts from one IP address (and as many at once)
  double per_second = 10;        // attempts from all addresses (and twice as many at once)
  std::size_t max_addresses = 10'000;  // addresses remembered; the least recent forgotten
  // A refused attempt (429 over a limit, 503 queue full) is answered after this pause. The
  // client's connection waits on a timer, so a flood that waits for each answer (as browsers
  // and most scripts do) sends one attempt per pause per connection instead of thousands a
  // second, and costs the server a timer rather than CPU.
  std::chrono::milliseconds refusal_delay{1'000};
};

struct ServerConfig {
  std::string db_path;
  std::string listen_host = "127.0.0.1";
  unsigned short listen_port = 8080;  // 0: any free port (start() returns it)
  StoreOptions store_options;
  std::size_t io_threads = 2;
  std::size_t reader_threads = 2;
  LoginSettings login;
  std::size_t max_group_batches = 512;
  WriterTuning writer_tuning;  // SQLite's writer: page cache and checkpoints
  // Connections committing pushes, each with its own thread and groups. PostgreSQL only: on
  // SQLite there is always one writer.
  std::size_t writers = 4;
  std::chrono::milliseconds handshake_timeout{10'000};  // HTTP request and WebSocket upgrade
  std::chrono::milliseconds idle_timeout{60'000};       // no frame for this long: ping, then close
  std::chrono::milliseconds revocation_poll{1'000};     // revoked devices are closed within this
  std::chrono::milliseconds shutdown_grace{10'000};     // then connections are cut
  // Bounds on what one client (or all of them) can make the server hold.
  std::size_t max_connections = 10'000;      // open TCP connections; a connection over it is closed at once
  std::size_t max_connections_per_ip = 256;  // open TCP connections from one address; likewise
  std::chrono::milliseconds keep_alive_timeout{30'000};  // an HTTP connection idle between requests is closed
  std::size_t max_large_uploads = 2;  // request bodies over 64 KiB read at once; more get 503 + Retry-After
  // A WebSocket's answers waiting to be sent: over this the server reads no more of its
  // messages, and if it stays over for `slow_reader_timeout` the connection closes with 1008.
  std::size_t max_queued_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds slow_reader_timeout{10'000};
  // Both set: serve HTTPS and WSS only (TLS 1.2 or newer). PEM files: the certificate chain
  // (the server's certificate first) and its private key.
  std::string tls_cert;
  std::string tls_key;
  // Without TLS, start() refuses a `listen_host` other than loopback (127.0.0.0/8, ::1,
  // localhost) unless this is set: plaintext to the outside must be asked for, never an accident.
  bool allow_plaintext = false;
  // The address tablets reach this server at ("wss://sync.example:8443"), which enrolment
  // codes carry; empty: the scheme and Host the dashboard's request came with.
  std::string public_url;
  // GET /metrics (docs/server.md, "Metrics"): off (404) unless a token or networks are set.
  std::string metrics_token;  // a scrape must send it as a bearer token ("": none asked)
  std::string metrics_allow;  // "CIDR[,CIDR…]": a scrape must come from one of them ("": any address)
  std::size_t metrics_max_devices = 200;  // devices given gauges of their own; the others only counted
};

class SyncServer {
 public:
  explicit SyncServer(ServerConfig config);
  ~SyncServer();
  SyncServer(const SyncServer&) = delete;
  SyncServer& operator=(const SyncServer&) = delete;

  // Opens the stores and binds the listening socket. Returns the bound port. Error "invalid"
  // (field "listen") for a non-loopback address without TLS and without allow_plaintext.
  safer::Result<unsigned short> start();

  // Serves until SIGINT or SIGTERM, then shuts down gracefully: stops accepting, finishes
  // the pushes in flight (each is acked after its commit), closes every WebSocket with 1001.
  // REQUIRES: start() succeeded.
  void run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sync_server
