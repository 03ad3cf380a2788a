// The tablet app's local JSON API (docs/tablet-app.md) over the store, behind plain
// request/response structs so that Beast stays in ui_server.cpp.
//
// Thread safety: one thread (the server's) at a time.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "background_sync.h"
#include "field_client/store.h"

namespace field_client::ui {

struct LocalRequest {
  std::string method;
  std::string path;  // without the query
  std::map<std::string, std::string> query;
  std::string body;
  bool background = false;  // the app's own refresh ("X-Background: 1"): not use, for the PIN lock
};

struct LocalResponse {
  int status = 200;
  std::string body;  // JSON
};

class LocalApi {
 public:
  // `pin_lock`: lock after this long without use when a PIN is set (zero: never).
  LocalApi(Store& store, BackgroundSync& sync, std::chrono::milliseconds pin_lock);

  LocalResponse handle(const LocalRequest& request);

 private:
  LocalResponse status();
  LocalResponse reference();
  LocalResponse households(const LocalRequest& request);
  LocalResponse visits(const LocalRequest& request);
  LocalResponse commute();
  LocalResponse rejected();
  LocalResponse write(safer::Entity entity, const std::string& id, const std::string& body);
  LocalResponse remove(safer::Entity entity, const std::string& id);
  LocalResponse count(const std::string& id, const std::string& body);
  LocalResponse validate(safer::Entity entity, const std::string& body);
  LocalResponse unlock(const std::string& body);
  bool locked() const;

  Store& store_;
  BackgroundSync& sync_;
  const std::chrono::milliseconds pin_lock_;
  std::chrono::steady_clock::time_point last_use_;
};

}  // namespace field_client::ui
