// How the command line opens the store: a plain one as it is, an encrypted one with the PIN
// from --pin-file (a file's first line, or standard input's for "-"; never the command line,
// which other users of the machine can read in ps), counted by the PinGuard (pin_guard.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "field_client/store.h"

namespace field_client::cli {

// Exit codes for every command (main.cpp's header comment lists them).
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitLocked = 3;  // the store needs its PIN, or the PIN was wrong or must wait
constexpr int kExitWiped = 4;   // the store was erased (too many wrong PINs, or a coordinator's order)

// The exit code of a command that failed with `error`.
int exit_code_for(const Error& error);

struct StoreAccess {
  std::string path;
  std::string pin_file;  // "" when not given; "-" for standard input
  std::optional<std::string> pin;  // pin_file's PIN when already read (standard input is read once)
};

// The first line of `pin_file` ("-": standard input, one line per call), without its line
// ending. Error "invalid" (field "pin") when it cannot be read or is empty; the PIN never
// appears in a message.
Result<std::string> read_pin(const std::string& pin_file);

// Opens the store: unlock_store with the PIN when it is encrypted, or a plain one still
// locked by the app PIN of an earlier version (which that PIN then encrypts); Error "locked"
// when no --pin-file was given. Store::open otherwise. Prints the exposure warning, if any.
Result<std::unique_ptr<Store>> open_store(const StoreAccess& access);

}  // namespace field_client::cli
