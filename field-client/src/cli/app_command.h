// `field-client ui` and `field-client app`: the tablet app's local server, the first printing
// its address with the key, the second opening it in a browser by itself
// (docs/tablet-app.md). Both serve until SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "ui/ui_server.h"

namespace field_client::cli {

// The options `ui` and `app` share (the app's settings, and the ones given in other units),
// and those of `app` alone.
struct AppCommand {
  ui::UiOptions options;
  double pin_lock_minutes = 0, sync_interval_seconds = 30, pin_wait_seconds = 30;
  std::string browser;      // app: --browser
  bool no_browser = false;  // app: --no-browser
};

CLI::App* add_ui_command(CLI::App& app, AppCommand& command);
CLI::App* add_app_command(CLI::App& app, AppCommand& command);

// Run the commands on the store at `store_path`; the process's exit code.
int run_ui_command(const std::string& store_path, AppCommand command);
int run_app_command(const std::string& store_path, AppCommand command);

}  // namespace field_client::cli
