// The statistics of contract §7: kept up to date as versions are applied (count_*), read
// per request from those totals (stats), and recomputed from scratch for checking.
#include <map>
#include <set>

#include "safer/record_json.h"
#include "store_impl.h"

namespace sync_server {

namespace {

using safer::CivilDate;
using safer::Outcome;

std::string day_text(const CivilDate& date) { return safer::format_iso_date(date); }

// "" and "9999-12-31" bound the all-time range; ISO dates compare as text.
std::string lower(const std::optional<CivilDate>& date) { return date ? day_text(*date) : std::string(); }
std::string upper(const std::optional<CivilDate>& date) { return date ? day_text(*date) : std::string("9999-12-31"); }

}  // namespace

void ServerStore::Impl::count_visit(const safer::Visit& visit, const std::string& ward, int sign) {
  const std::string day = day_text(options.local_date(visit.visited_at));
  const auto flag = [&](Outcome outcome) -> std::int64_t { return visit.has(outcome) ? sign : 0; };
  auto totals = db.cached(
      "INSERT INTO visit_totals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
      " ON CONFLICT (day, ward, status) DO UPDATE SET visits = visits + excluded.visits,"
      " crime_prevention_advice = crime_prevention_advice + excluded.crime_prevention_advice,"
      " fire_safety_check = fire_safety_check + excluded.fire_safety_check,"
      " healthy_lifestyle_advice = healthy_lifestyle_advice + excluded.healthy_lifestyle_advice,"
      " community_involvement_info = community_involvement_info + excluded.community_involvement_info,"
      " first_aid_training = first_aid_training + excluded.first_aid_training,"
      " follow_up_required = follow_up_required + excluded.follow_up_required,"
      " smoke_detectors_fitted = smoke_detectors_fitted + excluded.smoke_detectors_fitted");
  totals->bind(1, day).bind(2, ward).bind(3, safer::to_string(visit.status)).bind(4, sign);
  totals->bind(5, flag(Outcome::crime_prevention_advice)).bind(6, flag(Outcome::fire_safety_check));
  totals->bind(7, flag(Outcome::healthy_lifestyle_advice)).bind(8, flag(Outcome::community_involvement_info));
  totals->bind(9, flag(Outcome::first_aid_training)).bind(10, flag(Outcome::follow_up_required));
  totals->bind(11, visit.smoke_detectors_fitted * sign).run();
  db.cached("DELETE FROM visit_totals WHERE day = ? AND ward = ? AND status = ? AND visits = 0")
      ->bind(1, day)
      .bind(2, ward)
      .bind(3, safer::to_string(visit.status))
      .run();

  if (visit.status == safer::VisitStatus::completed) {
    db.cached("INSERT INTO household_days VALUES (?1, ?2, ?3)"
              " ON CONFLICT (household_id, day) DO UPDATE SET completed = completed + excluded.completed")
        ->bind(1, visit.household_id)
        .bind(2, day)
        .bind(3, sign)
        .run();
    db.cached("DELETE FROM household_days WHERE household_id = ? AND day = ? AND completed = 0")
        ->bind(1, visit.household_id)
        .bind(2, day)
        .run();
  }
}

void ServerStore::Impl::count_session(const safer::CommuteSession& session, int sign) {
  const std::string day = day_text(options.local_date(session.started_at));
  db.cached("INSERT INTO commute_totals VALUES (?1, ?2, ?3, ?4) ON CONFLICT (day, station) DO UPDATE"
            " SET sessions = sessions + excluded.sessions, cards = cards + excluded.cards")
      ->bind(1, day)
      .bind(2, session.station)
      .bind(3, sign)
      .bind(4, session.cards_distributed * sign)
      .run();
  db.cached("DELETE FROM commute_totals WHERE day = ? AND station = ? AND sessions = 0")
      ->bind(1, day)
      .bind(2, session.station)
      .run();
}

void ServerStore::Impl::count_target(int sign) {
  db.cached("UPDATE counters SET value = value + ? WHERE name = 'target_households'")->bind(1, sign).run();
}

safer::Stats ServerStore::stats(const std::optional<CivilDate>& from, const std::optional<CivilDate>& to) {
  safer::Stats stats;
  stats.from = from;
  stats.to = to;
  for (const auto& ward : impl_->options.lists.wards) stats.visits_by_ward[ward] = 0;
  for (const auto& station : impl_->options.lists.stations) stats.cards_by_station[station] = 0;

  auto& db = impl_->db;
  sqlite::Transaction snapshot(db, sqlite::Transaction::Kind::read);  // one view of every table
  {
    auto visits = db.cached(
        "SELECT ward, status, sum(visits), sum(crime_prevention_advice), sum(fire_safety_check),"
        " sum(healthy_lifestyle_advice), sum(community_involvement_info), sum(first_aid_training),"
        " sum(follow_up_required), sum(smoke_detectors_fitted)"
        " FROM visit_totals WHERE day BETWEEN ? AND ? GROUP BY ward, status");
    visits->bind(1, lower(from)).bind(2, upper(to));
    while (visits->step()) {
      const std::int64_t count = visits->column_int(2);
      const auto status = safer::enum_from_string<safer::VisitStatus>(visits->column_text(1));
      stats.visits_total += count;
      if (status) stats.visits_by_status[static_cast<std::size_t>(*status)] += count;
      stats.visits_by_ward[visits->column_text(0)] += count;
      for (std::size_t i = 0; i < stats.outcomes.size(); ++i) stats.outcomes[i] += visits->column_int(3 + static_cast<int>(i));
      stats.smoke_detectors_fitted += visits->column_int(9);
    }
  }
  {
    auto target = db.cached("SELECT value FROM counters WHERE name = 'target_households'");
    if (target->step()) stats.households_target = target->column_int(0);
    // One index probe per target household, whatever the number of visits.
    auto visited = db.cached(
        "SELECT count(*) FROM records h WHERE h.entity = 'household' AND h.target = 1 AND h.deleted = 0"
        " AND EXISTS (SELECT 1 FROM household_days d WHERE d.household_id = h.id AND d.day BETWEEN ? AND ?)");
    visited->bind(1, lower(from)).bind(2, upper(to));
    if (visited->step()) stats.households_visited = visited->column_int(0);
  }
  {
    auto sessions = db.cached(
        "SELECT station, sum(sessions), sum(cards) FROM commute_totals WHERE day BETWEEN ? AND ? GROUP BY station");
    sessions->bind(1, lower(from)).bind(2, upper(to));
    while (sessions->step()) {
      stats.commute_sessions += sessions->column_int(1);
      stats.cards_distributed += sessions->column_int(2);
      stats.cards_by_station[sessions->column_text(0)] += sessions->column_int(2);
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
  for (const auto& station : impl_->options.lists.stations) stats.cards_by_station[station] = 0;
  const auto in_range = [&](const CivilDate& day) { return (!from || *from <= day) && (!to || day <= *to); };

  auto& db = impl_->db;
  sqlite::Transaction snapshot(db, sqlite::Transaction::Kind::read);
  std::map<std::string, std::pair<bool, std::string>> households;  // id -> (live target, ward)
  auto rows = db.cached("SELECT entity, id, deleted, data, target, ward FROM records");
  std::vector<safer::Visit> visits;
  while (rows->step()) {
    const auto entity = safer::enum_from_string<safer::Entity>(rows->column_text(0));
    const bool deleted = rows->column_int(2) != 0;
    if (entity == safer::Entity::household) {
      const bool target = !deleted && rows->column_int(4) != 0;
      households[rows->column_text(1)] = {target, rows->column_text(5)};
      if (target) ++stats.households_target;
    } else if (!deleted && entity == safer::Entity::visit) {
      safer::Visit visit;
      safer::from_json(rows->column_text(3), visit);
      visits.push_back(std::move(visit));
    } else if (!deleted && entity == safer::Entity::commute_session) {
      safer::CommuteSession session;
      safer::from_json(rows->column_text(3), session);
      if (!in_range(impl_->options.local_date(session.started_at))) continue;
      ++stats.commute_sessions;
      stats.cards_distributed += session.cards_distributed;
      stats.cards_by_station[session.station] += session.cards_distributed;
    }
  }
  std::set<std::string> visited;
  for (const auto& visit : visits) {
    if (!in_range(impl_->options.local_date(visit.visited_at))) continue;
    ++stats.visits_total;
    ++stats.visits_by_status[static_cast<std::size_t>(visit.status)];
    stats.visits_by_ward[households[visit.household_id].second] += 1;
    for (std::size_t i = 0; i < stats.outcomes.size(); ++i) {
      if (visit.has(static_cast<Outcome>(i))) ++stats.outcomes[i];
    }
    stats.smoke_detectors_fitted += visit.smoke_detectors_fitted;
    if (visit.status == safer::VisitStatus::completed && households[visit.household_id].first) {
      visited.insert(visit.household_id);
    }
  }
  stats.households_visited = static_cast<std::int64_t>(visited.size());
  snapshot.commit();
  return stats;
}

}  // namespace sync_server
