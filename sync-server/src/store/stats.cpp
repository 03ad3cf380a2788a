// The statistics of protocol.md §7: kept up to date as versions are applied (count_*), read
// per request from those totals (stats), and recomputed from scratch for checking.
#include <algorithm>
#include <map>
#include <set>

#include "safer/record_json.h"
#include "safer/validation.h"
#include "store_impl.h"

namespace sync_server {

namespace {

using safer::CivilDate;
using safer::Outcome;

// household_years' and year_visited's year for all time (past every year a date can have).
constexpr int kAllTime = 100000;

// The financial year (1 April to 31 March) a local date is in, by the year it starts in.
int financial_year(const CivilDate& date) { return date.month >= 4 ? date.year : date.year - 1; }

std::string day_text(const CivilDate& date) { return safer::format_iso_date(date); }

// "" and "9999-12-31" bound the all-time range; ISO dates compare as text.
std::string lower(const std::optional<CivilDate>& date) { return date ? day_text(*date) : std::string(); }
std::string upper(const std::optional<CivilDate>& date) { return date ? day_text(*date) : std::string("9999-12-31"); }

CivilDate first_of_month(const CivilDate& date) { return {date.year, date.month, 1}; }
CivilDate last_of_month(const CivilDate& date) {
  const CivilDate next = date.month == 12 ? CivilDate{date.year + 1, 1, 1} : CivilDate{date.year, date.month + 1, 1};
  return safer::civil_from_days(safer::days_from_civil(next) - 1);
}
std::string month_text(const CivilDate& date) { return day_text(date).substr(0, 7); }

// A range of days cut into what visit_month_totals answers (the whole months inside it) and
// what visit_totals must (the days of a partial month at either end).
struct MonthSplit {
  std::optional<std::pair<std::string, std::string>> months;   // first and last month, YYYY-MM
  std::vector<std::pair<std::string, std::string>> days;       // first and last day, YYYY-MM-DD
};

MonthSplit split_by_month(const std::optional<CivilDate>& from, const std::optional<CivilDate>& to) {
  if (from && to && *to < *from) return {};  // no day at all
  if (from && from->year > 9999) return {};   // no day can be stored there (4-digit years)
  const bool from_whole = !from || from->day == 1;
  const bool to_whole = !to || *to == last_of_month(*to);
  const bool one_month = from && to && first_of_month(*from) == first_of_month(*to);
  if (one_month && !(from_whole && to_whole)) return {std::nullopt, {{lower(from), upper(to)}}};
  MonthSplit split;
  // The whole months inside the range, by their first days (nullopt: an open end). Compared
  // as dates: as text, the month after 9999-12 ("10000-01") sorts before it.
  std::optional<CivilDate> first, last;
  if (from) first = from_whole ? *from : safer::civil_from_days(safer::days_from_civil(last_of_month(*from)) + 1);
  if (to) last = first_of_month(to_whole ? *to : safer::civil_from_days(safer::days_from_civil(*to) - to->day));
  if (!from_whole) split.days.emplace_back(lower(from), day_text(last_of_month(*from)));
  if (!to_whole) split.days.emplace_back(day_text(first_of_month(*to)), upper(to));
  const bool none = (first && first->year > 9999) || (last && last->year < 0) || (first && last && *last < *first);
  if (!none) split.months.emplace(first ? month_text(*first) : std::string(), last ? month_text(*last) : std::string("9999-12"));
  return split;
}

// The financial year a whole range is, if it is one: kAllTime for no bounds, the year it
// starts in for 1 April to 31 March.
std::optional<int> whole_year(const std::optional<CivilDate>& from, const std::optional<CivilDate>& to) {
  if (!from && !to) return kAllTime;
  if (from && to && from->month == 4 && from->day == 1 && to->year == from->year + 1 && to->month == 3 && to->day == 31) {
    return from->year;
  }
  return std::nullopt;
}

// Adds `households` households with `completed` completed visits to each of their groups.
void add_to_groups(safer::Stats& stats, safer::EnumSet<safer::Vulnerability> groups, std::int64_t households,
                   std::int64_t completed) {
  const auto add = [&](std::size_t group) {
    stats.by_vulnerability[group].households += households;
    stats.by_vulnerability[group].completed_visits += completed;
  };
  if (groups.empty()) add(stats.by_vulnerability.size() - 1);
  for (const auto group : groups.values()) add(static_cast<std::size_t>(group));
}

}  // namespace

safer::EnumSet<safer::Vulnerability> vulnerabilities_in(const db::Statement& row, int column) {
  safer::EnumSet<safer::Vulnerability> found;
  if (row.column_is_null(column)) return found;
  const std::string text = row.column_text(column);
  for (std::size_t i = 0; i < safer::EnumNames<safer::Vulnerability>::names.size(); ++i) {
    const auto value = static_cast<safer::Vulnerability>(i);
    if (text.find("\"" + std::string(safer::to_string(value)) + "\"") != std::string::npos) found.insert(value);
  }
  return found;
}

// The statements on visit_totals and visit_month_totals differ only in their table and key;
// statements are cached by their literal text, so the shared parts are macros, not strings.
// ADD_TO_TOTALS: an upsert's conflict clause that adds a row of deltas to the stored row, `t`
// (PostgreSQL wants the stored row's columns named by table).
#define ADD_TO_TOTALS                                                                       \
  " DO UPDATE SET visits = t.visits + excluded.visits,"                                       \
  " crime_prevention_advice = t.crime_prevention_advice + excluded.crime_prevention_advice,"   \
  " fire_safety_check = t.fire_safety_check + excluded.fire_safety_check,"                     \
  " healthy_lifestyle_advice = t.healthy_lifestyle_advice + excluded.healthy_lifestyle_advice," \
  " community_involvement_info = t.community_involvement_info + excluded.community_involvement_info," \
  " first_aid_training = t.first_aid_training + excluded.first_aid_training,"                 \
  " follow_up_required = t.follow_up_required + excluded.follow_up_required,"                 \
  " smoke_detectors_fitted = t.smoke_detectors_fitted + excluded.smoke_detectors_fitted,"       \
  " referred = t.referred + excluded.referred,"                                                 \
  " basis_consent = t.basis_consent + excluded.basis_consent,"                                 \
  " basis_vital_interests = t.basis_vital_interests + excluded.basis_vital_interests,"         \
  " basis_safeguarding = t.basis_safeguarding + excluded.basis_safeguarding"
// TOTALS_VALUES: a row's parameters, key then VisitTotals.
#define TOTALS_VALUES "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15"
// SUM_OF_TOTALS: the sums of every count, in VisitTotals order, after ward and status.
#define SUM_OF_TOTALS                                                                            \
  "sum(visits), sum(crime_prevention_advice), sum(fire_safety_check), sum(healthy_lifestyle_advice),"  \
  " sum(community_involvement_info), sum(first_aid_training), sum(follow_up_required),"            \
  " sum(smoke_detectors_fitted), sum(referred), sum(basis_consent), sum(basis_vital_interests),"  \
  " sum(basis_safeguarding)"

void ServerStore::Impl::count_visit(const safer::Visit& visit, const std::string& ward, int sign) {
  const CivilDate date = options.local_date(visit.visited_at);
  const std::string day = day_text(date);
  const std::string status(safer::to_string(visit.status));
  VisitTotals delta{};
  delta[0] = sign;
  for (std::size_t i = 0; i < safer::EnumNames<Outcome>::names.size(); ++i) {
    if (visit.has(static_cast<Outcome>(i))) delta[1 + i] = sign;
  }
  delta[7] = visit.smoke_detectors_fitted * sign;
  if (safer::has_referral(visit, options.lists)) {
    delta[8] = sign;
    if (visit.share_basis) delta[9 + static_cast<std::size_t>(*visit.share_basis)] = sign;
  }
  const auto add = [&delta](VisitTotals& totals) {
    for (std::size_t i = 0; i < totals.size(); ++i) totals[i] += delta[i];
  };
  add(pending_days[{day, ward, status}]);
  add(pending_months[{day.substr(0, 7), ward, status}]);
  for (const auto& [question, answer] : visit.answers) {
    const auto* scale = std::get_if<std::int64_t>(&answer);
    pending_answer_days[{day, ward, question, scale ? *scale : 0}] += sign;
    pending_answer_months[{day.substr(0, 7), ward, question, scale ? *scale : 0}] += sign;
  }
  if (visit.status == safer::VisitStatus::completed) {
    pending_household_days[{visit.household_id, day}] += sign;
    pending_household_years[{visit.household_id, financial_year(date)}] += sign;
    pending_household_years[{visit.household_id, kAllTime}] += sign;
  }
}

void ServerStore::Impl::drop_counts() {
  pending_days.clear();
  pending_months.clear();
  pending_household_days.clear();
  pending_household_years.clear();
  pending_groups.clear();
  pending_answer_days.clear();
  pending_answer_months.clear();
  pending_referrals.clear();
}

namespace {

// Adds `pending` to a totals table (visit_totals or visit_month_totals) with `upsert`, and
// removes the rows a take-away left at zero visits with `remove` (RowsWriter statements).
void write_totals(db::Database& db, db::Statement& upsert, db::Statement& remove,
                  const std::map<VisitTotalsKey, VisitTotals>& pending) {
  db::RowsWriter added(db, upsert), emptied(db, remove);
  for (const auto& [key, totals] : pending) {
    if (totals == VisitTotals{}) continue;  // added and taken away again
    const auto& [period, ward, status] = key;
    added.add(period).add(ward).add(status);
    for (const std::int64_t count : totals) added.add(count);
    added.end_row();
    if (totals[0] < 0) emptied.add(period).add(ward).add(status).end_row();  // only a take-away can empty a row
  }
  added.finish();
  emptied.finish();
}

// As write_totals, for answer_totals or answer_month_totals.
void write_answer_totals(db::Database& db, db::Statement& upsert, db::Statement& remove,
                         const std::map<AnswerKey, std::int64_t>& pending) {
  db::RowsWriter added(db, upsert), emptied(db, remove);
  for (const auto& [key, visits] : pending) {
    if (visits == 0) continue;
    const auto& [period, ward, question, answer] = key;
    added.add(period).add(ward).add(question).add(answer).add(visits).end_row();
    if (visits < 0) emptied.add(period).add(ward).add(question).add(answer).end_row();
  }
  added.finish();
  emptied.finish();
}

}  // namespace

// Each statement of the flush in two forms: SQLite's, run once a row, and PostgreSQL's, run
// once for all the rows (db::RowsWriter), whose parameters are arrays read by unnest().
#define UNNEST_TOTALS                                                                    \
  " SELECT * FROM unnest(?1::text[], ?2::text[], ?3::text[], ?4::bigint[], ?5::bigint[],"          \
  " ?6::bigint[], ?7::bigint[], ?8::bigint[], ?9::bigint[], ?10::bigint[], ?11::bigint[],"         \
  " ?12::bigint[], ?13::bigint[], ?14::bigint[], ?15::bigint[])"
#define UNNEST_KEYS_3 " IN (SELECT * FROM unnest(?1::text[], ?2::text[], ?3::text[]))"
#define UNNEST_KEYS_4 " IN (SELECT * FROM unnest(?1::text[], ?2::text[], ?3::text[], ?4::bigint[]))"

void ServerStore::Impl::flush_counts() {
  const bool pg = db.postgresql();
  write_totals(db,
               *db.cached(pg ? "INSERT INTO visit_totals AS t" UNNEST_TOTALS " ON CONFLICT (day, ward, status)" ADD_TO_TOTALS
                             : "INSERT INTO visit_totals AS t VALUES (" TOTALS_VALUES ") ON CONFLICT (day, ward, status)"
                               ADD_TO_TOTALS),
               *db.cached(pg ? "DELETE FROM visit_totals WHERE (day, ward, status)" UNNEST_KEYS_3 " AND visits = 0"
                             : "DELETE FROM visit_totals WHERE day = ? AND ward = ? AND status = ? AND visits = 0"),
               pending_days);
  pending_days.clear();
  write_totals(db,
               *db.cached(pg ? "INSERT INTO visit_month_totals AS t" UNNEST_TOTALS " ON CONFLICT (month, ward, status)"
                               ADD_TO_TOTALS
                             : "INSERT INTO visit_month_totals AS t VALUES (" TOTALS_VALUES ")"
                               " ON CONFLICT (month, ward, status)" ADD_TO_TOTALS),
               *db.cached(pg ? "DELETE FROM visit_month_totals WHERE (month, ward, status)" UNNEST_KEYS_3 " AND visits = 0"
                             : "DELETE FROM visit_month_totals WHERE month = ? AND ward = ? AND status = ? AND visits = 0"),
               pending_months);
  pending_months.clear();
  write_answer_totals(
      db,
      *db.cached(pg ? "INSERT INTO answer_totals AS t SELECT * FROM unnest(?1::text[], ?2::text[], ?3::text[], ?4::bigint[],"
                      " ?5::bigint[]) ON CONFLICT (day, ward, question, answer) DO UPDATE SET visits = t.visits + excluded.visits"
                    : "INSERT INTO answer_totals AS t VALUES (?1, ?2, ?3, ?4, ?5)"
                      " ON CONFLICT (day, ward, question, answer) DO UPDATE SET visits = t.visits + excluded.visits"),
      *db.cached(pg ? "DELETE FROM answer_totals WHERE (day, ward, question, answer)" UNNEST_KEYS_4 " AND visits = 0"
                    : "DELETE FROM answer_totals WHERE day = ? AND ward = ? AND question = ? AND answer = ? AND visits = 0"),
      pending_answer_days);
  pending_answer_days.clear();
  write_answer_totals(
      db,
      *db.cached(pg ? "INSERT INTO answer_month_totals AS t SELECT * FROM unnest(?1::text[], ?2::text[], ?3::text[],"
                      " ?4::bigint[], ?5::bigint[]) ON CONFLICT (month, ward, question, answer)"
                      " DO UPDATE SET visits = t.visits + excluded.visits"
                    : "INSERT INTO answer_month_totals AS t VALUES (?1, ?2, ?3, ?4, ?5)"
                      " ON CONFLICT (month, ward, question, answer) DO UPDATE SET visits = t.visits + excluded.visits"),
      *db.cached(pg ? "DELETE FROM answer_month_totals WHERE (month, ward, question, answer)" UNNEST_KEYS_4
                      " AND visits = 0"
                    : "DELETE FROM answer_month_totals WHERE month = ? AND ward = ? AND question = ? AND answer = ?"
                      " AND visits = 0"),
      pending_answer_months);
  pending_answer_months.clear();

  {
    db::RowsWriter added(db, *db.cached(pg ? "INSERT INTO household_days AS t SELECT * FROM unnest(?1::text[], ?2::text[],"
                                             " ?3::bigint[]) ON CONFLICT (household_id, day)"
                                             " DO UPDATE SET completed = t.completed + excluded.completed"
                                           : "INSERT INTO household_days AS t VALUES (?1, ?2, ?3) ON CONFLICT"
                                             " (household_id, day) DO UPDATE SET completed = t.completed + excluded.completed"));
    db::RowsWriter emptied(db, *db.cached(pg ? "DELETE FROM household_days WHERE (household_id, day) IN"
                                               " (SELECT * FROM unnest(?1::text[], ?2::text[])) AND completed = 0"
                                             : "DELETE FROM household_days WHERE household_id = ? AND day = ? AND completed = 0"));
    for (const auto& [key, delta] : pending_household_days) {
      if (delta == 0) continue;
      added.add(key.first).add(key.second).add(delta).end_row();
      if (delta < 0) emptied.add(key.first).add(key.second).end_row();
    }
    added.finish();
    emptied.finish();
    pending_household_days.clear();
  }

  // Each household whose years change, read by key and shared-locked (PostgreSQL) before its
  // years are written: a coordinator's change of the household's target flag or
  // vulnerabilities on another server is waited for, and seen, so that exactly one of the two
  // transactions counts the household among the year's visited and moves it between groups
  // (docs/scale-out.md).
  struct HouseholdNow {
    bool live_target = false;
    std::uint32_t vulnerabilities = 0;
  };
  std::map<std::string, HouseholdNow> households;  // none read: no live record
  {
    db::RowsWriter read(db,
                        *db.cached(pg ? "SELECT id, target, deleted, json_extract(data, '$.vulnerability') FROM records"
                                        " WHERE entity = 'household' AND id = ANY(?1::text[]) ORDER BY id FOR SHARE"
                                      : "SELECT id, target, deleted, json_extract(data, '$.vulnerability') FROM records"
                                        " WHERE entity = 'household' AND id = ?"),
                        [&households](const db::Statement& row) {
                          households[row.column_text(0)] = {row.column_int(1) == 1 && row.column_int(2) == 0,
                                                            vulnerabilities_in(row, 3).bits()};
                        });
    const std::string* last = nullptr;  // the map keeps a household's years together
    for (const auto& [key, delta] : pending_household_years) {
      if (delta == 0 || (last != nullptr && *last == key.first)) continue;
      read.add(key.first).end_row();
      last = &key.first;
    }
    read.finish();
  }
  // The years' counts after this group's, by household and year.
  std::map<std::pair<std::string, int>, std::int64_t> completed_now;
  {
    db::RowsWriter added(db,
                         *db.cached(pg ? "INSERT INTO household_years AS t SELECT * FROM unnest(?1::text[], ?2::int[],"
                                         " ?3::bigint[]) ON CONFLICT (household_id, year) DO UPDATE SET"
                                         " completed = t.completed + excluded.completed RETURNING household_id, year, completed"
                                       : "INSERT INTO household_years AS t VALUES (?1, ?2, ?3) ON CONFLICT (household_id, year)"
                                         " DO UPDATE SET completed = t.completed + excluded.completed"
                                         " RETURNING household_id, year, completed"),
                         [&completed_now](const db::Statement& row) {
                           completed_now[{row.column_text(0), static_cast<int>(row.column_int(1))}] = row.column_int(2);
                         });
    for (const auto& [key, delta] : pending_household_years) {
      if (delta != 0) added.add(key.first).add(key.second).add(delta).end_row();
    }
    added.finish();
  }
  // year_visited's rows are written after the loop, in year order: in the order of households
  // two writers' groups would lock them in different orders and could deadlock.
  std::map<int, std::int64_t> visited_targets;
  db::RowsWriter emptied(db, *db.cached(pg ? "DELETE FROM household_years WHERE (household_id, year) IN"
                                             " (SELECT * FROM unnest(?1::text[], ?2::int[]))"
                                           : "DELETE FROM household_years WHERE household_id = ? AND year = ?"));
  for (const auto& [key, delta] : pending_household_years) {
    if (delta == 0) continue;
    const auto& [household_id, year] = key;
    const std::int64_t completed = completed_now.at(key);
    const auto found = households.find(household_id);
    const HouseholdNow household = found == households.end() ? HouseholdNow{} : found->second;
    // The household's first completed visits of the year, or its last ones gone: it counts
    // once more, or once less, in its group, and if a live target among the year's visited.
    const int change = completed - delta == 0 ? +1 : completed == 0 ? -1 : 0;
    auto& grouped = pending_groups[{year, household.vulnerabilities}];
    grouped.first += change;
    grouped.second += delta;
    if (change < 0) emptied.add(household_id).add(year).end_row();
    if (change != 0 && household.live_target) visited_targets[year] += change;
  }
  emptied.finish();
  pending_household_years.clear();
  auto visited = db.cached(
      "INSERT INTO year_visited AS t VALUES (?1, ?2) ON CONFLICT (year) DO UPDATE SET targets = t.targets + excluded.targets");
  for (const auto& [year, change] : visited_targets) {
    if (change == 0) continue;
    visited->reset();
    visited->bind(1, year).bind(2, change).run();
  }

  auto add_to_group = db.cached(
      "INSERT INTO year_groups AS t VALUES (?1, ?2, ?3, ?4) ON CONFLICT (year, vulnerability)"
      " DO UPDATE SET households = t.households + excluded.households, completed = t.completed + excluded.completed");
  auto remove_group = db.cached("DELETE FROM year_groups WHERE year = ? AND vulnerability = ? AND households = 0");
  for (const auto& [key, delta] : pending_groups) {
    if (delta == std::pair<std::int64_t, std::int64_t>{}) continue;
    add_to_group->reset();
    add_to_group->bind(1, key.first).bind(2, static_cast<std::int64_t>(key.second)).bind(3, delta.first).bind(4, delta.second);
    add_to_group->run();
    if (delta.first < 0) {
      remove_group->reset();
      remove_group->bind(1, key.first).bind(2, static_cast<std::int64_t>(key.second)).run();
    }
  }
  pending_groups.clear();

  flush_referrals();
}

void ServerStore::Impl::regroup_household(const std::string& household_id, std::uint32_t before, std::uint32_t after) {
  if (before == after) return;
  // Its years as flushed so far; what this group adds is flushed in its group now (above).
  auto years = db.cached("SELECT year, completed FROM household_years WHERE household_id = ?");
  years->bind(1, household_id);
  while (years->step()) {
    const int year = static_cast<int>(years->column_int(0));
    const std::int64_t completed = years->column_int(1);
    auto& from = pending_groups[{year, before}];
    from.first -= 1;
    from.second -= completed;
    auto& to = pending_groups[{year, after}];
    to.first += 1;
    to.second += completed;
  }
}

// The message columns of commute_totals, in CommuteMessage order: sessions, then cards, of each.
#define MESSAGE_COLUMNS                                                                            \
  "msg_vehicle_security_sessions, msg_vehicle_security_cards, msg_home_security_sessions,"          \
  " msg_home_security_cards, msg_garden_tools_sessions, msg_garden_tools_cards,"                    \
  " msg_personal_belongings_sessions, msg_personal_belongings_cards"
#define ADD_MESSAGE(name) \
  " msg_" name "_sessions = t.msg_" name "_sessions + excluded.msg_" name "_sessions," \
  " msg_" name "_cards = t.msg_" name "_cards + excluded.msg_" name "_cards"

void ServerStore::Impl::count_session(const safer::CommuteSession& session, int sign) {
  const std::string day = day_text(options.local_date(session.started_at));
  auto upsert = db.cached(
      "INSERT INTO commute_totals AS t (day, station, sessions, cards, " MESSAGE_COLUMNS ")"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (day, station) DO UPDATE"
      " SET sessions = t.sessions + excluded.sessions, cards = t.cards + excluded.cards,"
      ADD_MESSAGE("vehicle_security") "," ADD_MESSAGE("home_security") "," ADD_MESSAGE("garden_tools") ","
      ADD_MESSAGE("personal_belongings"));
  upsert->bind(1, day).bind(2, session.station).bind(3, sign).bind(4, session.cards_distributed * sign);
  for (std::size_t i = 0; i < safer::EnumNames<safer::CommuteMessage>::names.size(); ++i) {
    const bool given = session.messages.contains(static_cast<safer::CommuteMessage>(i));
    upsert->bind(static_cast<int>(5 + 2 * i), given ? sign : 0)
        .bind(static_cast<int>(6 + 2 * i), given ? session.cards_distributed * sign : 0);
  }
  upsert->run();
  db.cached("DELETE FROM commute_totals WHERE day = ? AND station = ? AND sessions = 0")
      ->bind(1, day)
      .bind(2, session.station)
      .run();
}

void ServerStore::Impl::count_target(const std::string& household_id, int sign) {
  // household_years without this group's pending counts is right here: flush_counts() adds a
  // household's new years (or takes its emptied ones away) by its target flag at that time,
  // which already includes this change.
  db.cached("UPDATE counters SET value = value + ? WHERE name = 'target_households'")->bind(1, sign).run();
  // Every year in which the household had a completed visit gains or loses a visited target.
  db.cached("INSERT INTO year_visited AS t SELECT year, ?1 FROM household_years WHERE household_id = ?2 AND true"
            " ON CONFLICT (year) DO UPDATE SET targets = t.targets + excluded.targets")
      ->bind(1, sign)
      .bind(2, household_id)
      .run();
}

safer::Stats ServerStore::stats(const std::optional<CivilDate>& from, const std::optional<CivilDate>& to_asked) {
  safer::Stats stats;
  stats.from = from;
  stats.to = to_asked;
  // Days and months are compared as text, which holds for 4-digit years: no day is past
  // 9999-12-31, so a range that ends later (the report for 9999/10000) ends there.
  std::optional<CivilDate> to = to_asked;
  if (to && to->year > 9999) to = CivilDate{9999, 12, 31};
  for (const auto& ward : impl_->options.lists.wards) stats.visits_by_ward[ward] = 0;
  for (const auto& station : impl_->options.lists.stations) {
    stats.cards_by_station[station] = 0;
    stats.messages_by_station[station] = {};
  }
  safer::add_known_partners(stats);
  safer::add_known_questions(stats, impl_->options.lists.questions);

  auto& db = impl_->db;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);  // one view of every table
  const auto add_visits = [&stats](db::Statement& rows) {
    while (rows.step()) {
      const std::int64_t count = rows.column_int(2);
      const auto status = safer::enum_from_string<safer::VisitStatus>(rows.column_text(1));
      stats.visits_total += count;
      if (status) stats.visits_by_status[static_cast<std::size_t>(*status)] += count;
      stats.visits_by_ward[rows.column_text(0)] += count;
      for (std::size_t i = 0; i < stats.outcomes.size(); ++i) stats.outcomes[i] += rows.column_int(3 + static_cast<int>(i));
      stats.smoke_detectors_fitted += rows.column_int(9);
      stats.referred_visits += rows.column_int(10);
      std::int64_t recorded = 0;
      for (std::size_t i = 0; i < safer::EnumNames<safer::ShareBasis>::names.size(); ++i) {
        stats.referrals_by_basis[i] += rows.column_int(11 + static_cast<int>(i));
        recorded += rows.column_int(11 + static_cast<int>(i));
      }
      stats.referrals_by_basis.back() += rows.column_int(10) - recorded;
    }
  };
  const auto add_answers = [&stats](db::Statement& rows) {
    while (rows.step()) safer::count_answer(stats, rows.column_text(1), rows.column_text(0), rows.column_int(2), rows.column_int(3));
  };
  const MonthSplit split = split_by_month(from, to);
  if (split.months) {
    auto months = db.cached(
        "SELECT ward, status, " SUM_OF_TOTALS
        " FROM visit_month_totals WHERE month BETWEEN ? AND ? GROUP BY ward, status");
    months->bind(1, split.months->first).bind(2, split.months->second);
    add_visits(*months);
    auto answers = db.cached(
        "SELECT ward, question, answer, sum(visits) FROM answer_month_totals WHERE month BETWEEN ? AND ?"
        " GROUP BY ward, question, answer");
    answers->bind(1, split.months->first).bind(2, split.months->second);
    add_answers(*answers);
  }
  for (const auto& [first, last] : split.days) {
    auto days = db.cached(
        "SELECT ward, status, " SUM_OF_TOTALS
        " FROM visit_totals WHERE day BETWEEN ? AND ? GROUP BY ward, status");
    days->bind(1, first).bind(2, last);
    add_visits(*days);
    auto answers = db.cached(
        "SELECT ward, question, answer, sum(visits) FROM answer_totals WHERE day BETWEEN ? AND ?"
        " GROUP BY ward, question, answer");
    answers->bind(1, first).bind(2, last);
    add_answers(*answers);
  }
  {
    auto target = db.cached("SELECT value FROM counters WHERE name = 'target_households'");
    if (target->step()) stats.households_target = target->column_int(0);
    if (const auto year = whole_year(from, to)) {  // kept up to date: one row
      auto visited = db.cached("SELECT targets FROM year_visited WHERE year = ?");
      visited->bind(1, *year);
      if (visited->step()) stats.households_visited = visited->column_int(0);
      // Grouped by the household's vulnerabilities: kept up to date, a row per combination.
      // Each household reached that year is in one group: the groups' households add up to them.
      auto groups = db.cached("SELECT vulnerability, households, completed FROM year_groups WHERE year = ?");
      groups->bind(1, *year);
      while (groups->step()) {
        add_to_groups(stats, safer::EnumSet<safer::Vulnerability>::from_bits(static_cast<std::uint32_t>(groups->column_int(0))),
                      groups->column_int(1), groups->column_int(2));
        stats.households_reached += groups->column_int(1);
      }
    } else {  // any other range: one index probe per target household, whatever the visits
      auto visited = db.cached(
          "SELECT count(*) FROM records h WHERE h.entity = 'household' AND h.target = 1 AND h.deleted = 0"
          " AND EXISTS (SELECT 1 FROM household_days d WHERE d.household_id = h.id AND d.day BETWEEN ? AND ?)");
      visited->bind(1, lower(from)).bind(2, upper(to));
      if (visited->step()) stats.households_visited = visited->column_int(0);
      auto reached = db.cached("SELECT count(DISTINCT household_id) FROM household_days WHERE day BETWEEN ? AND ?");
      reached->bind(1, lower(from)).bind(2, upper(to));
      if (reached->step()) stats.households_reached = reached->column_int(0);
      auto groups = db.cached(
          "SELECT json_extract(h.data, '$.vulnerability'), count(*), sum(d.completed) FROM"
          " (SELECT household_id, sum(completed) AS completed FROM household_days WHERE day BETWEEN ? AND ?"
          " GROUP BY household_id) d LEFT JOIN records h ON h.entity = 'household' AND h.id = d.household_id GROUP BY 1");
      groups->bind(1, lower(from)).bind(2, upper(to));
      while (groups->step()) add_to_groups(stats, vulnerabilities_in(*groups, 0), groups->column_int(1), groups->column_int(2));
    }
  }
  {
    auto sessions = db.cached(
        "SELECT station, sum(sessions), sum(cards), sum(msg_vehicle_security_sessions), sum(msg_vehicle_security_cards),"
        " sum(msg_home_security_sessions), sum(msg_home_security_cards), sum(msg_garden_tools_sessions),"
        " sum(msg_garden_tools_cards), sum(msg_personal_belongings_sessions), sum(msg_personal_belongings_cards)"
        " FROM commute_totals WHERE day BETWEEN ? AND ? GROUP BY station");
    sessions->bind(1, lower(from)).bind(2, upper(to));
    while (sessions->step()) {
      const std::string station = sessions->column_text(0);
      stats.commute_sessions += sessions->column_int(1);
      stats.cards_distributed += sessions->column_int(2);
      stats.cards_by_station[station] += sessions->column_int(2);
      auto& by_station = stats.messages_by_station[station];
      for (std::size_t i = 0; i < by_station.size(); ++i) {
        const safer::Stats::MessageCount count{sessions->column_int(static_cast<int>(3 + 2 * i)),
                                               sessions->column_int(static_cast<int>(4 + 2 * i))};
        by_station[i].sessions += count.sessions;
        by_station[i].cards += count.cards;
        stats.messages[i].sessions += count.sessions;
        stats.messages[i].cards += count.cards;
      }
    }
  }
  if (!from || from->year <= 9999) {  // referrals per partner: kept per day (a row per day and partner)
    auto partners = db.cached(
        "SELECT partner, sum(referrals), sum(sent) FROM referral_totals WHERE day BETWEEN ? AND ? GROUP BY partner");
    partners->bind(1, lower(from)).bind(2, upper(to));
    while (partners->step()) {
      stats.referrals_by_partner[partners->column_text(0)] += partners->column_int(1);
      stats.referrals_sent_by_partner[partners->column_text(0)] += partners->column_int(2);
    }
  }
  snapshot.commit();
  return stats;
}

