// The field-client commands that talk to the server: enroll, sync (once or --watch).
#pragma once

#include <string>

#include "unlock.h"

namespace field_client::cli {

struct SyncCommandOptions {
  bool watch = false;
  double interval_seconds = 30;     // --watch: pull at least this often
  double retry_base_seconds = 1;    // --watch: first retry delay after a failure
  double max_backoff_seconds = 60;  // --watch: longest retry delay
  double timeout_seconds = 15;
  bool allow_plaintext = false;  // ws:// to a host other than loopback, for this sync
};

struct EnrollCommandOptions {
  std::string server;
  std::string token;       // on the command line (visible to other users in ps); "-": standard input
  std::string token_file;  // a file whose first line is the token; "-": standard input
  std::string device_id;
  std::string ca_file;
  bool allow_plaintext = false;
  int pin_max_attempts = 10;  // a plain store given a PIN: wrong PINs in a row that wipe it
};

// Enrols the store. A plain store given a PIN (--pin-file) is encrypted with it; one given
// none stays plain, with a warning. An encrypted one is unlocked with its PIN first.
// Exit codes: 0 enrolled, 1 the store could not be opened, 2 bad input (nothing changed),
// 3 locked (see unlock.h).
int run_enroll(const StoreAccess& access, bool json, const EnrollCommandOptions& options);
// Syncs once or --watch. A coordinator's wipe order erases the store: exit 4.
int run_sync(const StoreAccess& access, bool json, const SyncCommandOptions& options);

}  // namespace field_client::cli
