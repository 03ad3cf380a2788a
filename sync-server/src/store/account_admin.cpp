// Coordinators' accounts managed from the dashboard: the list, a new account, disabling and
// enabling, and a password reset (server_store.h states the rules; docs/server.md the why).
//
// Invariant: at least one account stays enabled once one exists. Disabling takes the enabled
// accounts' rows FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers),
// so two coordinators disabling each other at once cannot both succeed.
#include <algorithm>

#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/audit.h"
#include "sync_server/password.h"

namespace sync_server {

namespace {

constexpr const char* kNoAccount = "there is no account with this username";

bool account_exists(db::Database& db, const std::string& username) {
  auto found = db.cached("SELECT 1 FROM accounts WHERE username = ?");
  found->bind(1, username);
  return found->step();
}

}  // namespace

std::vector<ServerStore::Account> ServerStore::accounts() {
  const std::int64_t now = impl_->options.wall_clock();
  std::vector<Account> accounts;
  db::Transaction transaction(impl_->db, db::Database::TransactionKind::read);
  // Live as web_session() counts them: at most 12 hours old and used within the last hour.
  auto rows = impl_->db.cached(
      "SELECT a.username, a.created_at, a.disabled_at,"
      " (SELECT count(*) FROM web_sessions s WHERE s.username = a.username AND s.created_at > ? AND s.last_seen > ?)"
      " FROM accounts a ORDER BY a.username");
  constexpr std::int64_t kHour = 3'600'000;
  rows->bind(1, now - 12 * kHour).bind(2, now - kHour);
  while (rows->step()) {
    Account account;
    account.username = rows->column_text(0);
    account.created_at = rows->column_int(1);
    if (!rows->column_is_null(2)) account.disabled_at = rows->column_int(2);
    account.sessions = rows->column_int(3);
    accounts.push_back(std::move(account));
  }
  transaction.commit();
  return accounts;
}

Status ServerStore::audited_account_change(const AuditEntry& asked, const std::function<Status(AuditEntry&)>& change) {
  auto& db = impl_->db;
  AuditEntry entry = asked;
  try {
    Status refusal;
    {
      db::Transaction transaction(db);
      refusal = change(entry);
      if (refusal) {
        impl_->append_audit(entry);
        transaction.commit();
        return {};
      }
    }  // rolled back
    entry.outcome = refusal.error().code;
    db::Transaction transaction(db);
    impl_->append_audit(entry);
    transaction.commit();
    return refusal;
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

Status ServerStore::create_account(const std::string& username, const std::string& password, const Actor& by) {
  AuditEntry entry{by, kAuditAccountAdd};
  if (!safer::is_valid_user_id(username)) {
    return Error{"invalid", "the username must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "username"};
  }
  entry.username = username;
  if (const auto problem = password_problem(password)) return Error{"invalid", *problem, "password"};
  const std::string hash = hash_password(password);  // before the transaction: it takes half a second
  return audited_account_change(entry, [&](AuditEntry&) -> Status {
    if (account_exists(impl_->db, username)) return Error{"exists", "there is already an account with this username", "username"};
    impl_->db.cached("INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?)")
        ->bind(1, username)
        .bind(2, hash)
        .bind(3, impl_->options.wall_clock())
        .run();
    return {};
  });
}

Status ServerStore::set_account_enabled(const std::string& username, bool enabled, const Actor& by) {
  AuditEntry entry{by, enabled ? kAuditAccountEnable : kAuditAccountDisable};
  if (!safer::is_valid_user_id(username)) return Error{"not_found", kNoAccount, "username"};
  entry.username = username;
  auto& db = impl_->db;
  return audited_account_change(entry, [&](AuditEntry& done) -> Status {
    if (!account_exists(db, username)) return Error{"not_found", kNoAccount, "username"};
    if (enabled) {
      db.cached("UPDATE accounts SET disabled_at = NULL WHERE username = ?")->bind(1, username).run();
      return {};
    }
    if (username == by.name) return Error{"forbidden", "you cannot disable your own account", "username"};
    std::vector<std::string> enabled_accounts;
    {
      auto rows = db.cached("SELECT username FROM accounts WHERE disabled_at IS NULL FOR UPDATE");
      while (rows->step()) enabled_accounts.push_back(rows->column_text(0));
    }
    const bool is_enabled = std::find(enabled_accounts.begin(), enabled_accounts.end(), username) != enabled_accounts.end();
    if (is_enabled && enabled_accounts.size() == 1) {
      return Error{"forbidden", "this is the last enabled account: enable or create another first", "username"};
    }
    db.cached("UPDATE accounts SET disabled_at = coalesce(disabled_at, ?) WHERE username = ?")
        ->bind(1, impl_->options.wall_clock())
        .bind(2, username)
        .run();
    db.cached("DELETE FROM web_sessions WHERE username = ?")->bind(1, username).run();
    done.detail = "sessions ended=" + std::to_string(db.changes());
    return {};
  });
}

Status ServerStore::reset_password(const std::string& username, const std::string& password, const Actor& by) {
  AuditEntry entry{by, kAuditPasswordReset};
  if (!safer::is_valid_user_id(username)) return Error{"not_found", kNoAccount, "username"};
  entry.username = username;
  if (username == by.name) {
    return Error{"forbidden", "change your own password with your current one (Change your password), not by a reset",
                 "username"};
  }
  if (const auto problem = password_problem(password)) return Error{"invalid", *problem, "password"};
  const std::string hash = hash_password(password);
  auto& db = impl_->db;
  return audited_account_change(entry, [&](AuditEntry& done) -> Status {
    if (!account_exists(db, username)) return Error{"not_found", kNoAccount, "username"};
    db.cached("UPDATE accounts SET password_hash = ? WHERE username = ?")->bind(1, hash).bind(2, username).run();
    db.cached("DELETE FROM web_sessions WHERE username = ?")->bind(1, username).run();
    done.detail = "sessions ended=" + std::to_string(db.changes());
    db.cached("DELETE FROM login_failures WHERE username = ?")->bind(1, username).run();
    return {};
  });
}

}  // namespace sync_server
