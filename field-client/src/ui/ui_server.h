// The tablet app's local server (docs/tablet-app.md): the app's pages and its local API over
// the store, on 127.0.0.1 only, for `field-client ui`, `field-client app` and the C API's
// fc_app_start. Beast stays in ui_server.cpp.
//
// Lifetime: construct, start() (opens the store, binds), then run() on the thread that is to
// serve, until stop() from any thread. The destructor stops the background sync (joining its
// thread) and closes the store; it must not run before run() has returned.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "field_client/pin_guard.h"
#include "field_client/store.h"

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
  std::chrono::milliseconds launch_token_lifetime{60'000};
};

// How long the launch cookie lasts in the browser (Max-Age): it survives a browser restart,
// but opens the app only while the process that set it runs (the key is new at every start).
inline constexpr std::chrono::seconds kCookieLifetime{30 * 24 * 3600};

class AppServer {
 public:
  explicit AppServer(UiOptions options);
  ~AppServer();
  AppServer(const AppServer&) = delete;
  AppServer& operator=(const AppServer&) = delete;

  // Opens the store (a plain one at once; an encrypted one waits for the PIN in the app) and
  // listens on 127.0.0.1:port. The store's error when it cannot be opened; "network" (field
  // "port") when it cannot listen, the message saying why (such as the port being taken).
  // Call once, before run().
  Status start();

  // Serves on the calling thread until stop(). REQUIRES: start() succeeded.
  void run();

  // Makes run() return soon; any thread, any number of times.
  void stop();

  // REQUIRES: start() succeeded. Constant from then on: any thread.
  unsigned short port() const;
  const std::string& key() const;   // the launch key: opens the app, and `X-Field-Client-Key`
  std::string address() const;      // "http://127.0.0.1:PORT"

  // "http://127.0.0.1:PORT/?launch=TOKEN": opens the app once, within the token's lifetime.
  // Any thread. Throws std::runtime_error when the system has no random bytes.
  std::string launch_url();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace field_client::ui
