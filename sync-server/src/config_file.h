// A config file for a command: the same settings as its command-line options, one
// `key = value` a line (TOML, read by CLI11's own reader), the key being the long option
// without its dashes (`db`, `listen`, `time-zone`, `allow-plaintext = true`).
//
// Why not CLI11's set_config(): in CLI11 2.1 (Debian 12) a config file set on a subcommand
// is never read, and one set on the whole program puts serve's keys under a [serve] section,
// applies the first of two duplicate keys silently, and names neither the file nor, for an
// unknown key in a section, the key. These rules are stricter (docs/server.md "Config file").
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "safer/result.h"

namespace sync_server {

// Sets each option of `command` that the command line left unset from the file at `path`.
// An option given on the command line wins: its key in the file is checked but not applied.
// Returns an "invalid" error naming the file, and the key where there is one, for: a file
// that cannot be read (or is a directory); a section or a dotted key; a key that is no option
// of `command`, or one not configurable (`config`, `help`); a key given twice; a key without
// exactly one value, or with an empty one; a '#' inside a value (the reader would cut the value
// there); a value its option refuses (out of range, not a number, not true or false).
// On error some options may already be set: the caller must not go on.
safer::Status apply_config_file(CLI::App& command, const std::string& path);

// A warning when every user of the machine can read the file at `path` (mode o+r) and it holds
// a secret: a PostgreSQL URL with a password (`postgresql://user:secret@…`, `password=…`).
// "" otherwise, or when the file cannot be read. It names the file and its mode, never the secret.
std::string config_exposure_warning(const std::string& path);

}  // namespace sync_server
