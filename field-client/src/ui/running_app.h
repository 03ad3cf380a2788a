// `<store>.app`: how a second `field-client app` finds the app already serving a store, so
// that the desktop entry opens the browser on it rather than failing on a taken port. The
// serving process writes the file (mode 0600, like the store: it holds the launch key) and
// removes it when it stops; the second one reads it and asks the running app, with the key,
// for a launch link (POST /launch, docs/tablet-app.md).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "field_client/store.h"

namespace field_client::ui {

struct RunningApp {
  unsigned short port = 0;
  std::string key;
};

// "<store_path>.app".
std::string running_app_path(const std::string& store_path);

// Writes `<store_path>.app` for `app` on construction and removes it on destruction, unless
// by then it holds another app's (a later app on the same store wrote its own).
class RunningAppFile {
 public:
  // Error "storage" (field "store") when the file cannot be written; nothing is left behind.
  static Result<std::unique_ptr<RunningAppFile>> publish(const std::string& store_path, RunningApp app);
  ~RunningAppFile();
  RunningAppFile(const RunningAppFile&) = delete;
  RunningAppFile& operator=(const RunningAppFile&) = delete;

 private:
  RunningAppFile(std::string path, RunningApp app) : path_(std::move(path)), app_(std::move(app)) {}
  const std::string path_;
  const RunningApp app_;
};

// What `<store_path>.app` says; nothing when there is no such file or it is not one of ours.
std::optional<RunningApp> read_running_app(const std::string& store_path);

// A launch link from the app `running` ("http://127.0.0.1:PORT/?launch=TOKEN", built here
// from the port and the token it gave), or nothing when no field-client app answers there
// with one within `deadline` (it stopped, and perhaps another program has the port now).
std::optional<std::string> request_launch_url(const RunningApp& running,
                                              std::chrono::milliseconds deadline = std::chrono::seconds(3));

}  // namespace field_client::ui
