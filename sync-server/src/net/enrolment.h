// Enrolling a tablet from its app (docs/protocol.md §8.1): the dashboard's enrolment codes
// with their QR code, and the unauthenticated endpoint that redeems one for the device's token.
#pragma once

#include <functional>
#include <string>

#include "api.h"
#include "context.h"
#include "sync_server/enrolment_codes.h"

namespace sync_server::net {

// `payload` as a QR code (libqrencode, error correction M): {"size": N, "rows": ["0110…", …]},
// N rows of N modules, '1' dark; the dashboard draws it with the quiet zone around it.
// Throws std::runtime_error if it cannot be encoded.
std::string qr_json(const std::string& payload);

// The address enrolment codes carry: `public_url` when set, else the scheme (wss:// over TLS,
// ws:// without) and Host the request came with.
std::string enrolment_server_url(const std::string& public_url, const ApiRequest& request);

// POST /api/v1/enrolment-codes (a coordinator's dashboard session): {"device_id", "user_id",
// "role"} → 201 {"device_id", "user_id", "role", "code", "expires_at", "server", "payload", "qr"}.
ApiResponse issue_enrolment_code(ServerStore& store, const ApiRequest& request, const Actor& by);

// POST /api/v1/enrolment, unauthenticated: {"code": "ABCDE-FGHJK"} → 200 {"device_id",
// "user_id", "role", "token"}, or 400 / 404 / 410 (`code`: used, expired) / 429, each with a
// message a tablet can show. Counted against the login rate limits (LoginLimits) before the
// store is asked; `done` is called once.
void handle_enrolment(Context& context, const ApiRequest& request, std::function<void(ApiResponse)> done);

}  // namespace sync_server::net
