// field-client: record Safer Streets visits and Commute Aware sessions offline, and keep
// them safe on the device until they can be synced.
//
// Exit codes: 0 success; 1 the store could not do it (not found, forbidden, storage: a
// failed read too, reported like a failed write and never as a crash); 2 bad input or usage
// (nothing was written); 3 the store is encrypted and its PIN was not given, was wrong, or
// must wait; 4 the store was erased (too many wrong PINs, or a coordinator's wipe order).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "field_client/store.h"
#include "output.h"
#include "record_options.h"
#include "sync_commands.h"
#include "unlock.h"
#include "app_command.h"
#include "safer/error_codes.h"
#include "safer/json_out.h"
#include "safer/record_json.h"
#include "safer/time.h"

namespace field_client::cli {
namespace {

struct Globals {
  std::string store_path;
  std::string pin_file;  // --pin-file: the PIN of an encrypted store ("-": standard input)
  bool json = false;
  StoreAccess access() const { return StoreAccess{store_path, pin_file, std::nullopt}; }
};

// $FIELD_CLIENT_STORE, else $XDG_DATA_HOME/safer-streets/field-client.db, else
// ~/.local/share/safer-streets/field-client.db.
std::string default_store_path() {
  if (const char* path = std::getenv("FIELD_CLIENT_STORE"); path != nullptr && *path != '\0') return path;
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::filesystem::path(home) / ".local" / "share";
  } else {
    base = ".";
  }
  return (base / "safer-streets" / "field-client.db").string();
}

// Prints `error` and returns the exit code its kind gives (safer/error_codes.h): 2 for bad
// input, 1 for the rest.
int report(const Globals& globals, const Error& error) {
  if (globals.json) {
    safer::JsonOut out;
    out.begin_object().key("error").begin_object();
    out.field("code", error.code).field("field", error.field).field("message", error.message);
    out.field("retryable", safer::is_retryable_code(error.code)).end_object().end_object();
    std::cerr << out.str() << '\n';
  } else {
    std::cerr << "field-client: " << error.message;
    if (const auto option = option_for(error.field); !option.empty()) std::cerr << " [" << option << "]";
    std::cerr << '\n';
  }
  return exit_code_for(error);
}

int report_invalid(const Globals& globals, const safer::FieldErrors& errors) {
  if (globals.json) {
    safer::JsonOut out;
    out.begin_object().key("error").begin_object().field("code", "invalid");
    write_field_errors(out.key("errors"), errors);
    std::cerr << out.end_object().end_object().str() << '\n';
  } else {
    for (const auto& error : errors) {
      std::cerr << "field-client: " << error.message;
      if (const auto option = option_for(error.field); !option.empty()) std::cerr << " [" << option << "]";
      std::cerr << '\n';
    }
    std::cerr << "field-client: nothing was saved\n";
  }
  return kExitBadInput;
}

// Ends the device's open sessions whose day is over, and says which on standard error.
// False (the error reported) when the store cannot.
bool end_overdue_sessions(const Globals& globals, Store& store) {
  const auto ended = store.end_overdue_sessions();
  if (!ended) {
    report(globals, ended.error());
    return false;
  }
  for (const auto& id : *ended) {
    std::cerr << "Ended session " << id << " at 23:59:59.999 of the day it started: sessions end at local midnight.\n";
  }
  return true;
}

std::unique_ptr<Store> open_store(const Globals& globals, int& exit_code) {
  auto store = cli::open_store(globals.access());
  if (!store) {
    exit_code = report(globals, store.error());
    return nullptr;
  }
  return std::move(*store);
}

// The commands of one kind of record: add, update, delete, list, show.
template <class Record, class Options>
struct RecordCommands {
  explicit RecordCommands(Entity kind) : entity(kind) {}

  Entity entity;
  Options add_options, update_options;
  std::string id, update_id, delete_id, show_id;
  CLI::App *add = nullptr, *update = nullptr, *remove = nullptr, *list = nullptr, *show = nullptr;
  bool include_deleted = false;

