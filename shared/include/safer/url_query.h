// The query string of a URL, and the security headers of the two web apps' HTTP answers:
// what the sync server (its dashboard and API) and the field client's tablet app share.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace safer {

// Splits "a=1&b=x%20y+z" into decoded pairs ({"a": "1", "b": "x y z"}). "%" not followed by two
// hex digits is kept as it is; a name without "=" gets "". A repeated name keeps the last value.
std::map<std::string, std::string> parse_query(std::string_view query);

// The Content-Security-Policy of both web apps: their pages take nothing from elsewhere (every
// script, style and request same-origin) and run in no frame.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

}  // namespace safer
