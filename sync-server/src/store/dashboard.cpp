// The dashboard's read-only views (docs/api.md): overview, annual report, work lists and
// officers' activity, as JSON. All read inside one snapshot each.
#include <map>

#include "safer/json_out.h"
#include "safer/stats.h"
#include "store_impl.h"
#include "sync_server/dashboard.h"

namespace sync_server {

using safer::JsonOut;

namespace {

using safer::CivilDate;

std::string day_text(const CivilDate& date) { return safer::format_iso_date(date); }
std::string lower(const std::optional<CivilDate>& date) { return date ? day_text(*date) : std::string(); }
std::string upper(const std::optional<CivilDate>& date) { return date ? day_text(*date) : std::string("9999-12-31"); }

// The Monday that starts the week of `day` ("YYYY-MM-DD").
std::string week_of(const std::string& day) {
  const auto date = safer::parse_iso_date(day);
  if (!date) return day;
  const std::int64_t days = safer::days_from_civil(*date);
  const std::int64_t weekday = ((days + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday; Monday = 0
  return day_text(safer::civil_from_days(days - weekday));
}

std::optional<std::string> text_or_null(const db::Statement& row, int column) { return row.column_optional_text(column); }

struct Buckets {
  std::map<std::string, std::array<std::int64_t, 4>> visits;                // bucket -> by status
  std::map<std::string, std::map<std::string, std::int64_t>> cards;         // bucket -> station -> cards
};

// Visits by status and cards by station per week (or per month), from the daily totals.
Buckets bucket_totals(db::Database& db, const std::string& from, const std::string& to, bool monthly) {
  Buckets buckets;
  const auto bucket = [monthly](const std::string& day) { return monthly ? day.substr(0, 7) : week_of(day); };
  auto visits = db.cached("SELECT day, status, sum(visits) FROM visit_totals WHERE day BETWEEN ? AND ? GROUP BY day, status");
  visits->bind(1, from).bind(2, to);
  while (visits->step()) {
    const auto status = safer::enum_from_string<safer::VisitStatus>(visits->column_text(1));
    if (status) buckets.visits[bucket(visits->column_text(0))][static_cast<std::size_t>(*status)] += visits->column_int(2);
  }
  auto cards = db.cached("SELECT day, station, sum(cards) FROM commute_totals WHERE day BETWEEN ? AND ? GROUP BY day, station");
  cards->bind(1, from).bind(2, to);
  while (cards->step()) buckets.cards[bucket(cards->column_text(0))][cards->column_text(1)] += cards->column_int(2);
  return buckets;
}

void write_visit_buckets(JsonOut& out, const char* name, const char* label, const std::vector<std::string>& keys,
                         const Buckets& buckets) {
  out.key(name).begin_array();
  for (const auto& key : keys) {
    const auto found = buckets.visits.find(key);
    const std::array<std::int64_t, 4> counts = found == buckets.visits.end() ? std::array<std::int64_t, 4>{} : found->second;
    out.begin_object().field(label, key);
    for (std::size_t i = 0; i < counts.size(); ++i) out.field(safer::to_string(static_cast<safer::VisitStatus>(i)), counts[i]);
    out.end_object();
  }
  out.end_array();
}

void write_card_buckets(JsonOut& out, const char* name, const char* label, const std::vector<std::string>& keys,
                        const Buckets& buckets, const std::vector<std::string>& stations) {
  out.key(name).begin_array();
  for (const auto& key : keys) {
    std::map<std::string, std::int64_t> by_station;
    for (const auto& station : stations) by_station[station] = 0;
    if (const auto found = buckets.cards.find(key); found != buckets.cards.end()) {
      for (const auto& [station, cards] : found->second) by_station[station] += cards;
    }
    std::int64_t total = 0;
    for (const auto& [station, cards] : by_station) total += cards;
    out.begin_object().field(label, key).field("total", total).key("by_station").begin_object();
    for (const auto& [station, cards] : by_station) out.field(station, cards);
    out.end_object().end_object();
  }
  out.end_array();
}

template <class Map>
std::vector<std::string> keys_of(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

}  // namespace

// Target households and those with a completed visit in range, per ward (every ward listed).
static void write_coverage(JsonOut& out, db::Database& db, const std::vector<std::string>& wards,
                           const std::string& from, const std::string& to) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_ward;
  for (const auto& ward : wards) by_ward[ward] = {0, 0};
  auto rows = db.cached(
      "SELECT h.ward, count(*), sum(CASE WHEN EXISTS (SELECT 1 FROM household_days d WHERE d.household_id = h.id"
      " AND d.day BETWEEN ?1 AND ?2) THEN 1 ELSE 0 END) FROM records h WHERE h.entity = 'household' AND h.target = 1"
      " AND h.deleted = 0 GROUP BY h.ward");
  rows->bind(1, from).bind(2, to);
  while (rows->step()) by_ward[rows->column_text(0)] = {rows->column_int(1), rows->column_int(2)};
  out.key("coverage_by_ward").begin_array();
  for (const auto& [ward, counts] : by_ward) {
    const double coverage = counts.first == 0 ? 0.0 : static_cast<double>(counts.second) / static_cast<double>(counts.first);
    out.begin_object().field("ward", ward).field("target", counts.first).field("visited", counts.second);
    out.field("coverage", coverage).end_object();
  }
  out.end_array();
}

std::string Dashboard::overview_json(const DateRange& range) {
  const auto stats = safer::to_json(store_.stats(range.first, range.second));
  auto& db = store_.impl_->db;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  const std::string from = lower(range.first), to = upper(range.second);
  JsonOut out;
  out.begin_object();
  out.key("from").value(range.first ? std::optional(day_text(*range.first)) : std::nullopt);
  out.key("to").value(range.second ? std::optional(day_text(*range.second)) : std::nullopt);
  out.key("stats").raw(stats);
  write_coverage(out, db, store_.impl_->options.lists.wards, from, to);
  const auto weeks = bucket_totals(db, from, to, false);
  write_visit_buckets(out, "visits_per_week", "week", keys_of(weeks.visits), weeks);
  write_card_buckets(out, "cards_per_week", "week", keys_of(weeks.cards), weeks, store_.impl_->options.lists.stations);
  out.field("version", store_.impl_->feed_version());
  out.end_object();
  snapshot.commit();
  return out.str();
}

std::string Dashboard::version_json() {
  return JsonOut().begin_object().field("version", store_.impl_->feed_version()).end_object().str();
}

namespace {

// "2026/27": a financial year as the report names it.
std::string year_label(int year) {
  char label[16];
  std::snprintf(label, sizeof label, "%d/%02d", year, (year + 1) % 100);
  return label;
}

}  // namespace

void Dashboard::write_history(JsonOut& out, int last_year) {
  const auto baseline = this->baseline();
  std::optional<int> first_recorded;
  {
    auto first = store_.impl_->db.cached(
        "SELECT min(d) FROM (SELECT min(month) || '-01' AS d FROM visit_month_totals"
        " UNION ALL SELECT min(day) FROM commute_totals) AS firsts");
    if (first->step() && !first->column_is_null(0)) {
      if (const auto date = safer::parse_iso_date(first->column_text(0))) {
        first_recorded = date->month >= 4 ? date->year : date->year - 1;
      }
    }
  }
  int first_year = last_year + 1;  // no year at all
  if (!baseline.empty()) first_year = std::min(first_year, baseline.front().year);
  if (first_recorded) first_year = std::min(first_year, *first_recorded);
  std::array<std::int64_t, 4> totals{};  // households visited (year by year), visits, detectors, cards
  out.begin_object().key("years").begin_array();
  for (int year = first_year; year <= last_year; ++year) {
    std::array<std::int64_t, 4> figures{};
    bool from_baseline = false, recorded = false;
    for (const auto& row : baseline) {
      if (row.year != year) continue;
      from_baseline = true;
      figures = {row.households_visited, row.visits, row.smoke_detectors_fitted, row.cards_distributed};
    }
    if (first_recorded && year >= *first_recorded) {
      const auto stats = store_.stats(CivilDate{year, 4, 1}, CivilDate{year + 1, 3, 31});
      const std::int64_t completed = stats.visits_by_status[static_cast<std::size_t>(safer::VisitStatus::completed)];
      recorded = completed > 0 || stats.commute_sessions > 0;
      figures[0] += stats.households_reached;
      figures[1] += completed;
      figures[2] += stats.smoke_detectors_fitted;
      figures[3] += stats.cards_distributed;
    }
    if (!from_baseline && !recorded) continue;
    for (std::size_t i = 0; i < totals.size(); ++i) totals[i] += figures[i];
    out.begin_object().field("financial_year", year_label(year));
    out.field("source", from_baseline && recorded ? "both" : from_baseline ? "baseline" : "recorded");
    out.field("households_visited", figures[0]).field("visits", figures[1]);
    out.field("smoke_detectors_fitted", figures[2]).field("cards_distributed", figures[3]).end_object();
  }
  out.end_array().key("since").begin_object();
  out.key("financial_year").value(first_year <= last_year ? std::optional(year_label(first_year)) : std::nullopt);
  out.field("households_visited_year_by_year", totals[0]).field("visits", totals[1]);
  out.field("smoke_detectors_fitted", totals[2]).field("cards_distributed", totals[3]).end_object();
  out.end_object();
}

std::string Dashboard::report_json(int year) {
  const CivilDate first{year, 4, 1}, last{year + 1, 3, 31};
  const auto stats = safer::to_json(store_.stats(first, last));
  JsonOut history;
  write_history(history, year);
  auto& db = store_.impl_->db;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  std::vector<std::string> months;
  for (int i = 0; i < 12; ++i) {
    const int month = (3 + i) % 12 + 1;
    const int y = month >= 4 ? year : year + 1;
    months.push_back(day_text(CivilDate{y, static_cast<unsigned>(month), 1}).substr(0, 7));
  }
  JsonOut out;
  out.begin_object().field("financial_year", year_label(year));
  out.field("from", day_text(first)).field("to", day_text(last)).key("stats").raw(stats);
  out.key("history").raw(history.str());
  write_coverage(out, db, store_.impl_->options.lists.wards, day_text(first), day_text(last));
  const auto buckets = bucket_totals(db, day_text(first), day_text(last), true);
  write_visit_buckets(out, "visits_per_month", "month", months, buckets);
  write_card_buckets(out, "cards_per_month", "month", months, buckets, store_.impl_->options.lists.stations);
  out.end_object();
  snapshot.commit();
  return out.str();
}

std::string Dashboard::unvisited_json(const std::optional<std::string>& ward, const safer::CivilDate& since,
                                     Listed* listed) {
  auto rows = store_.impl_->db.cached(
      "SELECT h.id, json_extract(h.data, '$.address'), json_extract(h.data, '$.postcode'), h.ward, h.assigned_to,"
      " (SELECT v.visited_at FROM records v WHERE v.entity = 'visit' AND v.deleted = 0 AND v.household_id = h.id"
      "  ORDER BY v.visited_at DESC LIMIT 1),"
      " (SELECT v.status FROM records v WHERE v.entity = 'visit' AND v.deleted = 0 AND v.household_id = h.id"
      "  ORDER BY v.visited_at DESC LIMIT 1)"
      " FROM records h WHERE h.entity = 'household' AND h.deleted = 0 AND h.target = 1 AND (CAST(?1 AS TEXT) IS NULL OR h.ward = ?1)"
      " AND NOT EXISTS (SELECT 1 FROM records c WHERE c.entity = 'visit' AND c.status = 'completed' AND c.deleted = 0"
      "  AND c.household_id = h.id AND c.visited_at >= ?3 AND c.local_day >= ?2)"
      " ORDER BY h.ward, json_extract(h.data, '$.address')");
  rows->bind(1, ward).bind(2, day_text(since)).bind(3, visited_from_text(since));
  JsonOut out;
  out.begin_object().field("since", day_text(since)).key("households").begin_array();
  std::int64_t shown = 0;
  while (rows->step()) {
    ++shown;
    out.begin_object().field("id", rows->column_text(0)).field("address", rows->column_text(1));
    out.field("postcode", rows->column_text(2)).field("ward", rows->column_text(3));
    out.key("assigned_to").value(text_or_null(*rows, 4)).key("last_visit");
    if (rows->column_is_null(5)) {
      out.null();
    } else {
      out.begin_object().field("visited_at", rows->column_text(5)).field("status", rows->column_text(6)).end_object();
    }
    out.end_object();
  }
  out.end_array().end_object();
  if (listed) *listed = Listed{shown, shown};
  return out.str();
}

std::string Dashboard::follow_ups_json(const std::optional<std::string>& ward, Listed* listed) {
  auto rows = store_.impl_->db.cached(
      "SELECT v.id, v.household_id, json_extract(h.data, '$.address'), json_extract(h.data, '$.postcode'), h.ward,"
      " v.visited_at, v.owner, h.assigned_to FROM records v"
      " JOIN records h ON h.entity = 'household' AND h.id = v.household_id AND h.deleted = 0"
      " WHERE v.entity = 'visit' AND v.deleted = 0 AND v.follow_up = 1 AND (CAST(?1 AS TEXT) IS NULL OR h.ward = ?1)"
      " AND NOT EXISTS (SELECT 1 FROM records c WHERE c.entity = 'visit' AND c.deleted = 0 AND c.status = 'completed'"
      "  AND c.household_id = v.household_id AND c.visited_at > v.visited_at)"
      " ORDER BY v.visited_at");
  rows->bind(1, ward);
  JsonOut out;
  out.begin_object().key("follow_ups").begin_array();
  std::int64_t shown = 0;
  while (rows->step()) {
    ++shown;
    out.begin_object().field("visit_id", rows->column_text(0)).field("household_id", rows->column_text(1));
    out.field("address", rows->column_text(2)).field("postcode", rows->column_text(3)).field("ward", rows->column_text(4));
    out.field("visited_at", rows->column_text(5)).field("recorded_by", rows->column_text(6));
    out.key("assigned_to").value(text_or_null(*rows, 7)).end_object();
  }
  out.end_array().end_object();
  if (listed) *listed = Listed{shown, shown};
  return out.str();
}

std::string Dashboard::activity_json(const DateRange& range) {
  struct Officer {
    std::string role;
    std::int64_t visits = 0, completed = 0, households = 0, follow_ups = 0, sessions = 0, cards = 0;
    std::optional<std::int64_t> last_sync_at;
  };
  std::map<std::string, Officer> officers;
  auto& db = store_.impl_->db;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  auto devices = db.cached("SELECT user_id, role, max(last_sync_at) FROM devices GROUP BY user_id, role");
  while (devices->step()) {
    auto& officer = officers[devices->column_text(0)];
    officer.role = devices->column_text(1);
    if (!devices->column_is_null(2)) officer.last_sync_at = std::max(officer.last_sync_at.value_or(0), devices->column_int(2));
  }
  auto visits = db.cached(
      "SELECT owner, count(*), sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), count(DISTINCT CASE WHEN status = 'completed' THEN household_id END),"
      " sum(follow_up) FROM records WHERE entity = 'visit' AND deleted = 0 AND local_day BETWEEN ?1 AND ?2"
      " AND visited_at >= ?3 AND visited_at < ?4 GROUP BY owner");
  visits->bind(1, lower(range.first)).bind(2, upper(range.second));
  visits->bind(3, visited_from_text(range.first)).bind(4, visited_before_text(range.second));
  while (visits->step()) {
    auto& officer = officers[visits->column_text(0)];
    officer.visits = visits->column_int(1);
    officer.completed = visits->column_int(2);
    officer.households = visits->column_int(3);
    officer.follow_ups = visits->column_int(4);
  }
  auto sessions = db.cached(
      "SELECT owner, count(*), sum(CAST(json_extract(data, '$.cards_distributed') AS INTEGER)) FROM records"
      " WHERE entity = 'commute_session' AND deleted = 0 AND local_day BETWEEN ? AND ? GROUP BY owner");
  sessions->bind(1, lower(range.first)).bind(2, upper(range.second));
  while (sessions->step()) {
    auto& officer = officers[sessions->column_text(0)];
    officer.sessions = sessions->column_int(1);
    officer.cards = sessions->column_int(2);
  }
  snapshot.commit();

  JsonOut out;
  out.begin_object().key("officers").begin_array();
  for (const auto& [user, officer] : officers) {
    out.begin_object().field("user_id", user).key("role").value(officer.role.empty() ? std::nullopt : std::optional(officer.role));
    out.field("visits", officer.visits).field("completed", officer.completed);
    out.field("households_visited", officer.households).field("follow_ups", officer.follow_ups);
    out.field("commute_sessions", officer.sessions).field("cards", officer.cards).key("last_sync_at");
    if (officer.last_sync_at) out.value(safer::format_rfc3339(*officer.last_sync_at)); else out.null();
    out.end_object();
  }
  out.end_array().end_object();
  return out.str();
}

}  // namespace sync_server
