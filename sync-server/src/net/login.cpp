#include "login.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <mutex>
#include <optional>

#include "log.h"
#include "server_metrics.h"
#include "safer/hex.h"
#include "safer/json_object.h"
#include "safer/json_out.h"
#include "safer/time.h"
#include "safer/validation.h"

namespace sync_server::net {

using safer::JsonOut;

namespace {

constexpr const char* kSessionCookie = "ss_session";
constexpr const char* kDeviceCookie = "ss_device";
constexpr std::int64_t kDeviceCookieDays = 180;
constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000LL;
constexpr std::int64_t kQueueFullRetryS = 1;

ApiResponse json_response(int status, std::string body) { return ApiResponse{status, "application/json", std::move(body), {}, {}}; }

// Logs `event` at most once a second, with how many there were since its last line and the
// address of the latest (one of many, in a flood): a flood of refusals must not become a flood
// of log lines (nor cost a write each).
class ThrottledEvent {
 public:
  explicit ThrottledEvent(const char* event) : event_(event) {}
  void happened(const std::string& peer) {
    const auto now = std::chrono::steady_clock::now();
    std::int64_t count = 0;
    {
      std::lock_guard lock(mutex_);
      ++count_;
      if (now - last_ < std::chrono::seconds(1)) return;
      last_ = now;
      count = count_;
      count_ = 0;
    }
    log::line(event_, "count=" + std::to_string(count) + " last_peer=" + peer);
  }

 private:
  const char* event_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_;  // guarded by mutex_
  std::int64_t count_ = 0;                      // guarded by mutex_
};
ThrottledEvent limited_event("login_limited");
ThrottledEvent queue_full_event("login_queue_full");

ApiResponse refusal(int status, std::string_view message, std::int64_t retry_after_s = 0) {
  JsonOut out;
  out.begin_object().field("error", message);
  if (retry_after_s > 0) out.field("retry_after_s", retry_after_s);
  auto response = json_response(status, out.end_object().str());
  if (retry_after_s > 0) response.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return response;
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &size);
  return safer::to_hex(std::span<const unsigned char>(digest, size));
}

std::string device_set_cookie(const std::string& value, bool secure) {
  return std::string(kDeviceCookie) + "=" + value + "; Path=/api/v1/session; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(kDeviceCookieDays * 24 * 60 * 60) + (secure ? "; Secure" : "");
}

// {"username": "...", "password": "..."}: both strings, the username a valid user id.
struct Credentials {
  std::string username, password;
};
std::optional<ApiResponse> read_credentials(const std::string& body_text, Credentials& credentials) {
  const auto body = safer::JsonObject::parse(body_text);
  if (!body || !body->is_string("username") || !body->is_string("password")) {
    return refusal(400, "send {\"username\": …, \"password\": …}");
  }
  credentials.username = *body->string("username");
  credentials.password = *body->string("password");
  if (!safer::is_valid_user_id(credentials.username)) {
    return refusal(400, "username must be 1 to 64 letters, digits, '.', '_', '@' or '-'");
  }
  return std::nullopt;
}

// The answer to a checked attempt. Logs the username only when it is a real account's and the
// password was right: what was typed in a failed attempt might be a password.
ApiResponse answer(const ServerStore::Login& login, const std::string& username, const ApiRequest& request,
                   const std::string& cookie_key) {
  using Outcome = ServerStore::Login::Outcome;
  auto& metrics = server_metrics();
  if (login.outcome == Outcome::locked) {
    metrics.record_login(LoginOutcome::locked);
    log::line("login_locked", "peer=" + request.peer);
    return refusal(429, "too many failed logins: this account is closed to you for a while", login.retry_after_s);
  }
  if (login.outcome == Outcome::wrong) {
    metrics.record_login(LoginOutcome::wrong_password);
    log::line("login_failed", "peer=" + request.peer);
    return refusal(401, "wrong username or password");
  }
  if (login.outcome == Outcome::disabled) {
    metrics.record_login(LoginOutcome::disabled);
    log::line("login_disabled", "user=" + username + " peer=" + request.peer);
    return refusal(403, "this account is disabled: ask another coordinator to enable it");
  }
  metrics.record_login(LoginOutcome::ok);
  log::line("login", "user=" + username + " peer=" + request.peer + (login.rehashed ? " rehashed=1" : ""));
  auto response = json_response(
      200, JsonOut().begin_object().field("username", username).field("csrf_token", login.csrf_token).end_object().str());
  response.headers.emplace_back("Set-Cookie", session_cookie(login.session_token, request.secure, false));
  response.headers.emplace_back("Set-Cookie",
                                device_set_cookie(device_cookie(cookie_key, username, safer::now_unix_millis()), request.secure));
  return response;
}

}  // namespace

