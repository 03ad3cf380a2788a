// The tablet app's local JSON API (docs/tablet-app.md) over the store, behind plain
// request/response structs so that Beast stays in ui_server.cpp.
//
// Thread safety: one thread (the server's) at a time.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "background_sync.h"
#include "field_client/pin_guard.h"
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
  std::vector<std::pair<std::string, std::string>> headers;  // besides the server's own (e.g. Retry-After)
};

class LocalApi {
 public:
  // The app over the store at `store_path`. A plain store (no PIN) is opened at once and never
  // locks. An encrypted one stays closed, and the app locked, until POST /api/unlock gives its
  // PIN (PinGuard: counted, waits, the wipe at the limit); then the store opens and the
  // background sync starts, with the key, and runs until the app stops (unlock once per
  // launch). `pin_lock`: lock the app again after this long without use (zero: never); the
  // PIN is then checked against the key held, and the store stays open. `post`: runs a task
  // on the server's thread (the background sync asks for the wipe a coordinator ordered).
  LocalApi(std::string store_path, BackgroundSyncSettings sync_settings, std::chrono::milliseconds pin_lock,
           PinPolicy pin_policy, std::function<void(std::function<void()>)> post);
  ~LocalApi();

  // Error when a plain store cannot be opened (the app cannot start).
  Status start();

  LocalResponse handle(const LocalRequest& request);

  // The CAs (a PEM file) a wss:// server's certificate must verify against when the app enrols
  // the tablet (POST /api/enrol) and then syncs; "" (the default): the system's.
  void set_ca_file(std::string ca_file) { ca_file_ = std::move(ca_file); }

 private:
  LocalResponse status();
  LocalResponse reference();
  // GET /api/households (a page of the list), POST /api/households/search (the text in the
  // body, never the URL), GET /api/households/{id} (one household, whichever page it is on).
  LocalResponse households(const LocalRequest& request);
  LocalResponse search_households(const std::string& body);
  LocalResponse household(const std::string& id);
  LocalResponse visits(const LocalRequest& request);
  // GET /api/due: {"today", "more", "due": [...]}, the work due today or before
  // (Store::work_due) on the device's local date: the oldest 500, `more` when there is more.
  LocalResponse due();
  LocalResponse commute();
  LocalResponse rejected();
  // DELETE /api/rejected/SEQ: Store::discard_rejected.
  LocalResponse discard(const std::string& seq_text);
  LocalResponse write(safer::Entity entity, const std::string& id, const std::string& body);
  LocalResponse remove(safer::Entity entity, const std::string& id);
  LocalResponse count(const std::string& id, const std::string& body);
  LocalResponse validate(safer::Entity entity, const std::string& body);
  // The live record `id` that this tablet may change (`verb`: "change", "delete"), or the
  // answer refusing it: a store failure, 404, or 403 for a visit or session made elsewhere.
  std::variant<StoredRecord, LocalResponse> own_record(safer::Entity entity, const std::string& id, const char* verb);
  LocalResponse unlock(const std::string& body);
  // POST /api/enrol {"server", "code", "pin"} (docs/tablet-app.md "Enrolling from the app"):
  // the code is redeemed at the server for the token, the PIN encrypts the store, then the
  // tablet is enrolled and the sync starts. Blocks this thread for the request (at most 20 s).
  LocalResponse enrol(const std::string& body);
  // After a PIN check: on the right one the app opens (the sync starts with the key); the answer.
  LocalResponse unlocked(PinAnswer answer);
  bool locked() const;
  // Stops the sync, closes the store and erases its files; `reason` ("pin", "coordinator")
  // is what the app is told from then on.
  Status wipe(const std::string& reason);
  void start_sync();

  const std::string store_path_;
  const BackgroundSyncSettings sync_settings_;
  const std::chrono::milliseconds pin_lock_;
  const std::function<void(std::function<void()>)> post_;
  std::unique_ptr<Store> store_;          // null until unlocked, and after a wipe
  std::optional<StoreKey> key_;           // an encrypted store's, once unlocked
  std::unique_ptr<BackgroundSync> sync_;  // runs only while the store is open
  PinGuard pin_guard_;
  std::string ca_file_;
  std::optional<std::string> wiped_;      // why the store was erased
  bool legacy_pin_ = false;               // a plain store locked by an earlier version's app PIN
  // The last use since the PIN was given; none since the start: locked if a PIN is set.
  std::optional<std::chrono::steady_clock::time_point> last_use_;
};

}  // namespace field_client::ui
