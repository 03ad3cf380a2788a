// Coordinators' dashboard accounts, the lock-out after failed logins, and sessions.
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/password.h"
#include "sync_server/tokens.h"

namespace sync_server {

namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kLockWindow = 15 * kMinute;  // failures counted over this long
constexpr std::int64_t kLockFor = 15 * kMinute;     // and the lock lasts this long
constexpr int kMaxFailures = 5;
constexpr std::int64_t kSessionLifetime = 12 * 60 * kMinute;
constexpr std::int64_t kSessionIdle = 60 * kMinute;
constexpr std::int64_t kTouchEvery = kMinute;  // last_seen is written at most this often

}  // namespace

Status ServerStore::add_coordinator(const std::string& username, const std::string& password) {
  if (!safer::is_valid_user_id(username)) {
    return Error{"invalid", "the username must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "username"};
  }
  if (!is_acceptable_password(password)) {
    return Error{"invalid", "the password must be at least 12 characters long", "password"};
  }
  const std::string hash = hash_password(password);
  try {
    db::Transaction transaction(impl_->db);
    impl_->db.cached("INSERT INTO accounts VALUES (?, ?, ?) ON CONFLICT (username) DO UPDATE"
                     " SET password_hash = excluded.password_hash")
        ->bind(1, username)
        .bind(2, hash)
        .bind(3, impl_->options.wall_clock())
        .run();
    impl_->db.cached("DELETE FROM login_failures WHERE username = ?")->bind(1, username).run();
    transaction.commit();
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

ServerStore::Login ServerStore::log_in(const std::string& username, const std::string& password) {
  auto& db = impl_->db;
  const std::int64_t now = impl_->options.wall_clock();
  Login login;

  std::vector<std::int64_t> failures;
  {
    auto recent = db.cached("SELECT at FROM login_failures WHERE username = ? AND at > ? ORDER BY at DESC");
    recent->bind(1, username).bind(2, now - kLockWindow);
    while (recent->step()) failures.push_back(recent->column_int(0));
  }
  if (static_cast<int>(failures.size()) >= kMaxFailures) {
    const std::int64_t until = failures[kMaxFailures - 1] + kLockFor;
    if (until > now) {
      login.outcome = Login::Outcome::locked;
      login.retry_after_s = (until - now + 999) / 1000;
      return login;
    }
  }

  std::optional<std::string> stored;
  {
    auto account = db.cached("SELECT password_hash FROM accounts WHERE username = ?");
    account->bind(1, username);
    if (account->step()) stored = account->column_text(0);
  }
  // An unknown username costs one scrypt too, so that timing does not tell who has an account.
  const bool matches = verify_password(password, stored.value_or(decoy_password_hash())) && stored.has_value();

  db::Transaction transaction(db);
  if (!matches) {
    db.cached("INSERT INTO login_failures VALUES (?, ?)")->bind(1, username).bind(2, now).run();
    db.cached("DELETE FROM login_failures WHERE at < ?")->bind(1, now - 24 * 60 * kMinute).run();
    transaction.commit();
    login.outcome = Login::Outcome::wrong;
    return login;
  }
  login.outcome = Login::Outcome::ok;
  login.session_token = new_token();
  login.csrf_token = new_token();
  db.cached("DELETE FROM login_failures WHERE username = ?")->bind(1, username).run();
  db.cached("DELETE FROM web_sessions WHERE created_at < ? OR last_seen < ?")
      ->bind(1, now - kSessionLifetime)
      .bind(2, now - kSessionIdle)
      .run();
  db.cached("INSERT INTO web_sessions VALUES (?, ?, ?, ?, ?)")
      ->bind(1, token_hash(login.session_token))
      .bind(2, username)
      .bind(3, login.csrf_token)
      .bind(4, now)
      .bind(5, now)
      .run();
  transaction.commit();
  return login;
}

std::optional<ServerStore::WebSession> ServerStore::web_session(const std::string& token) {
  if (token.empty()) return std::nullopt;
  const std::int64_t now = impl_->options.wall_clock();
  const std::string hash = token_hash(token);
  WebSession session;
  std::int64_t last_seen = 0;
  {
    auto found = impl_->db.cached(
        "SELECT s.username, s.csrf_token, s.last_seen FROM web_sessions s JOIN accounts a ON a.username = s.username"
        " WHERE s.token_hash = ? AND s.created_at > ? AND s.last_seen > ?");
    found->bind(1, hash).bind(2, now - kSessionLifetime).bind(3, now - kSessionIdle);
    if (!found->step()) return std::nullopt;
    session.username = found->column_text(0);
    session.csrf_token = found->column_text(1);
    last_seen = found->column_int(2);
  }
  if (now - last_seen > kTouchEvery) {
    impl_->db.cached("UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?")->bind(1, now).bind(2, hash).run();
  }
  return session;
}

void ServerStore::log_out(const std::string& token) {
  impl_->db.cached("DELETE FROM web_sessions WHERE token_hash = ?")->bind(1, token_hash(token)).run();
}

}  // namespace sync_server
