// sync-server: the central server Safer Streets tablets sync with (protocol.md §8).
//
//   sync-server serve [--config FILE] [--db PATH] [--listen HOST:PORT] [--time-zone ZONE] …
//   sync-server enroll --db PATH --device ID --user ID --role officer|pcso|coordinator
//   sync-server revoke --db PATH --device ID [--wipe]
//   sync-server import-households --db PATH FILE.csv
//   sync-server lists --db PATH [--wards FILE] [--stations FILE]
//   sync-server add-coordinator --db PATH --username NAME   (password on standard input)
//   sync-server move-to-postgresql --from FILE --to postgresql://…
//   sync-server audit verify|list|purge --db PATH …
//   sync-server subject-access --db PATH --household ID [--format json|csv] [--out FILE]
//   sync-server retention --db PATH [--visits AGE] [--notes AGE] …   (show or set the policy)
//   sync-server purge --db PATH [--dry-run]                          (apply it now)
//   sync-server backup --db PATH --to FILE                           (an online copy, checked)
// --db takes a SQLite file or a postgresql:// URL (docs/deployment.md). Every command that
// opens a store leaves one entry in its audit trail, with its outcome (docs/server.md).
//
// Every command works while the server runs: they share the SQLite database (WAL).
#include <CLI/CLI.hpp>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "config_file.h"
#include "daily_purge.h"
#include "net/metrics_access.h"
#include "serve_options.h"
#include "sync_server/db.h"
#include "safer/sqlite.h"
#include "net/log.h"
#include "safer/private_file.h"
#include "safer/validation.h"
#include "sync_server/audit.h"
#include "sync_server/backup.h"
#include "sync_server/dashboard.h"
#include "sync_server/enrolment_codes.h"
#include "sync_server/households_csv.h"
#include "sync_server/local_time.h"
#include "sync_server/retention.h"
#include "sync_server/server.h"
#include "sync_server/server_store.h"
#include "sync_server/subject_access.h"

