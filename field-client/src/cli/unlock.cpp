#include "unlock.h"

#include <fstream>
#include <iostream>

#include "field_client/pin_guard.h"
#include "safer/error_codes.h"

namespace field_client::cli {

int exit_code_for(const Error& error) {
  switch (safer::error_kind(error.code)) {
    case safer::ErrorKind::invalid:
    case safer::ErrorKind::argument: return kExitBadInput;
    case safer::ErrorKind::locked: return kExitLocked;
    case safer::ErrorKind::wiped: return kExitWiped;
    default: return kExitFailure;
  }
}

Result<std::string> read_pin(const std::string& pin_file) {
  std::string pin;
  if (pin_file == "-") {
    std::getline(std::cin, pin);
  } else {
    std::ifstream file(pin_file);
    if (!file) return Error{"invalid", "cannot read the PIN file " + pin_file, "pin"};
    std::getline(file, pin);
  }
  if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  if (pin.empty()) {
    return Error{"invalid", "no PIN in " + (pin_file == "-" ? std::string("standard input") : pin_file), "pin"};
  }
  return pin;
}

Result<std::unique_ptr<Store>> open_store(const StoreAccess& access) {
  Result<std::unique_ptr<Store>> store = Error{"locked", "", ""};
  const auto unlock = [&]() -> Result<std::unique_ptr<Store>> {
    const auto pin = access.pin ? Result<std::string>(*access.pin) : read_pin(access.pin_file);
    if (!pin) return pin.error();
    return unlock_store(access.path, *pin);
  };
  if (Store::is_encrypted(access.path) && !access.pin_file.empty()) {
    store = unlock();
  } else {
    store = Store::open(access.path);  // makes missing directories, mode 0700
    // A plain store still locked by the app PIN of an earlier version: that PIN encrypts it.
    if (!store && store.error().code == "locked" && !access.pin_file.empty()) store = unlock();
  }
  if (!store && store.error().code == "locked" && !Store::is_encrypted(access.path)) {
    return Error{"locked", "the store at " + access.path + " is locked by the app PIN of an earlier version: give that "
                           "PIN with --pin-file FILE (\"--pin-file -\" reads it from standard input); the store is then "
                           "encrypted with it", "pin"};
  }
  if (!store && store.error().code == "locked") {
    return Error{"locked", "the store at " + access.path + " is encrypted: give its PIN with --pin-file FILE "
                           "(\"--pin-file -\" reads it from standard input)", "pin"};
  }
  if (!store) return store.error();
  if (const auto warning = (*store)->exposure_warning(); !warning.empty()) std::cerr << "field-client: warning: " << warning << '\n';
  return store;
}

}  // namespace field_client::cli
