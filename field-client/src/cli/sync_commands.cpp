#include "sync_commands.h"

#include <atomic>
#include <csignal>
#include <cmath>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "field_client/store.h"
#include "field_client/store_key.h"
#include "field_client/sync.h"
#include "safer/json_out.h"
#include "safer/time.h"

namespace field_client::cli {

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) { stop_requested = true; }

void print_error(bool json, const Error& error) {
  if (json) {
    safer::JsonOut out;
    out.begin_object().key("error").begin_object().field("code", error.code).field("message", error.message);
    out.field("retryable", is_retryable(error)).end_object().end_object();
    std::cerr << out.str() << '\n';
  } else {
    std::cerr << "field-client: " << error.message << '\n';
  }
}

std::unique_ptr<Store> open(const StoreAccess& access, bool json, int& exit_code) {
  auto store = open_store(access);
  if (!store) {
    print_error(json, store.error());
    exit_code = exit_code_for(store.error());
    return nullptr;
  }
  return std::move(*store);
}

// A coordinator ordered this device wiped: erase the store and tell the officer why.
int carry_out_wipe(std::unique_ptr<Store> store, bool json, const Error& order) {
  Error told = order;
  if (auto wiped = Store::wipe(std::move(store)); !wiped) {
    told.message += "; but " + wiped.error().message;
    print_error(json, told);
    return kExitFailure;
  }
  told.message = "a coordinator ordered this tablet wiped: every record, every change waiting to sync, the token "
                 "and the key were erased from it. Enrol it again (field-client enroll) to use it.";
  print_error(json, told);
  return kExitWiped;
}

// The sync is done; a failure to read what still waits shows as "?" (JSON: null).
void print_report(bool json, const SyncReport& report, const Store& store) {
  const auto summary = store.summary();
  if (json) {
    safer::JsonOut out;
    out.begin_object()
        .field("pushed", report.pushed)
        .field("rejected", report.rejected)
        .field("pulled", report.pulled)
        .field("full_pull", report.full_pull)
        .field("pending", summary ? std::optional(summary->pending) : std::nullopt)
        .field("clock_offset_ms", report.clock_offset_ms)
        .end_object();
    std::cout << out.str() << std::endl;
    return;
  }
  const std::string pending = summary ? std::to_string(summary->pending) : "?";
  std::cout << "synced: " << report.pushed << " change(s) sent";
  if (report.rejected > 0) std::cout << " (" << report.rejected << " rejected: see field-client pending)";
  std::cout << ", " << report.pulled << " received";
  if (report.full_pull) std::cout << " (a full pull: the server did not know this device's cursor)";
  std::cout << "; " << pending << " waiting" << std::endl;
  if (std::llabs(report.clock_offset_ms) > 5 * 60 * 1000) {
    std::cout << "warning: this tablet's clock is " << std::llabs(report.clock_offset_ms) / 60000 << " minutes "
              << (report.clock_offset_ms > 0 ? "behind" : "ahead of") << " the server's; set it right" << std::endl;
  }
}

// Progress lines on standard error for a long sync: from the second batch or page on, at most
// four a second. "received 3500 changes (page 7, about 56500 more)"; without "about … more"
// from a server that sends no estimate.
std::function<void(const SyncProgress&)> progress_printer() {
  using Clock = std::chrono::steady_clock;
  return [last = Clock::time_point{}](const SyncProgress& progress) mutable {
    const bool pushing = progress.phase == SyncProgress::Phase::pushing && progress.to_push > 500;
    const bool pulling = progress.phase == SyncProgress::Phase::pulling && progress.pages >= 2;
    if ((!pushing && !pulling) || Clock::now() - last < std::chrono::milliseconds(250)) return;
    last = Clock::now();
    if (pushing) {
      std::cerr << "  sent " << progress.pushed << " of " << progress.to_push << " changes\n";
      return;
    }
    std::cerr << "  received " << progress.pulled << " changes (page " << progress.pages;
    if (progress.remaining) std::cerr << ", about " << *progress.remaining << " more";
    std::cerr << ")\n";
  };
}

SyncOptions sync_options(bool json, const SyncCommandOptions& command) {
  SyncOptions options;
  options.timeout = std::chrono::milliseconds(static_cast<long>(command.timeout_seconds * 1000));
  options.allow_plaintext = command.allow_plaintext;
  if (!json) options.on_progress = progress_printer();
  return options;
}

// Sleeps up to `seconds`, waking early on SIGINT/SIGTERM or when `wake()` says so.
template <class Wake>
void nap(double seconds, Wake&& wake) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  while (!stop_requested && std::chrono::steady_clock::now() < until && !wake()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The first line of `in`, without its line ending and surrounding blanks.
std::string first_line(std::istream& in) {
  std::string line;
  std::getline(in, line);
  const auto begin = line.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return {};
  return line.substr(begin, line.find_last_not_of(" \t\r") + 1 - begin);
}

// The token from --token, --token-file or standard input ("-"). Error "invalid" (field
// "token") when none, both, or an unreadable or empty source was given; the token itself never
// appears in a message.
Result<std::string> read_token(const EnrollCommandOptions& options) {
  if (options.token.empty() == options.token_file.empty()) {
    return Error{"invalid", "give the token with --token-file FILE (or --token - to read it from standard input), "
                            "or with --token TOKEN; exactly one of them", "token"};
  }
  const std::string source = options.token_file.empty() ? options.token : options.token_file;
  if (source != "-" && options.token_file.empty()) return options.token;
  std::string token;
  if (source == "-") {
    token = first_line(std::cin);
  } else {
    std::ifstream file(source);
    if (!file) return Error{"invalid", "cannot read the token file " + source, "token"};
    token = first_line(file);
  }
  if (token.empty()) {
    return Error{"invalid", "no token in " + (source == "-" ? std::string("standard input") : source) +
                                ": it must hold the line sync-server enroll printed", "token"};
  }
  return token;
}

}  // namespace