std::string cookie_value(const std::string& header, std::string_view name) {
  const std::string prefix = std::string(name) + "=";
  for (std::size_t start = 0; start < header.size();) {
    while (start < header.size() && header[start] == ' ') ++start;
    const auto end = std::min(header.find(';', start), header.size());
    if (header.compare(start, prefix.size(), prefix) == 0) return header.substr(start + prefix.size(), end - start - prefix.size());
    start = end + 1;
  }
  return {};
}

std::string session_cookie(const std::string& token, bool secure, bool clear) {
  return std::string(kSessionCookie) + "=" + (clear ? "" : token) + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         (clear ? "0" : "43200") + (secure ? "; Secure" : "");
}

std::string device_cookie(const std::string& key, const std::string& username, std::int64_t issued_ms) {
  const std::string signed_part = username + "~" + std::to_string(issued_ms);
  return signed_part + "~" + hmac_hex(key, signed_part);
}

bool is_device_cookie_for(const std::string& key, const std::string& value, const std::string& username,
                          std::int64_t now_ms) {
  const auto signature_at = value.rfind('~');
  if (key.empty() || signature_at == std::string::npos) return false;
  const std::string signed_part = value.substr(0, signature_at);
  const auto issued_at = signed_part.rfind('~');
  if (issued_at == std::string::npos || signed_part.compare(0, issued_at, username) != 0 || issued_at != username.size()) {
    return false;
  }
  std::int64_t issued = 0;
  try {
    issued = std::stoll(signed_part.substr(issued_at + 1));
  } catch (const std::exception&) {
    return false;
  }
  if (issued > now_ms + kDayMs || now_ms - issued > kDeviceCookieDays * kDayMs) return false;
  const std::string expected = hmac_hex(key, signed_part);
  const std::string given = value.substr(signature_at + 1);
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

void handle_login(Context& context, const ApiRequest& request, std::function<void(ApiResponse)> done) {
  if (!request.origin.empty() && request.origin != "http://" + request.host && request.origin != "https://" + request.host) {
    server_metrics().record_login(LoginOutcome::bad_request);
    return done(refusal(403, "csrf"));
  }
  Credentials credentials;
  if (auto refused = read_credentials(request.body, credentials)) {
    server_metrics().record_login(LoginOutcome::bad_request);
    return done(std::move(*refused));
  }
  const bool trusted = is_device_cookie_for(context.login_cookie_key, cookie_value(request.cookie, kDeviceCookie),
                                            credentials.username, safer::now_unix_millis());
  if (const auto wait = context.login_limits->admit(request.peer, trusted); wait > 0) {
    limited_event.happened(request.peer);
    server_metrics().record_login(LoginOutcome::rate_limited);
    auto refused = refusal(429, "too many login attempts: wait and try again", wait);
    refused.delay = context.config.login.refusal_delay;
    return done(std::move(refused));
  }
  ServerStore::LoginAttempt attempt{credentials.username, credentials.password, request.peer, trusted};
  auto job = [&context, attempt = std::move(attempt), request, done](ServerStore& store) {
    try {
      done(answer(store.log_in(attempt), attempt.username, request, context.login_cookie_key));
    } catch (const std::exception&) {
      server_metrics().record_login(LoginOutcome::unavailable);
      done(refusal(503, "the server cannot read or write its database just now; try again"));
    }
  };
  if (!context.logins->try_post(std::move(job), trusted)) {
    queue_full_event.happened(request.peer);
    server_metrics().record_login(LoginOutcome::busy);
    auto refused = refusal(503, "the server is busy checking other logins: try again in a moment", kQueueFullRetryS);
    refused.delay = context.config.login.refusal_delay;
    done(std::move(refused));
  }
}

}  // namespace sync_server::net