safer::Stats ServerStore::recompute_stats(const std::optional<CivilDate>& from, const std::optional<CivilDate>& to) {
  safer::Stats stats;
  stats.from = from;
  stats.to = to;
  for (const auto& ward : impl_->options.lists.wards) stats.visits_by_ward[ward] = 0;
  for (const auto& station : impl_->options.lists.stations) {
    stats.cards_by_station[station] = 0;
    stats.messages_by_station[station] = {};
  }
  safer::add_known_partners(stats);
  safer::add_known_questions(stats, impl_->options.lists.questions);
  const auto in_range = [&](const CivilDate& day) { return (!from || *from <= day) && (!to || day <= *to); };

  auto& db = impl_->db;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  std::map<std::string, std::pair<bool, std::string>> households;  // id -> (live target, ward)
  std::map<std::string, safer::EnumSet<safer::Vulnerability>> vulnerable;  // live households' groups
  auto rows = db.cached("SELECT entity, id, deleted, data, target, ward FROM records");
  std::map<std::string, safer::Visit> visits;  // by id
  while (rows->step()) {
    const auto entity = safer::enum_from_string<safer::Entity>(rows->column_text(0));
    const bool deleted = rows->column_int(2) != 0;
    if (entity == safer::Entity::household) {
      const bool target = !deleted && rows->column_int(4) != 0;
      households[rows->column_text(1)] = {target, rows->column_text(5)};
      if (!deleted) {
        safer::Household household;
        safer::from_json(rows->column_text(3), household);
        vulnerable[rows->column_text(1)] = household.vulnerability;
      }
      if (target) ++stats.households_target;
    } else if (!deleted && entity == safer::Entity::visit) {
      safer::Visit visit;
      safer::from_json(rows->column_text(3), visit);
      visits.emplace(rows->column_text(1), std::move(visit));
    } else if (!deleted && entity == safer::Entity::commute_session) {
      safer::CommuteSession session;
      safer::from_json(rows->column_text(3), session);
      if (!in_range(impl_->options.local_date(session.started_at))) continue;
      ++stats.commute_sessions;
      stats.cards_distributed += session.cards_distributed;
      stats.cards_by_station[session.station] += session.cards_distributed;
      for (std::size_t i = 0; i < stats.messages.size(); ++i) {
        if (!session.messages.contains(static_cast<safer::CommuteMessage>(i))) continue;
        for (auto* count : {&stats.messages[i], &stats.messages_by_station[session.station][i]}) {
          ++count->sessions;
          count->cards += session.cards_distributed;
        }
      }
    }
  }
  std::set<std::string> visited;
  std::map<std::string, std::int64_t> reached;  // household -> completed visits in range
  for (const auto& [id, visit] : visits) {
    if (!in_range(impl_->options.local_date(visit.visited_at))) continue;
    ++stats.visits_total;
    ++stats.visits_by_status[static_cast<std::size_t>(visit.status)];
    stats.visits_by_ward[households[visit.household_id].second] += 1;
    for (std::size_t i = 0; i < stats.outcomes.size(); ++i) {
      if (visit.has(static_cast<Outcome>(i))) ++stats.outcomes[i];
    }
    stats.smoke_detectors_fitted += visit.smoke_detectors_fitted;
    const auto partners = safer::referral_partners(visit, impl_->options.lists);
    if (!partners.empty()) {
      ++stats.referred_visits;
      ++stats.referrals_by_basis[visit.share_basis ? static_cast<std::size_t>(*visit.share_basis)
                                                   : stats.referrals_by_basis.size() - 1];
    }
    for (const auto& partner : partners) ++stats.referrals_by_partner[partner];
    const std::string& ward = households[visit.household_id].second;
    for (const auto& [question, answer] : visit.answers) {
      const auto* scale = std::get_if<std::int64_t>(&answer);
      safer::count_answer(stats, question, ward, scale ? *scale : 0, 1);
    }
    if (visit.status == safer::VisitStatus::completed) {
      ++reached[visit.household_id];
      if (households[visit.household_id].first) visited.insert(visit.household_id);
    }
  }
  for (const auto& [household_id, completed] : reached) add_to_groups(stats, vulnerable[household_id], 1, completed);
  stats.households_visited = static_cast<std::int64_t>(visited.size());
  stats.households_reached = static_cast<std::int64_t>(reached.size());
  // Whether a referral was passed on is known only to the referrals table: its sent rows count
  // where their visit is live, in the range and still refers to that partner.
  auto sent = db.cached("SELECT visit_id, partner FROM referrals WHERE sent_at IS NOT NULL");
  while (sent->step()) {
    const auto visit = visits.find(sent->column_text(0));
    if (visit == visits.end() || !in_range(impl_->options.local_date(visit->second.visited_at))) continue;
    const auto partners = safer::referral_partners(visit->second, impl_->options.lists);
    const std::string partner = sent->column_text(1);
    if (std::find(partners.begin(), partners.end(), partner) != partners.end()) ++stats.referrals_sent_by_partner[partner];
  }
  snapshot.commit();
  return stats;
}

}  // namespace sync_server
