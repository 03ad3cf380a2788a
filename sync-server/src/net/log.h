// The server's log: one line per event on standard error. As text (the default),
// "<UTC time> <event> key=value …"; as JSON (`serve --log-format json`, for journald and log
// shippers), one object a line: {"time": …, "event": …, "key": value, …}, the same events and
// keys, a value of digits written as a number.
//
// Lines carry ids, counts, codes and timings only — never an address, a note, a postcode or
// a vulnerability. Callers pass no record data here; rejection messages (which name fields,
// not values) are not logged either, only their codes.
#pragma once

#include <string>
#include <string_view>

namespace sync_server::log {

enum class Format { text, json };

// Chooses the format of every later line. Call before the server's threads start.
void set_format(Format format);

// Writes one line atomically (whole lines never interleave). Thread-safe. `details` are
// space-separated key=value pairs; a value with spaces is in double quotes (key="a b").
void line(std::string_view event, std::string_view details);

// The line as `format` writes it, without its newline. In JSON, a pair that is not key=value
// (none should be) is kept whole under "unparsed".
std::string format_line(Format format, std::string_view time, std::string_view event, std::string_view details);

}  // namespace sync_server::log
