// The tablet app's local JSON API (docs/tablet-app.md) over the store, behind plain
// request/response structs so that Beast stays in ui_server.cpp.
//
// Thread safety: one thread (the server's) at a time.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "background_sync.h"
#include "field_client/store.h"
#include "pin_guard.h"

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
  std::vector<std::pair<std::string, std::string>> headers;  // besides the server's own (e.g. Retry-After)
};

class LocalApi {
 public:
  // With a PIN set the app starts locked. `pin_lock`: lock again after this long without use
  // (zero: never). `pin_policy`: how many wrong PINs, and how fast (pin_guard.h).
  LocalApi(Store& store, BackgroundSync& sync, std::chrono::milliseconds pin_lock, PinPolicy pin_policy = {});

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
  // The live record `id` that this tablet may change (`verb`: "change", "delete"), or the
  // answer refusing it: a store failure, 404, or 403 for a visit or session made elsewhere.
  std::variant<StoredRecord, LocalResponse> own_record(safer::Entity entity, const std::string& id, const char* verb);
  LocalResponse unlock(const std::string& body);
  bool locked() const;

  Store& store_;
  BackgroundSync& sync_;
  const std::chrono::milliseconds pin_lock_;
  PinGuard pin_guard_;
  // The last use since the PIN was given; none since the start: locked if a PIN is set.
  std::optional<std::chrono::steady_clock::time_point> last_use_;
};

}  // namespace field_client::ui