  void attach(CLI::App& parent, const char* add_name, const char* add_alias, const std::string& noun) {
    add = parent.add_subcommand(add_name, "Record a new " + noun);
    if (add_alias != nullptr) add->alias(add_alias);
    add_options.add_to(*add);
    add->add_option("--id", id, "Use this id (a lowercase UUID) instead of a new one");
    update = parent.add_subcommand("update", "Change fields of a " + noun + "; the others keep their values");
    update->add_option("id", update_id, "Id of the " + noun)->required();
    update_options.add_to(*update);
    remove = parent.add_subcommand("delete", "Delete a " + noun + " (the deletion is synced)");
    remove->add_option("id", delete_id, "Id of the " + noun)->required();
    list = parent.add_subcommand("list", "List " + noun + "s on this device");
    list->add_flag("--deleted", include_deleted, "Include deleted ones");
    show = parent.add_subcommand("show", "Show one " + noun);
    show->add_option("id", show_id, "Id of the " + noun)->required();
    parent.require_subcommand(1);
  }

  void apply(const Options& options, Record& record, bool creating, safer::FieldErrors& errors) const {
    if constexpr (std::is_same_v<Record, safer::Household>) {
      options.apply(record, creating, errors);
    } else {
      options.apply(record, creating, safer::now_unix_millis(), errors);
    }
  }

  int run(const Globals& globals) {
    int exit_code = 0;
    auto store = open_store(globals, exit_code);
    if (!store) return exit_code;
    if constexpr (std::is_same_v<Record, safer::CommuteSession>) {
      // Sessions end at local midnight (store.h): an open one from an earlier day is ended
      // first, and said so, so that what follows never counts on the wrong day.
      if ((add->parsed() || update->parsed()) && !end_overdue_sessions(globals, *store)) return 1;
    }

    if (add->parsed()) {
      Record record;
      safer::FieldErrors errors;
      apply(add_options, record, true, errors);
      if (!errors.empty()) return report_invalid(globals, errors);
      safer::RecordData data = record;
      const auto problems = store->validate(data);
      if (!problems) return report(globals, problems.error());
      if (!problems->empty()) return report_invalid(globals, *problems);
      auto created = store->create(std::move(data), id.empty() ? std::nullopt : std::optional(id));
      if (!created) return report(globals, created.error());
      return print_saved(globals, *store, *created, "saved");
    }
    if (update->parsed()) {
      const auto existing = store->get(entity, update_id);
      if (!existing) return report(globals, existing.error());
      if (!existing->data) {
        return report(globals, Error{"not_found", "there is no " + std::string(safer::to_string(entity)) +
                                                      " with id " + update_id, "id"});
      }
      Record record = std::get<Record>(*existing->data);
      safer::FieldErrors errors;
      apply(update_options, record, false, errors);
      if (!errors.empty()) return report_invalid(globals, errors);
      safer::RecordData data = record;
      const auto problems = store->validate(data);
      if (!problems) return report(globals, problems.error());
      if (!problems->empty()) return report_invalid(globals, *problems);
      if (auto updated = store->update(update_id, std::move(data)); !updated) return report(globals, updated.error());
      return print_saved(globals, *store, update_id, "updated");
    }
    if (remove->parsed()) {
      if (auto removed = store->remove(entity, delete_id); !removed) return report(globals, removed.error());
      return print_saved(globals, *store, delete_id, "deleted");
    }
    if (show->parsed()) {
      const auto record = store->get(entity, show_id);
      if (!record) return report(globals, record.error());
      if (globals.json) {
        std::cout << record_json(*record) << '\n';
      } else {
        print_record(std::cout, *record);
        if (record->data) std::cout << safer::to_json(*record->data) << '\n';
      }
      return 0;
    }
    const auto records = store->list(entity, include_deleted);
    if (!records) return report(globals, records.error());
    if (globals.json) {
      std::cout << records_json(*records) << '\n';
    } else {
      print_records(std::cout, entity, *records);
    }
    return 0;
  }

  // The change is saved: a failure to read it back is reported, with its exit code, but the
  // message says it was saved.
  int print_saved(const Globals& globals, const Store& store, const std::string& record_id, const char* verb) {
    if (globals.json) {
      const auto record = store.get(entity, record_id);
      if (!record) return report_saved_unreadable(globals, record.error());
      std::cout << record_json(*record) << '\n';
    } else {
      const auto summary = store.summary();
      if (!summary) return report_saved_unreadable(globals, summary.error());
      std::cout << safer::to_string(entity) << ' ' << record_id << ' ' << verb
                << " on this device; waiting to sync (" << summary->pending << " change(s) pending)\n";
    }
    return 0;
  }

