// Opening the tablet app in a browser for `field-client app`: which command, and starting it
// detached (its own session, no terminal, standard streams on /dev/null) so that closing the
// browser's window or field-client stopping leaves the other running.
#pragma once

#include <string>
#include <vector>

#include "field_client/store.h"

namespace field_client::cli {

// The command that opens `url`: `chosen` (--browser) if not empty, else $FIELD_CLIENT_BROWSER,
// split on spaces, each "%u" replaced by the URL (the URL appended when there is none); else
// the first of chromium, chromium-browser, google-chrome on PATH in app mode ("--app=URL":
// its own window, no address bar); else xdg-open URL; empty when there is none of them.
std::vector<std::string> browser_command(const std::string& chosen, const std::string& url);

// Starts `argv` detached and does not wait for it. Error "argument" (field "browser") naming
// the program when it cannot be started.
Status start_detached(const std::vector<std::string>& argv);

}  // namespace field_client::cli