int run_enroll(const StoreAccess& access, bool json, const EnrollCommandOptions& options) {
  const auto token = read_token(options);
  if (!token) {
    print_error(json, token.error());
    return 2;
  }
  const bool encrypted = Store::is_encrypted(access.path);
  std::optional<std::string> new_pin;
  if (!encrypted && !access.pin_file.empty()) {
    auto pin = read_pin(access.pin_file);
    if (pin) {
      if (auto allowed = check_pin_rules(*pin); !allowed) pin = allowed.error();
    }
    if (!pin) {
      print_error(json, pin.error());
      return 2;
    }
    new_pin = std::move(*pin);
  }
  int exit_code = 0;
  // A plain store still locked by an earlier version's app PIN is unlocked with the PIN just
  // read, not by reading --pin-file again (from standard input there is no second line).
  StoreAccess unlocking = access;
  unlocking.pin = new_pin;
  auto store = open(unlocking, json, exit_code);
  if (!store) return exit_code;
  if (!options.device_id.empty()) {
    if (auto adopted = store->set_device_id(options.device_id); !adopted) {
      print_error(json, adopted.error());
      return 2;
    }
  }
  const auto& server = options.server;
  if (auto enrolled = store->enroll(server, *token, options.ca_file, options.allow_plaintext); !enrolled) {
    print_error(json, enrolled.error());
    return 2;
  }
  if (new_pin) {
    if (auto set = store->set_pin(*new_pin, PinSettings{options.pin_max_attempts}); !set) {
      print_error(json, Error{set.error().code, "enrolled, but the store could not be encrypted: " + set.error().message, ""});
      return 1;
    }
    if (!json) std::cerr << "field-client: the store is encrypted with this PIN; " << options.pin_max_attempts
                         << " wrong PINs in a row erase it\n";
  } else if (!encrypted) {
    std::cerr << "field-client: warning: this store has no PIN, so it is not encrypted: anyone holding the tablet "
                 "can read it. Enrol with --pin-file FILE to encrypt it.\n";
  }
  const auto device = store->device();
  if (!device) {
    print_error(json, device.error());
    return 1;
  }
  if (json) {
    std::cout << safer::JsonOut().begin_object().field("server", server).field("device_id", device->device_id).end_object().str()
              << '\n';
  } else {
    std::cout << "enrolled: this device (" << device->device_id << ") syncs with " << server
              << "\nrun field-client sync, or field-client sync --watch to keep syncing\n";
  }
  return 0;
}

int run_sync(const StoreAccess& access, bool json, const SyncCommandOptions& command) {
  int exit_code = 0;
  auto store = open(access, json, exit_code);
  if (!store) return exit_code;
  const auto options = sync_options(json, command);
  if (!command.watch) {
    auto report = sync_once(*store, options);
    if (!report && report.error().code == "wipe") return carry_out_wipe(std::move(store), json, report.error());
    if (!report) {
      print_error(json, report.error());
      return 1;
    }
    print_report(json, *report, *store);
    return 0;
  }

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::mt19937 random(std::random_device{}());
  int failures = 0;
  while (!stop_requested) {
    auto report = sync_once(*store, options);
    if (report) {
      failures = 0;
      print_report(json, *report, *store);
      // Sync again soon after a new record, or at the interval to pull others' changes.
      const auto last_seq = [&] {
        const auto summary = store->summary();
        return summary ? summary->last_seq : -1;  // unreadable now: the next sync will say why
      };
      const auto seen = last_seq();
      nap(command.interval_seconds, [&] { return last_seq() != seen; });
      if (last_seq() != seen) nap(0.5, [] { return false; });  // let a burst settle
      continue;
    }
    if (report.error().code == "wipe") return carry_out_wipe(std::move(store), json, report.error());
    if (!is_retryable(report.error())) {
      print_error(json, report.error());
      std::cerr << "field-client: stopped retrying: this needs a person to act\n";
      return 1;
    }
    // Exponential backoff with full jitter: a fleet of tablets does not retry in step.
    ++failures;
    const double ceiling = std::min(command.max_backoff_seconds, command.retry_base_seconds * std::pow(2.0, failures - 1));
    const double delay = std::uniform_real_distribution<double>(0.0, ceiling)(random);
    if (!json) {
      std::cerr << "field-client: " << report.error().message << "; retrying in " << std::round(delay * 10) / 10
                << " s\n";
    } else {
      print_error(json, report.error());
    }
    nap(delay, [] { return false; });
  }
  return 0;
}

}  // namespace field_client::cli