  static int report_saved_unreadable(const Globals& globals, Error error) {
    error.message = "the change was saved, but " + error.message;
    return report(globals, error);
  }
};

int run_list(const Globals& globals, const std::string& kind) {
  int exit_code = 0;
  auto store = open_store(globals, exit_code);
  if (!store) return exit_code;
  std::vector<Entity> entities;
  if (kind.empty() || kind == "all") {
    entities = {Entity::household, Entity::visit, Entity::commute_session};
  } else if (kind == "households") {
    entities = {Entity::household};
  } else if (kind == "visits") {
    entities = {Entity::visit};
  } else {
    entities = {Entity::commute_session};
  }
  // Everything is read before anything is printed: a failed read prints no partial list.
  std::vector<std::pair<Entity, std::vector<StoredRecord>>> lists;
  for (Entity entity : entities) {
    auto records = store->list(entity);
    if (!records) return report(globals, records.error());
    lists.emplace_back(entity, std::move(*records));
  }
  if (globals.json) {
    std::vector<StoredRecord> all;
    for (auto& [entity, records] : lists) all.insert(all.end(), records.begin(), records.end());
    std::cout << records_json(all) << '\n';
  } else {
    for (const auto& [entity, records] : lists) print_records(std::cout, entity, records);
  }
  return 0;
}

int run_pending(const Globals& globals) {
  int exit_code = 0;
  auto store = open_store(globals, exit_code);
  if (!store) return exit_code;
  const auto entries = store->outbox();
  if (!entries) return report(globals, entries.error());
  if (globals.json) {
    std::cout << outbox_entries_json(*entries) << '\n';
  } else {
    std::cout << "Changes waiting to sync or rejected (" << entries->size() << ")\n";
    print_outbox(std::cout, *entries);
  }
  return 0;
}

int run_discard(const Globals& globals, std::int64_t seq) {
  int exit_code = 0;
  auto store = open_store(globals, exit_code);
  if (!store) return exit_code;
  const auto discarded = store->discard_rejected(seq);
  if (!discarded) return report(globals, discarded.error());
  if (globals.json) {
    std::cout << safer::JsonOut().begin_object().field("seq", seq).field("record", to_string(*discarded)).end_object().str()
              << '\n';
    return 0;
  }
  std::cout << "Refused change " << seq << " discarded: its data is gone from this device. ";
  switch (*discarded) {
    case Discarded::change_only: std::cout << "The record keeps its later change.\n"; break;
    case Discarded::record_removed: std::cout << "The server never had the record, so it is gone from this device too.\n"; break;
    case Discarded::record_refetched:
      std::cout << "The record goes back to the server's version: the next sync (field-client sync) brings it back.\n";
      break;
  }
  return 0;
}

int run_status(const Globals& globals) {
  int exit_code = 0;
  auto store = open_store(globals, exit_code);
  if (!store) return exit_code;
  const auto read_summary = store->summary();
  if (!read_summary) return report(globals, read_summary.error());
  const auto read_device = store->device();
  if (!read_device) return report(globals, read_device.error());
  auto read_enrollment = store->enrollment();
  if (!read_enrollment && read_enrollment.error().code != "not_enrolled") return report(globals, read_enrollment.error());
  const auto read_rejected = store->outbox({OutboxState::rejected});
  if (!read_rejected) return report(globals, read_rejected.error());
  const auto& summary = *read_summary;
  const auto& device = *read_device;
  const auto enrollment = read_enrollment ? std::optional(*read_enrollment) : std::nullopt;
  const auto& rejected = *read_rejected;
  constexpr std::int64_t kClockWarningMs = 5 * 60 * 1000;
  const bool clock_off = summary.clock_offset_ms && std::llabs(*summary.clock_offset_ms) > kClockWarningMs;
  if (globals.json) {
    safer::JsonOut out;
    out.begin_object().field("store", globals.store_path);
    write_device_fields(out, summary, device, enrollment ? std::optional(enrollment->server_url) : std::nullopt);
    out.field("last_seq", summary.last_seq).field("pending", summary.pending).field("rejected", summary.rejected);
    out.field("last_sync", summary.last_sync_at ? std::optional(safer::format_rfc3339(*summary.last_sync_at)) : std::nullopt);
    out.field("clock_offset_ms", summary.clock_offset_ms).field("clock_warning", clock_off);
    out.key("rejections").begin_array();
    for (const auto& entry : rejected) write_outbox_json(out, entry);
    out.end_array();
    write_record_counts(out, summary);
    std::cout << out.end_object().str() << '\n';
    return 0;
  }
  std::cout << "Store:            " << globals.store_path << '\n'
            << "Device:           " << summary.device_id << '\n'
            << "Server:           " << (enrollment ? enrollment->server_url : "not enrolled yet") << '\n'
            << "User and role:    "
            << (device.role ? *device.user_id + " (" + std::string(safer::to_string(*device.role)) + ")"
                            : "not known until the first sync")
            << '\n'
            << "Last sync:        "
            << (summary.last_sync_at ? safer::format_rfc3339(*summary.last_sync_at) : std::string("never")) << '\n'
            << "Changes pending:  " << summary.pending << '\n'
            << "Changes rejected: " << summary.rejected << '\n'
            << "On this device:   " << summary.households << " households, " << summary.visits << " visits, "
            << summary.commute_sessions << " Commute Aware sessions\n";
  for (const auto& entry : rejected) {
    std::cout << "  rejected seq " << entry.seq << " (" << safer::to_string(entry.change.entity) << ' '
              << entry.change.id << "): " << entry.reject_message << '\n';
  }
  if (clock_off) {
    std::cout << "Warning: this tablet's clock is " << std::llabs(*summary.clock_offset_ms) / 60000 << " minutes "
              << (*summary.clock_offset_ms > 0 ? "behind" : "ahead of")
              << " the server's. Set the right time: records carry it.\n";
  }
  return 0;
}

// The server's questions (protocol.md §5.8): with --json the array welcome carried; else one
// line each, "id  kind  label", withdrawn ones marked.
int run_questions(const Globals& globals) {
  int exit_code = 0;
  auto store = open_store(globals, exit_code);
  if (!store) return exit_code;
  const auto lists = store->reference_lists();
  if (!lists) return report(globals, lists.error());
  if (globals.json) {
    std::cout << safer::questions_to_json(lists->questions) << '\n';
    return 0;
  }
  for (const auto& question : lists->questions) {
    std::cout << question.id << "  " << safer::to_string(question.kind) << "  " << question.label
              << (question.withdrawn ? "  (withdrawn)" : "") << '\n';
  }
  return 0;
}

int run_reference(const Globals& globals, bool wards) {
  int exit_code = 0;
  auto store = open_store(globals, exit_code);
  if (!store) return exit_code;
  const auto lists = store->reference_lists();
  if (!lists) return report(globals, lists.error());
  const auto& values = wards ? lists->wards : lists->stations;
  if (globals.json) {
    safer::JsonOut out;
    out.begin_array();
    for (const auto& value : values) out.value(value);
    std::cout << out.end_array().str() << '\n';
  } else {
    for (const auto& value : values) std::cout << value << '\n';
  }
  return 0;
}

CLI::App* add_enroll(CLI::App& app, EnrollCommandOptions& enroll_options) {
  auto* enroll_cmd = app.add_subcommand("enroll", "Give this device its server and token (once)");
  enroll_cmd->add_option("--server", enroll_options.server,
                         "The sync server, such as wss://sync.example:8443 (ws:// only to this machine, "
                         "such as ws://127.0.0.1:8080, unless --allow-plaintext)")
      ->required();
  enroll_cmd->add_option("--ca-file", enroll_options.ca_file, "wss: trust the CAs in this PEM file instead of the system's")
      ->check(CLI::ExistingFile);
  enroll_cmd->add_option("--token-file", enroll_options.token_file,
                         "A file whose first line is the token sync-server enroll printed (\"-\": standard input)");
  enroll_cmd->add_option("--token", enroll_options.token,
                         "The token itself (\"-\": read it from standard input); on the command line other users "
                         "of the machine can see it, so prefer --token-file or -");
  enroll_cmd->add_flag("--allow-plaintext", enroll_options.allow_plaintext,
                       "Allow ws:// to a host other than this machine: the token and records cross the network "
                       "unencrypted (kept for later syncs)");
  enroll_cmd->add_option("--pin-max-attempts", enroll_options.pin_max_attempts,
                         "With --pin-file on a store that has no PIN yet: wrong PINs in a row that erase the store")
      ->capture_default_str()
      ->check(CLI::Range(3, 1000));
  enroll_cmd->add_option("--device", enroll_options.device_id,
                         "The device id the token was issued for, when not this tablet's own (only before "
                         "anything is recorded; see field-client status for the tablet's own id)");
  return enroll_cmd;
}

CLI::App* add_sync(CLI::App& app, SyncCommandOptions& sync_options) {
  auto* sync_cmd = app.add_subcommand("sync", "Send waiting changes to the server and fetch new ones");
  sync_cmd->add_flag("--watch", sync_options.watch,
                     "Keep running: sync soon after each new record, and retry with backoff while offline");
  sync_cmd->add_option("--interval", sync_options.interval_seconds, "--watch: seconds between pulls")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  sync_cmd->add_option("--retry-base", sync_options.retry_base_seconds, "--watch: first retry delay in seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  sync_cmd->add_option("--max-backoff", sync_options.max_backoff_seconds, "--watch: longest retry delay in seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 86400.0));
  sync_cmd->add_flag("--allow-plaintext", sync_options.allow_plaintext,
                     "Allow ws:// to a host other than this machine for this sync (a store enrolled before "
                     "field-client refused it)");
  sync_cmd->add_option("--timeout", sync_options.timeout_seconds, "Seconds to wait for the server at each step")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  return sync_cmd;
}

