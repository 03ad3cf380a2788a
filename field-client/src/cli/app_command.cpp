#include "app_command.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "browser.h"
#include "ui/running_app.h"

namespace field_client::cli {

namespace {

void add_shared_options(CLI::App& command_app, AppCommand& command) {
  command_app.add_option("--port", command.options.port, "Port on 127.0.0.1 (0: any free port)")->capture_default_str();
  command_app.add_option("--pin-lock-minutes", command.pin_lock_minutes, "Lock after this many minutes without use (needs a PIN)")
      ->check(CLI::Range(0.0, 1440.0));
  command_app.add_option("--pin-wait-seconds", command.pin_wait_seconds,
                         "Wait after the 3rd wrong PIN in a row; it doubles after each further one (at most 1 hour)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  command_app.add_option("--sync-interval", command.sync_interval_seconds, "Seconds between syncs when nothing changes")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 86400.0));
  command_app.add_option("--retry-base", command.options.retry_base_seconds, "First retry delay in seconds")
      ->capture_default_str();
  command_app.add_option("--max-backoff", command.options.max_backoff_seconds, "Longest retry delay in seconds")
      ->capture_default_str();
  command_app.add_option("--ca-file", command.options.ca_file,
                         "wss: trust the CAs in this PEM file instead of the system's when the app enrols the tablet")
      ->check(CLI::ExistingFile);
}

ui::UiOptions options_of(const std::string& store_path, const AppCommand& command) {
  auto options = command.options;
  options.store_path = store_path;
  options.pin_lock = std::chrono::milliseconds(static_cast<long>(command.pin_lock_minutes * 60'000));
  options.pin_policy.first_wait = std::chrono::milliseconds(static_cast<long>(command.pin_wait_seconds * 1000));
  options.sync_interval = std::chrono::milliseconds(static_cast<long>(command.sync_interval_seconds * 1000));
  return options;
}

// SIGINT and SIGTERM, blocked in this thread and so in every thread started after this
// (the server's, the background sync's): waited for with sigwait() alone.
sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Starts the server (writing <store>.app for a later `field-client app`), calls `started`
// with it, then serves until SIGINT or SIGTERM. Returns the exit code.
template <class Started>
int serve(const ui::UiOptions& options, Started&& started) {
  const auto signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ui::AppServer server(options);
  if (auto listening = server.start(); !listening) {
    std::cerr << "field-client: " << listening.error().message << '\n';
    return 1;
  }
  auto published = ui::RunningAppFile::publish(options.store_path, ui::RunningApp{server.port(), server.key()});
  if (!published) std::cerr << "field-client: " << published.error().message << '\n';  // the app still works
  std::thread serving([&server] { server.run(); });
  started(server);
  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  serving.join();
  return 0;
}

// Opens `url` in the browser `command` chooses; false (and why, on standard error) when it cannot.
bool open_in_browser(const AppCommand& command, const std::string& url) {
  const auto argv = browser_command(command.browser, url);
  if (argv.empty()) {
    std::cerr << "field-client: no browser found (chromium, chromium-browser, google-chrome or xdg-open on PATH, "
                 "$FIELD_CLIENT_BROWSER or --browser)\n";
    return false;
  }
  if (auto opened = start_detached(argv); !opened) {
    std::cerr << "field-client: " << opened.error().message << '\n';
    return false;
  }
  return true;
}

// The app already serving the store, opened in the browser (or its launch link printed):
// true when one answered.
bool open_running_app(const std::string& store_path, const AppCommand& command) {
  const auto running = ui::read_running_app(store_path);
  if (!running) return false;
  const auto url = ui::request_launch_url(*running);
  if (!url) return false;
  const std::string address = "http://127.0.0.1:" + std::to_string(running->port);
  if (!command.no_browser && open_in_browser(command, *url)) {
    std::cout << "field-client app: opened the app already serving this store at " << address << std::endl;
  } else {
    std::cout << "field-client app: open " << *url << std::endl;
    std::cerr << "The app already serving this store is at " << address << "; this link opens it once, within a minute.\n";
  }
  return true;
}

}  // namespace

CLI::App* add_ui_command(CLI::App& app, AppCommand& command) {
  auto* ui_cmd = app.add_subcommand("ui", "Serve the tablet app on 127.0.0.1 (open the address it prints)");
  add_shared_options(*ui_cmd, command);
  return ui_cmd;
}

CLI::App* add_app_command(CLI::App& app, AppCommand& command) {
  auto* app_cmd = app.add_subcommand(
      "app", "Start the tablet app and open it in the browser (or open the one already running on this store)");
  add_shared_options(*app_cmd, command);
  app_cmd->add_option("--browser", command.browser,
                      "The browser command (else $FIELD_CLIENT_BROWSER, else chromium in app mode, else xdg-open); "
                      "%u in it is the address, otherwise added at the end");
  app_cmd->add_flag("--no-browser", command.no_browser, "Print a link that opens the app once, instead of opening it");
  return app_cmd;
}

int run_ui_command(const std::string& store_path, AppCommand command) {
  return serve(options_of(store_path, command), [](ui::AppServer& server) {
    std::cout << "field-client ui: open " << server.address() << "/?key=" << server.key() << std::endl;
    std::cerr << "The tablet app is served on 127.0.0.1 only; Ctrl+C stops it (nothing is lost).\n";
  });
}

int run_app_command(const std::string& store_path, AppCommand command) {
  if (open_running_app(store_path, command)) return 0;
  return serve(options_of(store_path, command), [&command](ui::AppServer& server) {
    const auto url = server.launch_url();
    if (!command.no_browser && open_in_browser(command, url)) {
      std::cout << "field-client app: serving " << server.address() << " (opened in the browser)" << std::endl;
    } else {
      std::cout << "field-client app: open " << url << std::endl;
      std::cerr << "This link opens the app once, within a minute; `field-client app` again gives a new one.\n";
    }
    std::cerr << "The tablet app keeps serving, and syncing, after its window closes, until Ctrl+C or SIGTERM "
                 "(nothing is lost); `field-client app` opens it again.\n";
  });
}

}  // namespace field_client::cli
