// Coordinators' dashboard accounts, the lock-out after failed logins, and sessions.
//
// Lock-out (docs/api.md): five failures for one username from one address within 15 minutes
// lock that pair for 15 minutes. Failures for a username from all addresses only slow it down:
// from the tenth within 15 minutes, each failure closes the username for a while (2 s, 4 s, …,
// at most a minute) to every browser without a device cookie for it. So a stranger elsewhere
// can neither lock the coordinator out nor guess fast, and a coordinator whose browser has
// logged in before (the device cookie, net/login.cpp) is not slowed down by them at all.
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/password.h"
#include "sync_server/tokens.h"

namespace sync_server {

namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kLockWindow = 15 * kMinute;  // failures counted over this long (and kept)
constexpr std::int64_t kLockFor = 15 * kMinute;     // a (username, address) lock lasts this long
constexpr int kMaxFailures = 5;                     // per (username, address)
constexpr int kSlowDownAfter = 10;                  // per username, from all addresses
constexpr std::int64_t kMaxSlowDown = kMinute;
constexpr std::int64_t kSessionLifetime = 12 * 60 * kMinute;
constexpr std::int64_t kSessionIdle = 60 * kMinute;
constexpr std::int64_t kTouchEvery = kMinute;  // last_seen is written at most this often

}  // namespace

