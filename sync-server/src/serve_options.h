// `sync-server serve`'s settings: its command-line options and the config file that may set
// each of them (config_file.h; docs/server.md "Config file").
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "sync_server/local_time.h"
#include "sync_server/server.h"

namespace sync_server {

// --db of every command: its help and default.
inline constexpr const char* kDbHelp =
    "SQLite database file, or the PostgreSQL database's postgresql://… URL (docs/deployment.md)";
inline constexpr const char* kDefaultDb = "var/sync-server.db";

// Read by `serve` when it exists and no --config is given (the packaged server's; docs/deployment.md).
inline constexpr const char* kDefaultConfigFile = "/etc/safer-streets/sync-server.conf";

// The whole of `serve`'s command line: the server's settings, and the ones given in seconds.
struct ServeOptions {
  ServerConfig config;
  std::string listen = "127.0.0.1:8080";
  std::string time_zone = kDefaultTimeZone;
  double idle_seconds = 60, handshake_seconds = 10, revocation_seconds = 1, grace_seconds = 10;
  double keep_alive_seconds = 30, slow_reader_seconds = 10, login_refusal_seconds = 1;
  double purge_interval_seconds = 86400;  // the retention purge; 0: never (run `purge` instead)
  std::string log_format = "text";         // or "json": one JSON object a line (net/log.h)
  std::string metrics_token_file;          // GET /metrics' bearer token is read from it ("": none)
  std::string config_file;  // --config; "" with the option given: no file at all
};

// Declares every option of `serve` on `cmd`, each writing into `o` (which must outlive `cmd`'s
// parse), and --config, which is not itself configurable.
void declare_serve_options(CLI::App& cmd, ServeOptions& o);

// The config file to read: `given` when `cmd`'s --config was given ("" for none), else
// kDefaultConfigFile if that exists, else none (""). `serve` reads its settings from it, the
// store commands their `db`. REQUIRES: `cmd` has a --config option writing `given`, and was parsed.
std::string chosen_config_file(const CLI::App& cmd, const std::string& given);

}  // namespace sync_server