namespace {

using namespace sync_server;

constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

int fail(const safer::Error& error) {
  std::cerr << "sync-server: " << error.message << '\n';
  return error.code == "invalid" ? kExitBadInput : kExitFailure;
}

// Who runs this command, for the audit trail: "cli:" and the OS user of the effective uid,
// and under sudo the user who ran sudo — as root, or as the server's own user as
// deployment.md has it (`sudo -u safer-streets sync-server …`).
Actor cli_actor() {
  std::string name = "uid-" + std::to_string(geteuid());
  if (const passwd* entry = getpwuid(geteuid()); entry && entry->pw_name) name = entry->pw_name;
  const char* sudo_user = std::getenv("SUDO_USER");
  if (sudo_user && safer::is_valid_user_id(sudo_user) && name != sudo_user) name += "(sudo:" + std::string(sudo_user) + ")";
  return Actor{"cli:" + name, "cli", "local"};
}

// An id typed on the command line, for an audit entry: kept only when it is a well-formed id
// (or cli:…, an actor), since it could be anything else.
std::string id_or_blank(const std::string& id) {
  return safer::is_valid_user_id(id) || (id.rfind("cli:", 0) == 0 && id.size() <= 100) ? id : "";
}

// A refused or failed command's audit entry, then fail(). (A change that succeeds records its
// own entry, in its own transaction.) When the store itself failed this may fail too: a warning.
int fail_audited(ServerStore& store, AuditEntry entry, const safer::Error& error) {
  entry.outcome = error.code;
  if (auto appended = AuditLog(store).append(entry); !appended) {
    std::cerr << "sync-server: warning: the audit trail did not record this failure: " << appended.error().message << '\n';
  }
  return fail(error);
}

// Appends a command's own entry (one that changes nothing); false, with a message, if it could not.
bool audited(ServerStore& store, const AuditEntry& entry) {
  if (auto appended = AuditLog(store).append(entry); !appended) {
    fail(appended.error());
    return false;
  }
  return true;
}

// Makes the missing directories above a SQLite file, mode 0700 (a PostgreSQL URL has none).
// The file itself is made 0600 when SQLite opens it (safer/sqlite.h).
void make_parent_directory(const std::string& path) {
  if (!db::Database::is_postgresql_url(path)) safer::sqlite::make_private_parent_directories(path);
}

// The warning of safer::sqlite::exposure_warning for a SQLite file; "" for PostgreSQL.
std::string exposure_warning(const std::string& path) {
  return db::Database::is_postgresql_url(path) ? "" : safer::sqlite::exposure_warning(path);
}

safer::Result<std::unique_ptr<ServerStore>> open_store(const std::string& path) {
  make_parent_directory(path);
  auto store = ServerStore::open(path);
  if (const auto warning = exposure_warning(path); store && !warning.empty()) {
    std::cerr << "sync-server: warning: " << warning << '\n';
  }
  return store;
}

// "HOST:PORT" → host and port.
bool split_listen(const std::string& listen, std::string& host, unsigned short& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    const auto value = std::stoul(listen.substr(colon + 1));
    if (value > 65535) return false;
    port = static_cast<unsigned short>(value);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// Runs the server until SIGINT or SIGTERM; `config_file` is the file its settings were read
// from ("" for none), for the log.
int serve(ServeOptions o, const std::string& config_file) {
  log::set_format(o.log_format == "json" ? log::Format::json : log::Format::text);
  const auto ms = [](double seconds) { return std::chrono::milliseconds(static_cast<long>(seconds * 1000)); };
  ServerConfig config = std::move(o.config);
  config.idle_timeout = ms(o.idle_seconds);
  config.handshake_timeout = ms(o.handshake_seconds);
  config.revocation_poll = ms(o.revocation_seconds);
  config.shutdown_grace = ms(o.grace_seconds);
  config.keep_alive_timeout = ms(o.keep_alive_seconds);
  config.slow_reader_timeout = ms(o.slow_reader_seconds);
  config.login.refusal_delay = ms(o.login_refusal_seconds);
  const std::string& listen = o.listen;
  const std::string& time_zone = o.time_zone;
  if (!split_listen(listen, config.listen_host, config.listen_port)) {
    return fail({"invalid", "--listen must be HOST:PORT, such as 127.0.0.1:8080", "listen"});
  }
  // Before the store opens, so that it is said even when the database cannot be reached.
  if (const auto warning = config_exposure_warning(config_file); !warning.empty()) {
    log::line("config_exposed", "warning=\"" + warning + "\"");
  }
  if (auto zone = use_time_zone(time_zone); !zone) return fail(zone.error());
  if (!o.metrics_token_file.empty()) {
    auto token = net::read_metrics_token(o.metrics_token_file);
    if (!token) return fail(token.error());
    config.metrics_token = std::move(*token);
  }
  make_parent_directory(config.db_path);
  const std::string db_path = config.db_path;
  const bool tls = !config.tls_cert.empty();
  const bool plaintext_allowed = config.allow_plaintext;
  SyncServer server(std::move(config));
  const auto port = server.start();
  if (!port) return fail(port.error());
  // The first line of standard output says where to connect (tests read it to find port 0's).
  std::cout << "listening on " << listen.substr(0, listen.rfind(':')) << ":" << *port << std::endl;
  if (const auto warning = exposure_warning(db_path); !warning.empty()) log::line("store_exposed", "warning=\"" + warning + "\"");
  log::line("listening", "port=" + std::to_string(*port) + " time_zone=" + time_zone + (tls ? " tls=on" : " tls=off") +
                            (!tls && plaintext_allowed ? " plaintext=allowed" : "") +
                            (config_file.empty() ? "" : " config=" + config_file));
  // The first run a minute after start (sooner with a shorter interval), so that a server
  // restarted every night still purges.
  std::optional<DailyPurge> purge;
  if (o.purge_interval_seconds > 0) {
    const auto interval = ms(o.purge_interval_seconds);
    purge.emplace(db_path, std::min(interval, std::chrono::milliseconds(60'000)), interval);
  }
  server.run();
  return 0;
}


// Each add_* below registers one command with its options and sets `run` to what it does
// once the command line has been read; main() parses and calls it.
using Run = std::function<int()>;

// `serve`: its options (serve_options.h), then, when it runs, the config file's settings for
// those the command line left unset (config_file.h).
void add_serve(CLI::App& app, Run& run) {
  auto o = std::make_shared<ServeOptions>();
  o->config.db_path = kDefaultDb;
  auto* cmd = app.add_subcommand("serve", "Serve devices (WebSocket /v1/sync) and coordinators (/api/v1/stats)");
  declare_serve_options(*cmd, *o);
  cmd->callback([o, cmd, &run] {
    run = [o, cmd] {
      const std::string config_file = chosen_config_file(*cmd, o->config_file);
      if (!config_file.empty()) {
        if (auto applied = apply_config_file(*cmd, config_file); !applied) return fail(applied.error());
      }
      return serve(std::move(*o), config_file);
    };
  });
}

// The commands that work on a store opened from --db: each gets its open store.
using StoreRun = std::function<int(ServerStore&)>;

// The store serve's config file names (`db`), read and checked as serve reads it: what a
// command works on when no --db is given, so that an administrator of a packaged server
// (`sudo -u safer-streets sync-server enroll …`) reaches the server's store, not a new one.
Result<std::string> db_of_config_file(const std::string& file) {
  CLI::App serve_command{"", "serve"};
  ServeOptions options;
  options.config.db_path = kDefaultDb;
  declare_serve_options(serve_command, options);
  if (auto applied = apply_config_file(serve_command, file); !applied) return applied.error();
  return options.config.db_path;
}

// Registers `name` with --db and --config; `run` opens the store, then calls what `define`
// returns. Without --db, the store is serve's: `db` of the config file (--config's, else the
// default file when it exists), else kDefaultDb.
CLI::App* add_store_command(CLI::App& app, Run& run, const char* name, const char* help,
                            const std::function<StoreRun(CLI::App&)>& define) {
  auto db = std::make_shared<std::string>(kDefaultDb);
  auto config = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("--db", *db, kDbHelp)->capture_default_str();
  cmd->add_option("--config", *config,
                  std::string("Without --db, the store named by this serve config file (default ") + kDefaultConfigFile +
                      " when it exists; '' for none)");
  auto body = std::make_shared<StoreRun>(define(*cmd));
  cmd->callback([db, config, cmd, body, &run] {
    run = [db, config, cmd, body] {
      if (cmd->count("--db") == 0) {
        if (const std::string file = chosen_config_file(*cmd, *config); !file.empty()) {
          auto configured = db_of_config_file(file);
          if (!configured) return fail(configured.error());
          *db = *configured;
        }
      }
      auto store = open_store(*db);
      if (!store) return fail(store.error());
      return (*body)(**store);
    };
  });
  return cmd;
}

// The device a command enrols (enroll, enrolment-code): --device, --user and --role.
struct DeviceToEnrol {
  std::string device, user, role;
  std::string server;  // enrolment-code only: the address the code carries

  safer::Role parsed_role() const { return *safer::enum_from_string<safer::Role>(role); }
  // The refused command's audit entry (`action`), with the ids it was given, and its failure.
  int refused(ServerStore& store, const char* action, const Error& error) const {
    AuditEntry entry(cli_actor(), action);
    entry.device = id_or_blank(device);
    entry.username = id_or_blank(user);
    return fail_audited(store, entry, error);
  }
};

std::shared_ptr<DeviceToEnrol> declare_device_to_enrol(CLI::App& cmd) {
  auto o = std::make_shared<DeviceToEnrol>();
  cmd.add_option("--device", o->device, "Device id")->required();
  cmd.add_option("--user", o->user, "User id of the officer, PCSO or coordinator")->required();
  cmd.add_option("--role", o->role, "officer, pcso or coordinator")
      ->required()
      ->check(CLI::IsMember({"officer", "pcso", "coordinator"}));
  return o;
}

StoreRun define_enroll(CLI::App& cmd) {
  auto o = declare_device_to_enrol(cmd);
  return [o](ServerStore& store) {
    auto token = store.enroll(o->device, o->user, o->parsed_role(), cli_actor());
    if (!token) return o->refused(store, kAuditEnroll, token.error());
    std::cout << *token << '\n';
    std::cerr << "Enrolled device " << o->device << " for " << o->role << ' ' << o->user
              << ". Keep the token: it is shown only this once.\n";
    return 0;
  };
}

StoreRun define_enrolment_code(CLI::App& cmd) {
  auto o = declare_device_to_enrol(cmd);
  cmd.add_option("--server", o->server, "The address tablets reach the server at (wss://sync.example.org:8443)")
      ->required();
  return [o](ServerStore& store) {
    if (o->server.rfind("ws://", 0) != 0 && o->server.rfind("wss://", 0) != 0) {
      return fail(Error{"invalid", "--server must start with wss:// (or ws:// for this machine)", "server"});
    }
    auto issued = EnrolmentCodes(store).issue(o->device, o->user, o->parsed_role(), cli_actor());
    if (!issued) return o->refused(store, kAuditEnrolmentCode, issued.error());
    std::cout << issued->code << '\n' << enrolment_payload(o->server, issued->code) << '\n';
    std::cerr << "On the tablet, open the Safer Streets app and type the server address " << o->server
              << " and the code " << issued->code << ". It enrols device " << o->device << " for " << o->role << ' '
              << o->user << " once, until " << safer::format_rfc3339(issued->expires_at) << ".\n";
    return 0;
  };
}

StoreRun define_revoke(CLI::App& cmd) {
  auto device = std::make_shared<std::string>();
  auto wipe = std::make_shared<bool>(false);
  cmd.add_option("--device", *device, "Device id")->required();
  cmd.add_flag("--wipe", *wipe, "Also order the device to erase its data: its next connection gets 410 Gone");
  return [device, wipe](ServerStore& store) {
    const auto how = *wipe ? ServerStore::Wipe::yes : ServerStore::Wipe::no;
    if (auto revoked = store.revoke(*device, how, cli_actor()); !revoked) {
      AuditEntry entry(cli_actor(), *wipe ? kAuditRevokeWipe : kAuditRevoke);
      entry.device = id_or_blank(*device);
      return fail_audited(store, entry, revoked.error());
    }
    std::cerr << (*wipe ? "Revoked device " + *device + " and ordered it wiped.\n" : "Revoked device " + *device + ".\n");
    return 0;
  };
}

StoreRun define_add_coordinator(CLI::App& cmd) {
  auto username = std::make_shared<std::string>();
  cmd.add_option("--username", *username, "Login name")->required();
  return [username](ServerStore& store) {
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (auto added = store.add_coordinator(*username, password, cli_actor()); !added) {
      AuditEntry entry(cli_actor(), kAuditAccountAdd);
      entry.username = id_or_blank(*username);
      return fail_audited(store, entry, added.error());
    }
    std::cerr << "Coordinator " << *username << " can now log in to the dashboard.\n";
    return 0;
  };
}

// The non-empty lines of `path` into `names`.
safer::Result<void> read_lines(const std::string& path, std::vector<std::string>& names) {
  std::ifstream file(path);
  if (!file) return safer::Error{"invalid", "cannot read " + path, "file"};
  names.clear();
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return {};
}

StoreRun define_lists(CLI::App& cmd) {
  struct Options {
    std::string wards, stations;
  };
  auto o = std::make_shared<Options>();
  cmd.add_option("--wards", o->wards, "File with one ward per line: replaces the wards");
  cmd.add_option("--stations", o->stations, "File with one station per line: replaces the stations");
  return [o](ServerStore& store) {
    auto lists = store.options().lists;
    const bool change = !o->wards.empty() || !o->stations.empty();
    const AuditEntry entry(cli_actor(), change ? kAuditListsChange : kAuditListsView);
    if (!o->wards.empty()) {
      if (auto read = read_lines(o->wards, lists.wards); !read) return fail_audited(store, entry, read.error());
    }
    if (!o->stations.empty()) {
      if (auto read = read_lines(o->stations, lists.stations); !read) return fail_audited(store, entry, read.error());
    }
    if (change) {
      if (auto saved = store.set_reference_lists(lists, cli_actor()); !saved) return fail_audited(store, entry, saved.error());
      std::cerr << "Saved. A running server uses the new lists after a restart.\n";
    } else if (!audited(store, entry)) {
      return kExitFailure;
    }
    std::cout << "Wards:\n";
    for (const auto& ward : lists.wards) std::cout << "  " << ward << '\n';
    std::cout << "Stations:\n";
    for (const auto& station : lists.stations) std::cout << "  " << station << '\n';
    return 0;
  };
}

// Prints the questions as the JSON array the command reads, one question to a line, so that
// the output can be edited and given back with --file.
void print_questions(const std::vector<safer::Question>& questions) {
  std::cout << "[\n";
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const std::string entry = safer::questions_to_json({questions[i]});
    std::cout << "  " << entry.substr(1, entry.size() - 2) << (i + 1 < questions.size() ? ",\n" : "\n");
  }
  std::cout << "]\n";
}

StoreRun define_questions(CLI::App& cmd) {
  auto file = std::make_shared<std::string>();
  cmd.add_option("--file", *file, "JSON array of the questions (protocol.md §5.8): replaces them");
  return [file](ServerStore& store) {
    const bool change = !file->empty();
    const AuditEntry entry(cli_actor(), change ? kAuditQuestionsChange : kAuditQuestionsView);
    if (change) {
      std::ifstream input(*file, std::ios::binary);
      if (!input) return fail_audited(store, entry, {"invalid", "cannot read " + *file, "file"});
      std::stringstream text;
      text << input.rdbuf();
      auto questions = safer::questions_from_json(text.str());
      if (!questions) return fail_audited(store, entry, questions.error());
      if (auto saved = store.set_questions(*questions, cli_actor()); !saved) return fail_audited(store, entry, saved.error());
      std::cerr << "Saved. A running server offers the new questions after a restart.\n";
    } else if (!audited(store, entry)) {
      return kExitFailure;
    }
    print_questions(store.options().lists.questions);
    return 0;
  };
}

StoreRun define_import(CLI::App& cmd) {
  auto csv_path = std::make_shared<std::string>();
  cmd.add_option("file", *csv_path, "CSV with header id,address,postcode,ward,target,assigned_to")->required();
  return [csv_path](ServerStore& store) {
    const AuditEntry entry(cli_actor(), kAuditRegisterImport);
    std::ifstream file(*csv_path, std::ios::binary);
    if (!file) return fail_audited(store, entry, {"invalid", "cannot read " + *csv_path, "file"});
    std::stringstream text;
    text << file.rdbuf();
    if (auto zone = use_time_zone(kDefaultTimeZone); !zone) return fail(zone.error());
    std::vector<CsvProblem> near_duplicates;
    const auto imported = store.import_households(text.str(), cli_actor(), &near_duplicates);
    if (!imported) return fail_audited(store, entry, imported.error());
    std::cout << "Imported " << *imported << " households from " << *csv_path << ".\n";
    for (const auto& warning : near_duplicates) {
      std::cout << "warning: line " << warning.line << ": " << warning.message << "\n";
    }
    return 0;
  };
}

// The historic baseline (sync_server/baseline.h): with a file, replaces it with the file's
// years (all or nothing); without, prints it as the CSV it is loaded from.
StoreRun define_baseline(CLI::App& cmd) {
  auto csv_path = std::make_shared<std::string>();
  cmd.add_option("file", *csv_path,
                 "CSV with header financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed");
  return [csv_path](ServerStore& store) {
    Dashboard dashboard(store);
    if (csv_path->empty()) {
      std::cout << "financial_year,households_visited,visits,smoke_detectors_fitted,cards_distributed\n";
      for (const auto& row : dashboard.baseline()) {
        std::cout << row.year << '/' << (row.year + 1) % 100 / 10 << (row.year + 1) % 10 << ',' << row.households_visited
                  << ',' << row.visits << ',' << row.smoke_detectors_fitted << ',' << row.cards_distributed << '\n';
      }
      return 0;
    }
    const AuditEntry entry(cli_actor(), kAuditBaselineLoad);
    std::ifstream file(*csv_path, std::ios::binary);
    if (!file) return fail_audited(store, entry, {"invalid", "cannot read " + *csv_path, "file"});
    std::stringstream text;
    text << file.rdbuf();
    const auto loaded = dashboard.load_baseline(text.str(), cli_actor());
    if (!loaded) return fail_audited(store, entry, loaded.error());
    std::cout << "Loaded " << *loaded << " earlier years from " << *csv_path << " (they replace any loaded before).\n";
    return 0;
  };
}

void add_move_to_postgresql(CLI::App& app, Run& run) {
  struct Options {
    std::string from, to;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "move-to-postgresql", "Copy a borough's SQLite store into a new, empty PostgreSQL database, and check the copy");
  cmd->add_option("--from", o->from, "The SQLite file (stop its server first)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--to", o->to, "postgresql://… URL of a new, empty database")->required();
  cmd->callback([o, &run] {
    run = [o] {
      if (auto zone = use_time_zone(kDefaultTimeZone); !zone) return fail(zone.error());
      const auto moved = ServerStore::move_to_postgresql(o->from, o->to);
      // Recorded in the store that is in use afterwards: the new one, or the file if nothing moved.
      AuditEntry entry(cli_actor(), kAuditMoveToPostgresql);
      if (!moved) {
        auto source = ServerStore::open(o->from);
        return source ? fail_audited(**source, entry, moved.error()) : fail(moved.error());
      }
      std::int64_t copied_rows = 0;
      for (const auto& table : moved->tables) copied_rows += table.second;
      entry.detail = "rows=" + std::to_string(copied_rows);
      auto target = ServerStore::open(o->to);
      if (!target) return fail(target.error());
      if (!audited(**target, entry)) return kExitFailure;
      for (const auto& [table, rows] : moved->tables) std::cout << table << ": " << rows << " rows\n";
      const auto& stats = moved->stats;
      std::cout << "Statistics agree (all time): " << stats.visits_total << " visits, " << stats.households_target
                << " target households, " << stats.commute_sessions << " Commute Aware sessions.\n"
                << "Moved. Start the servers with --db and the PostgreSQL URL; tablets pull once from the start.\n";
      return 0;
    };
  });
}

// Everything held about one household (sync_server/subject_access.h): to --out, written whole
// or not at all and readable by its owner only, or to standard output. Audited by the store.
StoreRun define_subject_access(CLI::App& cmd) {
  struct Options {
    std::string household, format = "json", out;
  };
  auto o = std::make_shared<Options>();
  cmd.add_option("--household", o->household, "The household's id (a UUID)")->required();
  cmd.add_option("--format", o->format, "json (one document) or csv (one table, a section column)")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "csv"}));
  cmd.add_option("--out", o->out, "Write the export to this file (mode 0600) instead of standard output");
  return [o](ServerStore& store) {
    const auto format = o->format == "csv" ? SubjectAccessFormat::csv : SubjectAccessFormat::json;
    const auto exported = SubjectAccess(store).export_household(o->household, format, cli_actor());
    if (!exported) return fail(exported.error());
    if (o->out.empty()) {
      std::cout << exported->body << std::flush;
    } else if (auto written = safer::write_private_file(o->out, exported->body); !written) {
      return fail(written.error());
    }
    std::cerr << "Exported " << exported->rows << (exported->rows == 1 ? " row" : " rows") << " held about household "
              << o->household << (exported->erased ? " (erased: its tombstones and history, no data)" : "")
              << (o->out.empty() ? "" : " to " + o->out) << ".\n";
    return 0;
  };
}

// --- audit: the audit trail (sync_server/audit.h) ------------------------------------------

constexpr int kExitTampered = 3;  // audit verify found the chain broken

// A YYYY-MM-DD option into `date`; false (and a message naming `option`) when malformed.
bool read_date(const std::string& text, const char* option, std::optional<safer::CivilDate>& date) {
  if (text.empty()) return true;
  date = safer::parse_iso_date(text);
  if (!date) fail({"invalid", std::string(option) + " must be a date written YYYY-MM-DD", option});
  return date.has_value();
}

StoreRun define_audit_verify(CLI::App&) {
  return [](ServerStore& store) {
    const auto verdict = AuditLog(store).verify();
    AuditEntry entry(cli_actor(), kAuditAuditVerify);
    entry.kind = "audit";
    entry.outcome = verdict.intact ? "ok" : "broken";
    entry.detail = "entries=" + std::to_string(verdict.entries) + " head_seq=" + std::to_string(verdict.head_seq) +
                   " head_hash=" + verdict.head_hash + (verdict.intact ? "" : " first_bad=" + std::to_string(verdict.first_bad_seq));
    if (!audited(store, entry)) return kExitFailure;
    if (!verdict.intact) {
      std::cerr << "sync-server: the audit trail is broken at entry " << verdict.first_bad_seq << ": " << verdict.problem << '\n';
      return kExitTampered;
    }
    // The head, to keep outside the database: a later head must extend it.
    std::cout << "The audit trail is intact: " << verdict.entries << " entries after the anchor (entry "
              << verdict.anchor_seq << ").\nHead: entry " << verdict.head_seq << " hash " << verdict.head_hash << '\n';
    return 0;
  };
}

StoreRun define_audit_list(CLI::App& cmd) {
  struct Options {
    std::string person, action, from, to;
    int limit = 100;
    bool csv = false;
  };
  auto o = std::make_shared<Options>();
  cmd.add_option("--person", o->person, "Only entries by, or about, this user or account");
  cmd.add_option("--action", o->action, "Only this action (docs/server.md lists them)");
  cmd.add_option("--from", o->from, "Only entries on or after this local date, YYYY-MM-DD");
  cmd.add_option("--to", o->to, "Only entries on or before this local date, YYYY-MM-DD");
  cmd.add_option("--limit", o->limit, "The newest entries, at most this many")->capture_default_str()->check(CLI::Range(1, kMaxAuditPage));
  cmd.add_flag("--csv", o->csv, "Every matching entry, oldest first, as CSV (no limit)");
  return [o](ServerStore& store) {
    if (auto zone = use_time_zone(kDefaultTimeZone); !zone) return fail(zone.error());
    AuditFilter filter;
    if (!read_date(o->from, "--from", filter.from) || !read_date(o->to, "--to", filter.to)) return kExitBadInput;
    if (!o->person.empty()) filter.person = o->person;
    if (!o->action.empty()) filter.action = o->action;
    filter.limit = o->limit;
    AuditEntry entry(cli_actor(), o->csv ? kAuditExport : kAuditAuditView);
    entry.kind = "audit";
    const std::string selected = "person=" + id_or_blank(o->person) + " action=" + id_or_blank(o->action) +
                                 " from=" + o->from + " to=" + o->to;
    if (o->csv) {
      const auto rows = AuditLog(store).csv(filter, [](std::string_view piece) { std::cout << piece; });
      entry.detail = selected + " rows=" + std::to_string(rows);
      return audited(store, entry) ? 0 : kExitFailure;
    }
    const auto records = AuditLog(store).list(filter);
    if (!records) return fail_audited(store, entry, records.error());
    for (const auto& record : *records) {
      const auto& e = record.entry;
      std::cout << record.seq << ' ' << safer::format_rfc3339(record.at) << ' ' << e.actor.name << " (" << e.actor.via
                << ", " << e.actor.address << ") " << e.action << ' ' << e.outcome;
      for (const auto& [name, value] : {std::pair{"household", &e.household}, std::pair{"device", &e.device},
                                        std::pair{"username", &e.username}, std::pair{"kind", &e.kind}}) {
        if (!value->empty()) std::cout << ' ' << name << '=' << *value;
      }
      if (!e.detail.empty()) std::cout << " [" << e.detail << ']';
      std::cout << '\n';
    }
    entry.detail = selected + " rows=" + std::to_string(records->size());
    return audited(store, entry) ? 0 : kExitFailure;
  };
}

StoreRun define_audit_purge(CLI::App& cmd) {
  auto before = std::make_shared<std::string>();
  cmd.add_option("--before", *before, "Remove the entries older than this local date, YYYY-MM-DD")->required();
  return [before](ServerStore& store) {
    if (auto zone = use_time_zone(kDefaultTimeZone); !zone) return fail(zone.error());
    std::optional<safer::CivilDate> date;
    AuditEntry entry(cli_actor(), kAuditAuditPurge);
    if (!read_date(*before, "--before", date)) return kExitBadInput;
    // The policy's audit age is a floor: younger entries stay whatever the command line says.
    if (auto allowed = Retention(store).check_audit_purge(local_midnight(*date)); !allowed) {
      return fail_audited(store, entry, allowed.error());
    }
    const auto purged = AuditLog(store).purge_before(local_midnight(*date), cli_actor());
    if (!purged) return fail_audited(store, entry, purged.error());
    std::cout << "Removed " << purged->removed << " entries. The anchor is entry " << purged->anchor_seq << " hash "
              << purged->anchor_hash << ".\n";
    return 0;
  };
}

// --- retention and purge: the retention policy (sync_server/retention.h) ----------------------

StoreRun define_retention(CLI::App& cmd) {
  struct Setting {
    const char* option;
    const char* name;  // in RetentionPolicy::to_string()
    const char* help;
    std::string value;
  };
  auto settings = std::make_shared<std::vector<Setting>>(std::vector<Setting>{
      {"--visits", "visits", "Erase visits older than this (a tombstone without data): 6y, 2190d, never", ""},
      {"--notes", "notes", "Blank visits' notes older than this: at most --visits", ""},
      {"--commute-sessions", "commute_sessions", "Erase Commute Aware sessions older than this", ""},
      {"--tombstones", "tombstones", "Remove visit and session tombstones (and evictions) older than this", ""},
      {"--audit", "audit", "Purge audit entries older than this (audit purge may not go further)", ""}});
  for (auto& setting : *settings) cmd.add_option(setting.option, setting.value, setting.help);
  return [settings](ServerStore& store) {
    Retention retention(store);
    auto policy = retention.policy();
    std::string changes;
    for (const auto& setting : *settings) {
      if (!setting.value.empty()) changes += std::string(" ") + setting.name + "=" + setting.value;
    }
    AuditEntry entry(cli_actor(), changes.empty() ? kAuditRetentionView : kAuditRetentionChange);
    if (!policy) return fail_audited(store, entry, policy.error());
    if (!changes.empty()) {
      // Each given setting replaces the stored one; the option is named in any error.
      for (const auto& setting : *settings) {
        if (setting.value.empty()) continue;
        if (auto age = RetentionAge::parse(setting.value, setting.option); !age) return fail_audited(store, entry, age.error());
        auto changed = RetentionPolicy::parse(policy->to_string() + " " + setting.name + "=" + setting.value);
        if (!changed) return fail_audited(store, entry, changed.error());
        policy = std::move(changed);
      }
      if (auto saved = retention.set_policy(*policy, cli_actor()); !saved) return fail_audited(store, entry, saved.error());
      std::cerr << "Saved. Every server on this database applies it at its next purge.\n";
    } else {
      entry.detail = policy->to_string();
      if (!audited(store, entry)) return kExitFailure;
    }
    std::cout << policy->to_string() << '\n';
    return 0;
  };
}

StoreRun define_purge(CLI::App& cmd) {
  auto dry_run = std::make_shared<bool>(false);
  cmd.add_flag("--dry-run", *dry_run, "Print what a purge would do now (counts only) and change nothing");
  return [dry_run](ServerStore& store) {
    if (auto zone = use_time_zone(kDefaultTimeZone); !zone) return fail(zone.error());
    const auto counts = Retention(store).run(*dry_run, cli_actor());
    if (!counts) return fail(counts.error());  // the run's own entry recorded the error
    std::cout << (*dry_run ? "Would purge: " : "Purged: ") << counts->to_string() << '\n';
    return 0;
  };
}

StoreRun define_backup(CLI::App& cmd) {
  auto to = std::make_shared<std::string>();
  cmd.add_option("--to", *to, "The new file to copy the store into (mode 0600; never an existing file)")->required();
  return [to](ServerStore& store) {
    const auto copied = Backup(store).to(*to, cli_actor());
    if (!copied) return fail(copied.error());
    std::cout << "Backed up to " << *to << ": " << copied->bytes << " bytes, " << copied->records << " records, "
              << copied->devices << " devices, schema " << copied->schema_version << "; SQLite's integrity check passed.\n"
              << "It holds every address and note: keep it as private as the store (docs/data-protection.md).\n"
              << "To restore: stop the server; move the store file and its -wal and -shm files aside; copy "
              << *to << " to the store's path (mode 0600, owned by the server's user); start the server.\n";
    return 0;
  };
}

void add_audit(CLI::App& app, Run& run) {
  auto* audit = app.add_subcommand("audit", "The audit trail: verify its hash chain, list or export it, purge old entries");
  audit->require_subcommand(1);
  add_store_command(*audit, run, "verify",
                    "Walk the hash chain; report the first entry edited, deleted, inserted or reordered (exit status 3)",
                    define_audit_verify);
  add_store_command(*audit, run, "list", "List the newest entries, filtered; or export every match as CSV", define_audit_list);
  add_store_command(*audit, run, "purge", "Remove entries older than a date, leaving an anchor (verify still passes)",
                    define_audit_purge);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sync-server: the Safer Streets sync server and its administration commands", "sync-server"};
  app.require_subcommand(1);
  Run run;
  add_serve(app, run);
  add_store_command(app, run, "enroll", "Enrol a device; prints its new token on the first line", define_enroll);
  add_store_command(app, run, "enrolment-code",
                    "Make a code that enrols a tablet from its app, once, within 10 minutes; prints the code, then "
                    "what its QR code holds",
                    define_enrolment_code);
  add_store_command(app, run, "revoke", "Revoke a device's token and close its connections", define_revoke);
  add_store_command(app, run, "add-coordinator",
                    "Create a coordinator's dashboard login, or set its password (read from standard input)",
                    define_add_coordinator);
  add_store_command(app, run, "lists", "Show, or replace, the wards and stations records may name", define_lists);
  add_store_command(app, run, "questions", "Show, or replace, the questions of the visit form (feedback, extra outcomes and partners)",
                    define_questions);
  add_store_command(app, run, "import-households", "Import households from CSV: every row, or none", define_import);
  add_store_command(app, run, "subject-access",
                    "Export everything held about one household (record, visits, history) as JSON or CSV",
                    define_subject_access);
  add_store_command(app, run, "baseline",
                    "Load the figures of the years before this system from CSV (replacing any loaded before), or print them",
                    define_baseline);
  add_move_to_postgresql(app, run);
  add_audit(app, run);
  add_store_command(app, run, "retention", "Show the retention policy, or change the settings given", define_retention);
  add_store_command(app, run, "purge", "Apply the retention policy now (serve does it daily)", define_purge);
  add_store_command(app, run, "backup", "Copy a SQLite store, while the server runs, into a new file, and check the copy",
                    define_backup);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : kExitBadInput;
  }
  return run ? run() : kExitBadInput;
}
