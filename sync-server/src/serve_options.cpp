#include "serve_options.h"

#include <sys/stat.h>

namespace sync_server {

namespace {

// --public-url: what a tablet can connect to; never a path, query or anything a QR code or a
// typed address could not carry.
CLI::Validator public_url_check() {
  return CLI::Validator(
      [](std::string& url) -> std::string {
        const bool scheme = url.rfind("ws://", 0) == 0 || url.rfind("wss://", 0) == 0;
        const auto host = url.substr(url.find("//") == std::string::npos ? 0 : url.find("//") + 2);
        if (!scheme || host.empty() || url.size() > 200 ||
            host.find_first_of("/?#@ \t") != std::string::npos) {
          return "must be ws://host:port or wss://host:port (no path), such as wss://sync.example.org:8443";
        }
        return "";
      },
      "URL");
}

}  // namespace

// Over 80 lines, as a list: one statement per option of `serve`, in the order --help shows.
void declare_serve_options(CLI::App& cmd, ServeOptions& o) {
  cmd.add_option("--config", o.config_file,
                 std::string("Config file setting any of these options (`key = value`, the key without dashes); "
                             "the command line wins. Default: ") + kDefaultConfigFile + " if it exists; \"\": none")
      ->configurable(false);
  cmd.add_option("--db", o.config.db_path, kDbHelp)->capture_default_str();
  cmd.add_option("--listen", o.listen, "Address and port to listen on (port 0: any free port)")->capture_default_str();
  cmd.add_option("--time-zone", o.time_zone, "Time zone of the statistics' local dates")->capture_default_str();
  cmd.add_option("--io-threads", o.config.io_threads, "Network threads")->capture_default_str()->check(CLI::Range(1, 64));
  cmd.add_option("--reader-threads", o.config.reader_threads,
                 "Threads serving pulls and statistics, each with its own database connection (the pool)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd.add_option("--login-threads", o.config.login.threads,
                 "Threads checking dashboard passwords (scrypt, 128 MiB each), apart from the pool")
      ->capture_default_str()
      ->check(CLI::Range(1, 8));
  cmd.add_option("--login-queue", o.config.login.max_queued, "Password checks that may wait; more get 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--login-per-address", o.config.login.per_address_per_minute,
                 "Login attempts per minute from one IP address; more get 429")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 100000.0));
  cmd.add_option("--login-per-second", o.config.login.per_second,
                 "Login attempts per second from all addresses together; more get 429")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 100000.0));
  cmd.add_option("--login-refusal-delay", o.login_refusal_seconds,
                 "Seconds before a refused login (429, 503) is answered: a flood waits instead of costing CPU")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 30.0));
  cmd.add_option("--writers", o.config.writers,
                 "PostgreSQL: connections committing pushes at once (SQLite always has one writer)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd.add_option("--max-group", o.config.max_group_batches, "Most pushes committed together in one transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd.add_option("--cache-mib", o.config.writer_tuning.cache_mib,
                 "SQLite: MiB of page cache for the connection that applies pushes (the indexes a group writes)")
      ->capture_default_str()
      ->check(CLI::Range(2, 65536));
  cmd.add_option("--idle-timeout", o.idle_seconds, "Seconds without a frame before a connection is pinged and closed")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd.add_option("--handshake-timeout", o.handshake_seconds, "Seconds allowed for an HTTP request or upgrade")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd.add_option("--revocation-poll", o.revocation_seconds,
                 "Seconds between checks for revoked or re-enrolled devices (their connections close)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 60.0));
  cmd.add_option("--keep-alive-timeout", o.keep_alive_seconds, "Seconds an HTTP connection may idle between requests")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd.add_option("--max-connections", o.config.max_connections,
                 "Open connections at most; more are closed as soon as they are accepted")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  cmd.add_option("--max-connections-per-ip", o.config.max_connections_per_ip,
                 "Open connections from one IP address at most; more are closed as soon as they are accepted")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  cmd.add_option("--max-large-uploads", o.config.max_large_uploads,
                 "Request bodies over 64 KiB (household imports) read at once; more get 503 and Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--max-queued-bytes", o.config.max_queued_bytes,
                 "Bytes of answers a WebSocket may have waiting to be sent; over it, none of its messages are read")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  cmd.add_option("--slow-reader-timeout", o.slow_reader_seconds,
                 "Seconds a WebSocket may stay over --max-queued-bytes before it is closed (1008)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd.add_option("--tls-cert", o.config.tls_cert, "PEM certificate chain: serve HTTPS and WSS only (with --tls-key)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--tls-key", o.config.tls_key, "PEM private key of the certificate")->check(CLI::ExistingFile);
  cmd.add_flag("--allow-plaintext", o.config.allow_plaintext,
                      "Serve without TLS on an address other than loopback (127.0.0.0/8, ::1, localhost); "
                      "without it, such a --listen needs --tls-cert and --tls-key");
  cmd.add_option("--public-url", o.config.public_url,
                 "The address tablets reach this server at (wss://sync.example:8443), put in enrolment codes; "
                 "default: the address the dashboard was opened at")
      ->check(public_url_check());
  cmd.add_option("--purge-interval", o.purge_interval_seconds,
                 "Seconds between runs of the retention purge (the first a minute after start); 0: never")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 31'536'000.0));
  cmd.add_option("--log-format", o.log_format,
                 "text: \"<time> <event> key=value …\" lines; json: one JSON object a line (journald, log shippers)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd.add_option("--metrics-token-file", o.metrics_token_file,
                 "File holding the bearer token GET /metrics asks for (not readable by other users; "
                 "at least 16 characters). Without it or --metrics-allow, /metrics answers 404");
  cmd.add_option("--metrics-allow", o.config.metrics_allow,
                 "Networks GET /metrics answers, as CIDR[,CIDR…] (127.0.0.1/32,10.1.0.0/16); others get 403");
  cmd.add_option("--metrics-max-devices", o.config.metrics_max_devices,
                 "Devices given gauges of their own in /metrics, those that pushed least recently first; the rest are counted")
      ->capture_default_str()
      ->check(CLI::Range(0, 100'000));
  cmd.add_option("--shutdown-grace", o.grace_seconds, "Seconds to finish work on SIGTERM before cutting connections")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
}

std::string chosen_config_file(const CLI::App& cmd, const std::string& given) {
  if (cmd.count("--config") > 0) return given;
  struct stat info {};
  return stat(kDefaultConfigFile, &info) == 0 ? kDefaultConfigFile : "";
}

}  // namespace sync_server
