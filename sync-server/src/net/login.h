// POST /api/v1/session, the dashboard login (docs/api.md), and the cookies it sets.
//
// An attempt is refused at once, on the calling thread and without scrypt, when it comes from
// another site, its body or username is malformed (400), its address or all addresses together
// send too many (429, LoginLimits), or the login pool's queue is full (503); each refusal but
// the 400s carries Retry-After. Otherwise the password is checked on the login pool (one or
// two threads of its own), never on the reader pool that serves devices.
//
// Device cookie (OWASP "slow down online guessing attacks with device cookies"): a successful
// login also sets ss_device, signed with the store's key, naming the username. An attempt for
// that username that presents it is a trusted device: it skips the global rate limit and the
// per-username slow-down, and waits in the pool's priority lane.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "api.h"
#include "context.h"

namespace sync_server::net {

// Answers one login; `done` is called exactly once, on this thread or a login pool thread.
void handle_login(Context& context, const ApiRequest& request, std::function<void(ApiResponse)> done);

// The value of cookie `name` in a Cookie header, or "".
std::string cookie_value(const std::string& header, std::string_view name);

// A Set-Cookie value for the session cookie ss_session; `clear`: one that deletes it.
std::string session_cookie(const std::string& token, bool secure, bool clear);

// The device cookie's value for `username`, signed with `key`, issued at `issued_ms`.
std::string device_cookie(const std::string& key, const std::string& username, std::int64_t issued_ms);

// True if `value` is a device cookie signed with `key` for `username`, issued at most
// 180 days before `now_ms`. Compares the signature in constant time.
bool is_device_cookie_for(const std::string& key, const std::string& value, const std::string& username,
                          std::int64_t now_ms);

}  // namespace sync_server::net
