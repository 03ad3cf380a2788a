// The server's log: one line per event on standard error, "<UTC time> <event> key=value …".
//
// Lines carry ids, counts, codes and timings only — never an address, a note, a postcode or
// a vulnerability. Callers pass no record data here; rejection messages (which name fields,
// not values) are not logged either, only their codes.
#pragma once

#include <string>
#include <string_view>

namespace sync_server::log {

// Writes one line atomically (whole lines never interleave). Thread-safe.
void line(std::string_view event, std::string_view details);

}  // namespace sync_server::log