Status ServerStore::add_coordinator(const std::string& username, const std::string& password, const Actor& by) {
  if (!safer::is_valid_user_id(username)) {
    return Error{"invalid", "the username must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "username"};
  }
  if (const auto problem = password_problem(password)) return Error{"invalid", *problem, "password"};
  const std::string hash = hash_password(password);
  try {
    db::Transaction transaction(impl_->db);
    const bool exists = [&] {
      auto found = impl_->db.cached("SELECT 1 FROM accounts WHERE username = ?");
      found->bind(1, username);
      return found->step();
    }();
    AuditEntry entry{by, exists ? kAuditPasswordChange : kAuditAccountAdd};
    entry.username = username;
    impl_->db.cached("INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?)"
                     " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, disabled_at = NULL")
        ->bind(1, username)
        .bind(2, hash)
        .bind(3, impl_->options.wall_clock())
        .run();
    impl_->db.cached("DELETE FROM login_failures WHERE username = ?")->bind(1, username).run();
    impl_->db.cached("DELETE FROM web_sessions WHERE username = ?")->bind(1, username).run();
    impl_->append_audit(entry);
    transaction.commit();
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

namespace {

// Times of the failures for `username` within the window, newest first; `address` non-empty:
// only those from that address.
std::vector<std::int64_t> recent_failures(db::Database& db, const std::string& username, const std::string& address,
                                          std::int64_t since) {
  std::vector<std::int64_t> failures;
  auto recent = address.empty()
                    ? db.cached("SELECT at FROM login_failures WHERE username = ? AND at > ? ORDER BY at DESC")
                    : db.cached("SELECT at FROM login_failures WHERE username = ? AND address = ? AND at > ?"
                                " ORDER BY at DESC");
  int column = 1;
  recent->bind(column++, username);
  if (!address.empty()) recent->bind(column++, address);
  recent->bind(column, since);
  while (recent->step()) failures.push_back(recent->column_int(0));
  return failures;
}

// When (ms since the epoch) the lock or slow-down these failures impose ends; 0 if none.
std::int64_t closed_until(const std::vector<std::int64_t>& pair_failures, const std::vector<std::int64_t>& all_failures,
                          bool trusted_device) {
  std::int64_t until = 0;
  if (static_cast<int>(pair_failures.size()) >= kMaxFailures) until = pair_failures[kMaxFailures - 1] + kLockFor;
  const int beyond = static_cast<int>(all_failures.size()) - kSlowDownAfter;
  if (!trusted_device && beyond >= 0) {
    const std::int64_t delay = std::min<std::int64_t>(2'000LL << std::min(beyond, 10), kMaxSlowDown);
    until = std::max(until, all_failures.front() + delay);
  }
  return until;
}

}  // namespace

ServerStore::Login ServerStore::log_in(const LoginAttempt& attempt) {
  auto& db = impl_->db;
  const std::int64_t now = impl_->options.wall_clock();
  const std::string& username = attempt.username;
  Login login;

  const auto until = closed_until(recent_failures(db, username, attempt.address, now - kLockWindow),
                                  recent_failures(db, username, "", now - kLockWindow), attempt.trusted_device);
  std::optional<std::string> stored;
  bool disabled = false;
  {
    auto account = db.cached(
        "SELECT password_hash, CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END FROM accounts WHERE username = ?");
    account->bind(1, username);
    if (account->step()) {
      stored = account->column_text(0);
      disabled = account->column_int(1) != 0;
    }
  }
  if (until > now) {
    // Refused unchecked, but recorded: a run of them is what an attack on an account looks
    // like. (The net layer's per-address limits bound how many can be written.)
    AuditEntry entry{Actor{"unauthenticated", "dashboard", attempt.address}, kAuditLogin};
    if (stored) entry.username = username;
    entry.outcome = "locked";
    db::Transaction transaction(db);
    impl_->append_audit(entry);
    transaction.commit();
    login.outcome = Login::Outcome::locked;
    login.retry_after_s = (until - now + 999) / 1000;
    return login;
  }

  // An unknown username costs one scrypt too, so that timing does not tell who has an account.
  // (The decoy is made on first use only: value_or() would make it on every first login.)
  const bool matches = verify_password(attempt.password, stored ? *stored : decoy_password_hash()) && stored.has_value();

  db::Transaction transaction(db);
  AuditEntry entry{Actor{matches ? username : "unauthenticated", "dashboard", attempt.address}, kAuditLogin};
  // What was typed in a failed attempt may be a password: it is kept only when it names an account.
  if (stored) entry.username = username;
  if (!matches) {
    entry.outcome = stored ? "wrong_password" : "unknown_username";
    // Stamped when answered, not when asked: a slow-down counts from the refusal the client saw.
    const std::int64_t failed_at = impl_->options.wall_clock();
    db.cached("INSERT INTO login_failures (username, at, address) VALUES (?, ?, ?)")
        ->bind(1, username)
        .bind(2, failed_at)
        .bind(3, attempt.address)
        .run();
    db.cached("DELETE FROM login_failures WHERE at <= ?")->bind(1, failed_at - kLockWindow).run();  // keeps the table small
    impl_->append_audit(entry);
    transaction.commit();
    login.outcome = Login::Outcome::wrong;
    return login;
  }
  if (disabled) {
    // Said only to whoever knows the password; it is not a guess, so it is not a failure.
    entry.outcome = "disabled";
    impl_->append_audit(entry);
    transaction.commit();
    login.outcome = Login::Outcome::disabled;
    return login;
  }
  if (needs_rehash(*stored)) {
    db.cached("UPDATE accounts SET password_hash = ? WHERE username = ?")
        ->bind(1, hash_password(attempt.password))
        .bind(2, username)
        .run();
    login.rehashed = true;
  }
  login.outcome = Login::Outcome::ok;
  login.session_token = new_token();
  login.csrf_token = new_token();
  db.cached("DELETE FROM login_failures WHERE username = ? AND address = ?")->bind(1, username).bind(2, attempt.address).run();
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
  if (login.rehashed) entry.detail = "password rehashed";
  impl_->append_audit(entry);
  transaction.commit();
  return login;
}

std::string ServerStore::login_cookie_key() {
  db::Transaction transaction(impl_->db);
  impl_->db.cached("INSERT INTO meta (key, value) VALUES ('login_cookie_key', ?) ON CONFLICT (key) DO NOTHING")
      ->bind(1, new_token())
      .run();
  auto key = impl_->meta("login_cookie_key").value_or("");
  transaction.commit();
  return key;
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
        " WHERE s.token_hash = ? AND s.created_at > ? AND s.last_seen > ? AND a.disabled_at IS NULL");
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

Status ServerStore::change_own_password(const std::string& current, const std::string& password,
                                        const std::string& keep_session_token, const Actor& by) {
  auto& db = impl_->db;
  AuditEntry entry{by, kAuditPasswordChange};
  entry.username = by.name;
  const auto refused = [&](const char* code, std::string message, const char* field) -> Status {
    entry.outcome = code;
    db::Transaction transaction(db);
    impl_->append_audit(entry);
    transaction.commit();
    return Error{code, std::move(message), field};
  };
  try {
    const std::int64_t now = impl_->options.wall_clock();
    // The same lock-out as a login: a session left open must not let a stranger guess faster.
    const auto until = closed_until(recent_failures(db, by.name, by.address, now - kLockWindow),
                                    recent_failures(db, by.name, "", now - kLockWindow), true);
    if (until > now) {
      return refused("locked", "too many wrong passwords: try again in " + std::to_string((until - now + 59'999) / kMinute) +
                                   " minutes", "current_password");
    }
    std::optional<std::string> stored;
    {
      auto account = db.cached("SELECT password_hash FROM accounts WHERE username = ?");
      account->bind(1, by.name);
      if (account->step()) stored = account->column_text(0);
    }
    if (!stored || !verify_password(current, *stored)) {
      db::Transaction transaction(db);
      db.cached("INSERT INTO login_failures (username, at, address) VALUES (?, ?, ?)")
          ->bind(1, by.name)
          .bind(2, impl_->options.wall_clock())
          .bind(3, by.address)
          .run();
      transaction.commit();
      return refused("wrong_password", "the current password is not right", "current_password");
    }
    if (const auto problem = password_problem(password)) return refused("invalid", *problem, "new_password");
    if (password == current) return refused("invalid", "the new password must differ from the current one", "new_password");
    const std::string hash = hash_password(password);
    db::Transaction transaction(db);
    db.cached("UPDATE accounts SET password_hash = ? WHERE username = ?")->bind(1, hash).bind(2, by.name).run();
    db.cached("DELETE FROM web_sessions WHERE username = ? AND token_hash <> ?")
        ->bind(1, by.name)
        .bind(2, token_hash(keep_session_token))
        .run();
    entry.detail = "other sessions ended=" + std::to_string(db.changes());
    db.cached("DELETE FROM login_failures WHERE username = ?")->bind(1, by.name).run();
    impl_->append_audit(entry);
    transaction.commit();
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

void ServerStore::log_out(const std::string& token) {
  impl_->db.cached("DELETE FROM web_sessions WHERE token_hash = ?")->bind(1, token_hash(token)).run();
}

}  // namespace sync_server
