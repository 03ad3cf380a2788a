// `field-client ui`: the tablet app, served on 127.0.0.1 only (docs/tablet-app.md).
#pragma once

#include <chrono>
#include <string>

#include "field_client/pin_guard.h"

namespace field_client::ui {

struct UiOptions {
  std::string store_path;
  unsigned short port = 8765;  // 0: any free port
  std::chrono::milliseconds pin_lock{0};
  PinPolicy pin_policy;
  std::chrono::milliseconds sync_interval{30'000};
  double retry_base_seconds = 1;
  double max_backoff_seconds = 60;
  std::string ca_file;  // wss: the CAs to trust when the app enrols the tablet; "": the system's
};

// Serves until SIGINT or SIGTERM. Prints the address to open (with the launch key) as the
// first line of standard output. Returns the process's exit code.
int run_ui(const UiOptions& options);

}  // namespace field_client::ui
