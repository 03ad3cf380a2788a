// Whether a host name or address stays on this machine, for the "no plaintext to the outside
// by accident" rule both programs apply (sync-server serve --listen, field-client's ws://).
#pragma once

#include <string_view>

namespace safer {

// True for "localhost" (any case, with or without a final dot), an IPv4 address in
// 127.0.0.0/8, and the IPv6 loopback "::1" (brackets allowed: "[::1]"). False for every
// other name or address, including "0.0.0.0", "::" and names that merely resolve to loopback.
bool is_loopback_host(std::string_view host);

}  // namespace safer
