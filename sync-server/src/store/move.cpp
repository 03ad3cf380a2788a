// Moving a borough's data from its SQLite file into a PostgreSQL database (`sync-server
// move-to-postgresql`, docs/deployment.md): every table copied in one PostgreSQL transaction,
// then checked — the same number of rows in each table, and the same statistics.
#include <array>

#include "safer/stats.h"
#include "store_impl.h"

namespace sync_server {

namespace {

struct Table {
  const char* name;
  const char* select;  // from SQLite, in the order the rows are to be written
  const char* insert;  // into PostgreSQL, ?1… in the order of `select`'s columns
  int columns;
  const char* count;   // the rows `select` reads, on either side
};

// records.version and records.xid are given by PostgreSQL (kPgMigrations' trigger), in the
// order of the SQLite versions: the change feed keeps its order. meta keeps the reference
// lists (questions included), the server's HLC and the retention policy, not the epoch: the new store names its own cursors, and tablets
// pull once from the start (cursor_invalid), which changes nothing on them.
// The audit trail moves whole, hashes and anchor included, so that `audit verify` passes on
// the new store; its append-order trigger is off during the copy (the head is set last).
constexpr std::array<Table, 22> kTables{{
    {"meta", "SELECT key, value FROM meta WHERE key IN ('wards', 'stations', 'questions', 'server_hlc', 'retention_policy') ORDER BY key",
     "INSERT INTO meta (key, value) VALUES (?1, ?2)", 2,
     "SELECT count(*) FROM meta WHERE key IN ('wards', 'stations', 'questions', 'server_hlc', 'retention_policy')"},
    {"devices",
     "SELECT device_id, user_id, role, token_hash, revoked, acked_seq, enrolled_at, last_sync_at, wipe FROM devices"
     " ORDER BY device_id",
     "INSERT INTO devices (device_id, user_id, role, token_hash, revoked, acked_seq, enrolled_at, last_sync_at, wipe)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", 9,
     "SELECT count(*) FROM devices"},
    {"records",
     "SELECT entity, id, hlc, device_id, user_id, owner, deleted, data, household_id, assigned_to, target, ward,"
     " visited_at, status, follow_up, local_day FROM records ORDER BY version",
     "INSERT INTO records (entity, id, hlc, device_id, user_id, owner, deleted, data, version, household_id,"
     " assigned_to, target, ward, visited_at, status, follow_up, local_day)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)", 16,
     "SELECT count(*) FROM records"},
    {"rejections", "SELECT device_id, seq, entity, record_id, code, message, field, at FROM rejections",
     "INSERT INTO rejections (device_id, seq, entity, record_id, code, message, field, at)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", 8,
     "SELECT count(*) FROM rejections"},
    {"visit_totals", "SELECT day, ward, status, visits, crime_prevention_advice, fire_safety_check, healthy_lifestyle_advice, community_involvement_info, first_aid_training, follow_up_required, smoke_detectors_fitted, referred, basis_consent, basis_vital_interests, basis_safeguarding FROM visit_totals",
     "INSERT INTO visit_totals (day, ward, status, visits, crime_prevention_advice, fire_safety_check, healthy_lifestyle_advice, community_involvement_info, first_aid_training, follow_up_required, smoke_detectors_fitted, referred, basis_consent, basis_vital_interests, basis_safeguarding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)", 15,
     "SELECT count(*) FROM visit_totals"},
    {"visit_month_totals", "SELECT month, ward, status, visits, crime_prevention_advice, fire_safety_check, healthy_lifestyle_advice, community_involvement_info, first_aid_training, follow_up_required, smoke_detectors_fitted, referred, basis_consent, basis_vital_interests, basis_safeguarding FROM visit_month_totals",
     "INSERT INTO visit_month_totals (month, ward, status, visits, crime_prevention_advice, fire_safety_check, healthy_lifestyle_advice, community_involvement_info, first_aid_training, follow_up_required, smoke_detectors_fitted, referred, basis_consent, basis_vital_interests, basis_safeguarding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)", 15,
     "SELECT count(*) FROM visit_month_totals"},
    {"answer_totals", "SELECT day, ward, question, answer, visits FROM answer_totals",
     "INSERT INTO answer_totals (day, ward, question, answer, visits) VALUES (?1, ?2, ?3, ?4, ?5)", 5,
     "SELECT count(*) FROM answer_totals"},
    {"answer_month_totals", "SELECT month, ward, question, answer, visits FROM answer_month_totals",
     "INSERT INTO answer_month_totals (month, ward, question, answer, visits) VALUES (?1, ?2, ?3, ?4, ?5)", 5,
     "SELECT count(*) FROM answer_month_totals"},
    {"household_days", "SELECT household_id, day, completed FROM household_days",
     "INSERT INTO household_days (household_id, day, completed) VALUES (?1, ?2, ?3)", 3,
     "SELECT count(*) FROM household_days"},
    {"referrals",
     "SELECT visit_id, partner, household_id, local_day, ward, share_basis, sent_at, sent_by FROM referrals",
     "INSERT INTO referrals (visit_id, partner, household_id, local_day, ward, share_basis, sent_at, sent_by)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", 8,
     "SELECT count(*) FROM referrals"},
    {"commute_totals", "SELECT day, station, sessions, cards, msg_vehicle_security_sessions, msg_vehicle_security_cards, msg_home_security_sessions, msg_home_security_cards, msg_garden_tools_sessions, msg_garden_tools_cards, msg_personal_belongings_sessions, msg_personal_belongings_cards FROM commute_totals",
     "INSERT INTO commute_totals (day, station, sessions, cards, msg_vehicle_security_sessions, msg_vehicle_security_cards, msg_home_security_sessions, msg_home_security_cards, msg_garden_tools_sessions, msg_garden_tools_cards, msg_personal_belongings_sessions, msg_personal_belongings_cards) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", 12,
     "SELECT count(*) FROM commute_totals"},
    {"household_years", "SELECT household_id, year, completed FROM household_years",
     "INSERT INTO household_years (household_id, year, completed) VALUES (?1, ?2, ?3)", 3,
     "SELECT count(*) FROM household_years"},
    {"year_visited", "SELECT year, targets FROM year_visited",
     "INSERT INTO year_visited (year, targets) VALUES (?1, ?2)", 2,
     "SELECT count(*) FROM year_visited"},
    {"year_groups", "SELECT year, vulnerability, households, completed FROM year_groups",
     "INSERT INTO year_groups (year, vulnerability, households, completed) VALUES (?1, ?2, ?3, ?4)", 4,
     "SELECT count(*) FROM year_groups"},
    {"counters", "SELECT name, value FROM counters WHERE name = 'target_households'",
     "UPDATE counters SET value = ?2 WHERE name = ?1", 2,
     "SELECT count(*) FROM counters WHERE name = 'target_households'"},
    {"baseline_years", "SELECT year, households_visited, visits, smoke_detectors_fitted, cards_distributed FROM baseline_years",
     "INSERT INTO baseline_years (year, households_visited, visits, smoke_detectors_fitted, cards_distributed)"
     " VALUES (?1, ?2, ?3, ?4, ?5)", 5,
     "SELECT count(*) FROM baseline_years"},
    {"accounts", "SELECT username, password_hash, created_at, disabled_at FROM accounts",
     "INSERT INTO accounts (username, password_hash, created_at, disabled_at) VALUES (?1, ?2, ?3, ?4)", 4,
     "SELECT count(*) FROM accounts"},
    {"officers", "SELECT user_id, added_at, added_by FROM officers",
     "INSERT INTO officers (user_id, added_at, added_by) VALUES (?1, ?2, ?3)", 3,
     "SELECT count(*) FROM officers"},
    {"login_failures", "SELECT username, at, address FROM login_failures",
     "INSERT INTO login_failures (username, at, address) VALUES (?1, ?2, ?3)", 3,
     "SELECT count(*) FROM login_failures"},
    {"web_sessions", "SELECT token_hash, username, csrf_token, created_at, last_seen FROM web_sessions",
     "INSERT INTO web_sessions (token_hash, username, csrf_token, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)", 5,
     "SELECT count(*) FROM web_sessions"},
    {"audit_log",
     "SELECT seq, at, actor, via, address, action, outcome, household, device, username, kind, detail, prev_hash, hash"
     " FROM audit_log ORDER BY seq",
     "INSERT INTO audit_log (seq, at, actor, via, address, action, outcome, household, device, username, kind, detail,"
     " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", 14,
     "SELECT count(*) FROM audit_log"},
    {"audit_head", "SELECT id, last_seq, last_hash, anchor_seq, anchor_hash FROM audit_head",
     "UPDATE audit_head SET last_seq = ?2, last_hash = ?3, anchor_seq = ?4, anchor_hash = ?5 WHERE id = ?1", 5,
     "SELECT count(*) FROM audit_head"},
}};

std::int64_t count_rows(db::Database& db, const Table& table) {
  auto statement = db.cached(table.count);
  return statement->step() ? statement->column_int(0) : 0;
}

}  // namespace

Result<ServerStore::MoveReport> ServerStore::move_to_postgresql(const std::string& sqlite_path,
                                                                 const std::string& postgresql_url,
                                                                 StoreOptions options) {
  if (db::Database::is_postgresql_url(sqlite_path)) {
    return Error{"invalid", "--from must be the SQLite file the borough's server used", "from"};
  }
  if (!db::Database::is_postgresql_url(postgresql_url)) {
    return Error{"invalid", "--to must be a postgresql:// URL", "to"};
  }
  auto from = open(sqlite_path, options);
  if (!from) return from.error();
  auto to = open(postgresql_url, options);
  if (!to) return to.error();
  auto& source = (*from)->impl_->db;
  auto& target = (*to)->impl_->db;
  MoveReport report;
  try {
    for (const auto& table : kTables) {
      const std::string name = table.name;
      if ((name == "devices" || name == "records" || name == "accounts" || name == "audit_log") &&
          count_rows(target, table) != 0) {
        return Error{"invalid",
                     "the PostgreSQL database already holds " + name + ": nothing was moved; move into a new, empty database",
                     "to"};
      }
    }
    db::Transaction reading(source, db::Database::TransactionKind::read);
    db::Transaction writing(target);
    // The meta rows the new store wrote when it opened (its epoch stays; the lists and HLC are
    // replaced by the borough's).
    target.exec("DELETE FROM meta WHERE key IN ('wards', 'stations', 'questions', 'server_hlc', 'retention_policy')");
    target.exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard");
    for (const auto& table : kTables) {
      auto rows = source.cached(table.select);
      auto insert = target.cached(table.insert);
      std::int64_t copied = 0;
      while (rows->step()) {
        insert->reset();
        for (int column = 0; column < table.columns; ++column) {
          if (rows->column_is_null(column)) {
            insert->bind_null(column + 1);
          } else {
            insert->bind(column + 1, rows->column_text(column));
          }
        }
        insert->run();
        ++copied;
      }
      report.tables.emplace_back(table.name, copied);
    }
    target.exec("ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard");
    target.cached("UPDATE counters SET value = value + 1 WHERE name = 'feed_commits'")->run();
    // Checked before it commits: every table whole, and the same statistics.
    for (std::size_t i = 0; i < kTables.size(); ++i) {
      const std::int64_t copied = report.tables[i].second;
      if (count_rows(source, kTables[i]) != copied || count_rows(target, kTables[i]) != copied) {
        return Error{"storage", std::string("nothing was moved: the copy of ") + kTables[i].name +
                                    " came out with a different number of rows", ""};
      }
    }
    writing.commit();
    reading.commit();
  } catch (const db::Failure& failure) {
    return failure.error();
  }
  // The same statistics, kept and recomputed, on both sides (opened again: a store reads the
  // reference lists when it opens).
  auto moved = open(postgresql_url, options);
  if (!moved) return moved.error();
  const auto kept = (*from)->stats(std::nullopt, std::nullopt);
  if ((*moved)->stats(std::nullopt, std::nullopt) != kept ||
      (*moved)->recompute_stats(std::nullopt, std::nullopt) != kept) {
    return Error{"storage",
                 "the PostgreSQL database's statistics differ from the SQLite file's after the move: do not use it; "
                 "drop it and move again into a new database",
                 ""};
  }
  report.stats = kept;
  return report;
}

}  // namespace sync_server