int run_set_pin(const Globals& globals, int max_attempts) {
  int exit_code = 0;
  auto store = open_store(globals, exit_code);
  if (!store) return exit_code;
  const auto pin = read_pin("-");
  if (!pin) return report(globals, pin.error());
  const bool was_encrypted = store->encrypted();
  if (auto saved = store->set_pin(*pin, PinSettings{max_attempts}); !saved) return report(globals, saved.error());
  std::cerr << (was_encrypted ? "PIN changed: the store is encrypted under the new one. "
                              : "PIN set: the store is now encrypted with it. ")
            << max_attempts << " wrong PINs in a row erase it. The app starts locked; field-client ui "
            << "--pin-lock-minutes N also locks it after N idle minutes.\n";
  return 0;
}

}  // namespace
}  // namespace field_client::cli

int main(int argc, char** argv) {
  using namespace field_client::cli;
  using field_client::Entity;

  CLI::App app{
      "field-client: record Safer Streets household visits and Commute Aware sessions on a\n"
      "tablet with no signal; they are kept safely on the device until they sync.",
      "field-client"};
  app.footer(
      "Examples:\n"
      "  field-client household add --address \"1 Example Road\" --postcode WD6 1AA --ward Elstree\n"
      "  field-client visit record --household ID --status completed --fire-safety-check --smoke-detectors 2\n"
      "  field-client commute log --station \"Potters Bar\" --cards 25 --message vehicle_security\n"
      "  field-client pending\n"
      "  field-client discard --seq 12\n"
      "  field-client --pin-file pin.txt enroll --server wss://sync.example:8443 --token-file token.txt\n"
      "  field-client --pin-file pin.txt sync\n"
      "  field-client app                     (the tablet app, opened in the browser)\n"
      "Exit codes: 0 done, 1 the store could not do it, 2 bad input (nothing was saved), 3 the store is\n"
      "locked (PIN missing, wrong, or wait), 4 the store was erased (wrong PINs, or a wipe order).");
  app.require_subcommand(1);
  app.fallthrough();

  Globals globals;
  globals.store_path = default_store_path();
  app.add_option("--store", globals.store_path, "The device's store (default: $FIELD_CLIENT_STORE or ~/.local/share/safer-streets/field-client.db)")
      ->capture_default_str();
  app.add_option("--pin-file", globals.pin_file,
                 "An encrypted store's PIN: the first line of this file (\"-\": standard input). Never on the "
                 "command line, which other users can read. enroll with a PIN encrypts a store that has none");
  app.add_flag("--json", globals.json, "Print JSON for scripts");

  RecordCommands<safer::Household, HouseholdOptions> households{Entity::household};
  RecordCommands<safer::Visit, VisitOptions> visits{Entity::visit};
  RecordCommands<safer::CommuteSession, CommuteOptions> sessions{Entity::commute_session};
  auto* household_cmd = app.add_subcommand("household", "Households: add one found in the field, update, list");
  households.attach(*household_cmd, "add", nullptr, "household");
  auto* visit_cmd = app.add_subcommand("visit", "Safer Streets household visits");
  visits.attach(*visit_cmd, "record", "add", "visit");
  auto* commute_cmd = app.add_subcommand("commute", "Commute Aware card-holder sessions at stations");
  sessions.attach(*commute_cmd, "log", "add", "commute session");

  std::string list_kind;
  auto* list_cmd = app.add_subcommand("list", "List the records on this device");
  list_cmd->add_option("kind", list_kind, "households, visits or commute (default: all)")
      ->check(CLI::IsMember({"all", "households", "visits", "commute"}));
  auto* pending_cmd = app.add_subcommand("pending", "List changes waiting to sync, and rejected ones");
  auto* status_cmd = app.add_subcommand("status", "Show the device, its store and what waits to sync");
  std::int64_t discard_seq = 0;
  auto* discard_cmd = app.add_subcommand(
      "discard", "Discard a change the server refused (see pending): its data goes, and the record returns to the "
                 "server's version (or goes, if the server never had it)");
  discard_cmd->add_option("--seq", discard_seq, "The refused change's seq, as pending lists it")
      ->required()
      ->check(CLI::PositiveNumber);
  EnrollCommandOptions enroll_options;
  auto* enroll_cmd = add_enroll(app, enroll_options);
  SyncCommandOptions sync_options;
  auto* sync_cmd = add_sync(app, sync_options);
  AppCommand ui, app_options;
  auto* ui_cmd = add_ui_command(app, ui);
  auto* app_cmd = add_app_command(app, app_options);
  auto* pin_cmd = app.add_subcommand("set-pin", "Set or change the PIN that encrypts the store (6 to 128 characters, "
                                                "read from standard input; after --pin-file - the current one comes first)");
  int pin_max_attempts = 10;
  pin_cmd->add_option("--pin-max-attempts", pin_max_attempts, "Wrong PINs in a row that erase the store")
      ->capture_default_str()
      ->check(CLI::Range(3, 1000));
  auto* wards_cmd = app.add_subcommand("wards", "List the wards records may name");
  auto* stations_cmd = app.add_subcommand("stations", "List the Commute Aware stations");
  auto* questions_cmd = app.add_subcommand("questions", "List the server's questions a visit may answer (--answer ID=VALUE)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }

  if (household_cmd->parsed()) return households.run(globals);
  if (visit_cmd->parsed()) return visits.run(globals);
  if (commute_cmd->parsed()) return sessions.run(globals);
  if (list_cmd->parsed()) return run_list(globals, list_kind);
  if (pending_cmd->parsed()) return run_pending(globals);
  if (status_cmd->parsed()) return run_status(globals);
  if (discard_cmd->parsed()) return run_discard(globals, discard_seq);
  if (ui_cmd->parsed()) return run_ui_command(globals.store_path, ui);
  if (app_cmd->parsed()) return run_app_command(globals.store_path, app_options);
  if (pin_cmd->parsed()) return run_set_pin(globals, pin_max_attempts);
  if (enroll_cmd->parsed()) return run_enroll(globals.access(), globals.json, enroll_options);
  if (sync_cmd->parsed()) return run_sync(globals.access(), globals.json, sync_options);
  if (wards_cmd->parsed()) return run_reference(globals, true);
  if (stations_cmd->parsed()) return run_reference(globals, false);
  if (questions_cmd->parsed()) return run_questions(globals);
  return 2;
}
