#include "support/b1_baseline.h"

#include <array>
#include <map>
#include <stdexcept>
#include <tuple>

#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "safer/reference_lists.h"
#include "safer/sqlite.h"
#include "safer/time.h"
#include "safer/validation.h"
#include "support/bench.h"
#include "sync_server/local_time.h"
#include "sync_server/server_store.h"

namespace bench {

namespace {

constexpr int kAllTime = 100000;  // household_years' all-time row, as stats.cpp keeps it
// visits, the six outcomes, smoke detectors, referred, the three bases: visit_totals' counts.
using Totals = std::array<std::int64_t, 12>;
using TotalsKey = std::tuple<std::string, std::string, std::string>;  // period, ward, status

// The sums of one transaction, written at its end as the server writes a group's.
struct Pending {
  std::map<TotalsKey, Totals> days, months;
  std::map<std::pair<std::string, std::string>, std::int64_t> household_days;
  std::map<std::pair<std::string, int>, std::int64_t> household_years;

  void count(const safer::Visit& visit, const std::string& ward, int sign) {
    const auto date = sync_server::local_date(visit.visited_at);
    const std::string day = safer::format_iso_date(date);
    const std::string status(safer::to_string(visit.status));
    Totals delta{};
    delta[0] = sign;
    for (std::size_t i = 0; i < 6; ++i) {
      if (visit.has(static_cast<safer::Outcome>(i))) delta[1 + i] = sign;
    }
    delta[7] = visit.smoke_detectors_fitted * sign;
    if (safer::has_referral(visit, safer::ReferenceLists::defaults())) {
      delta[8] = sign;
      if (visit.share_basis) delta[9 + static_cast<std::size_t>(*visit.share_basis)] = sign;
    }
    for (auto* totals : {&days[{day, ward, status}], &months[{day.substr(0, 7), ward, status}]}) {
      for (std::size_t i = 0; i < delta.size(); ++i) (*totals)[i] += delta[i];
    }
    if (visit.status == safer::VisitStatus::completed) {
      household_days[{visit.household_id, day}] += sign;
      household_years[{visit.household_id, date.month >= 4 ? date.year : date.year - 1}] += sign;
      household_years[{visit.household_id, kAllTime}] += sign;
    }
  }
};

#define B1_ADD(column) " " #column " = t." #column " + excluded." #column
#define B1_ADD_TOTALS                                                                                    \
  " DO UPDATE SET" B1_ADD(visits) "," B1_ADD(crime_prevention_advice) "," B1_ADD(fire_safety_check) "," \
  B1_ADD(healthy_lifestyle_advice) "," B1_ADD(community_involvement_info) "," B1_ADD(first_aid_training) \
  "," B1_ADD(follow_up_required) "," B1_ADD(smoke_detectors_fitted) "," B1_ADD(referred) ","            \
  B1_ADD(basis_consent) "," B1_ADD(basis_vital_interests) "," B1_ADD(basis_safeguarding)

class Applier {
 public:
  Applier(safer::sqlite::Database& database, const B1Plan& plan) : db_(database), plan_(plan) {
    auto last = db_.cached("SELECT coalesce(max(version), 0) FROM records");
    if (last->step()) version_ = last->column_int(0);
    last->reset();
  }

  void apply(const B1Device& device, const safer::Change& change) {
    const std::string ward = ward_of(change);
    const auto previous = visits_.find(change.id);
    if (previous != visits_.end()) pending_.count(previous->second, ward, -1);
    const auto* visit = change.data ? std::get_if<safer::Visit>(&*change.data) : nullptr;
    if (visit != nullptr) pending_.count(*visit, ward, +1);
    write_record(device, change, ward, previous != visits_.end());
    if (change.entity == safer::Entity::visit) keep_referrals(change.id, visit, ward);
    if (visit != nullptr) {
      visits_[change.id] = *visit;
    } else if (previous != visits_.end()) {
      visits_.erase(previous);
    }
  }

  void flush() {
    write_totals("INSERT INTO visit_totals AS t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                 " ON CONFLICT (day, ward, status)" B1_ADD_TOTALS,
                 "DELETE FROM visit_totals WHERE day = ? AND ward = ? AND status = ? AND visits = 0", pending_.days);
    write_totals("INSERT INTO visit_month_totals AS t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                 " ?14, ?15) ON CONFLICT (month, ward, status)" B1_ADD_TOTALS,
                 "DELETE FROM visit_month_totals WHERE month = ? AND ward = ? AND status = ? AND visits = 0",
                 pending_.months);
    auto days = db_.cached("INSERT INTO household_days AS t VALUES (?1, ?2, ?3) ON CONFLICT (household_id, day)"
                           " DO UPDATE SET completed = t.completed + excluded.completed");
    for (const auto& [key, delta] : pending_.household_days) {
      if (delta == 0) continue;
      days->reset();
      days->bind(1, key.first).bind(2, key.second).bind(3, delta).run();
      if (delta < 0) {
        db_.cached("DELETE FROM household_days WHERE household_id = ? AND day = ? AND completed = 0")
            ->bind(1, key.first).bind(2, key.second).run();
      }
    }
    auto years = db_.cached("INSERT INTO household_years AS t VALUES (?1, ?2, ?3) ON CONFLICT (household_id, year)"
                            " DO UPDATE SET completed = t.completed + excluded.completed RETURNING completed");
    for (const auto& [key, delta] : pending_.household_years) {
      if (delta == 0) continue;
      years->reset();
      years->bind(1, key.first).bind(2, key.second).bind(3, delta);
      const std::int64_t completed = years->step() ? years->column_int(0) : 0;
      years->reset();
      const int change = completed - delta == 0 ? +1 : completed == 0 ? -1 : 0;
      if (change == 0) continue;
      if (change < 0) {
        db_.cached("DELETE FROM household_years WHERE household_id = ? AND year = ?")
            ->bind(1, key.first).bind(2, key.second).run();
      }
      auto target = db_.cached("SELECT target, deleted FROM records WHERE entity = 'household' AND id = ?");
      target->bind(1, key.first);
      const bool counts = target->step() && target->column_int(0) == 1 && target->column_int(1) == 0;
      target->reset();
      if (counts) {
        db_.cached("INSERT INTO year_visited AS t VALUES (?1, ?2) ON CONFLICT (year)"
                   " DO UPDATE SET targets = t.targets + excluded.targets")
            ->bind(1, key.second).bind(2, change).run();
      }
    }
    pending_ = Pending{};
  }

 private:
  std::string ward_of(const safer::Change& change) const {
    std::string household_id = change.id;
    if (change.entity == safer::Entity::visit) {
      const auto* visit = change.data ? std::get_if<safer::Visit>(&*change.data) : nullptr;
      if (visit != nullptr) {
        household_id = visit->household_id;
      } else if (const auto known = visits_.find(change.id); known != visits_.end()) {
        household_id = known->second.household_id;
      }
    }
    const auto ward = plan_.wards.find(household_id);
    if (ward == plan_.wards.end()) throw std::logic_error("b1 baseline: a household of unknown ward");
    return ward->second;
  }

  void write_record(const B1Device& device, const safer::Change& change, const std::string& ward, bool exists) {
    auto write = db_.cached(
        "INSERT INTO records (entity, id, hlc, device_id, user_id, owner, deleted, data, version, household_id,"
        " assigned_to, target, ward, visited_at, status, follow_up, local_day)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
        " ON CONFLICT (entity, id) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id,"
        " user_id = excluded.user_id, deleted = excluded.deleted, data = excluded.data, version = excluded.version,"
        " household_id = excluded.household_id, assigned_to = excluded.assigned_to, target = excluded.target,"
        " ward = excluded.ward, visited_at = excluded.visited_at, status = excluded.status,"
        " follow_up = excluded.follow_up, local_day = excluded.local_day");
    write->reset();
    write->bind(1, safer::to_string(change.entity)).bind(2, change.id).bind(3, change.hlc.to_string());
    write->bind(4, device.id).bind(5, device.user).bind(6, change.data ? 0 : 1);
    if (change.data) write->bind(7, safer::to_json(*change.data)); else write->bind_null(7);
    write->bind(8, ++version_);
    const auto* visit = change.data ? std::get_if<safer::Visit>(&*change.data) : nullptr;
    const auto* household = change.data ? std::get_if<safer::Household>(&*change.data) : nullptr;
    std::string household_id;
    if (visit != nullptr) household_id = visit->household_id;
    if (visit == nullptr && change.entity == safer::Entity::visit && exists) household_id = visits_.at(change.id).household_id;
    if (household_id.empty()) write->bind_null(9); else write->bind(9, household_id);
    if (household != nullptr && household->assigned_to) write->bind(10, *household->assigned_to); else write->bind_null(10);
    write->bind(11, household != nullptr && household->target ? 1 : 0).bind(12, ward);
    if (visit != nullptr) {
      write->bind(13, safer::format_rfc3339(visit->visited_at)).bind(14, safer::to_string(visit->status));
      write->bind(15, visit->has(safer::Outcome::follow_up_required) ? 1 : 0);
      write->bind(16, safer::format_iso_date(sync_server::local_date(visit->visited_at)));
    } else {
      write->bind_null(13).bind_null(14).bind(15, 0).bind_null(16);
    }
    write->run();
  }

  void keep_referrals(const std::string& visit_id, const safer::Visit* visit, const std::string& ward) {
    db_.cached("DELETE FROM referrals WHERE visit_id = ?")->bind(1, visit_id).run();
    if (visit == nullptr) return;
    const auto partners = safer::referral_partners(*visit, safer::ReferenceLists::defaults());
    if (partners.empty()) return;
    auto insert = db_.cached(
        "INSERT INTO referrals (visit_id, partner, household_id, local_day, ward, share_basis) VALUES (?, ?, ?, ?, ?, ?)");
    const std::string day = safer::format_iso_date(sync_server::local_date(visit->visited_at));
    const std::string basis = visit->share_basis ? std::string(safer::to_string(*visit->share_basis)) : std::string();
    for (const auto& partner : partners) {
      insert->reset();
      insert->bind(1, visit_id).bind(2, partner).bind(3, visit->household_id).bind(4, day).bind(5, ward).bind(6, basis).run();
    }
  }

  void write_totals(const char* upsert_sql, const char* remove_sql, const std::map<TotalsKey, Totals>& pending) {
    auto upsert = db_.cached(upsert_sql);
    for (const auto& [key, totals] : pending) {
      if (totals == Totals{}) continue;
      const auto& [period, ward, status] = key;
      upsert->reset();
      upsert->bind(1, period).bind(2, ward).bind(3, status);
      for (std::size_t i = 0; i < totals.size(); ++i) upsert->bind(static_cast<int>(4 + i), totals[i]);
      upsert->run();
      if (totals[0] < 0) db_.cached(remove_sql)->bind(1, period).bind(2, ward).bind(3, status).run();
    }
  }

  safer::sqlite::Database& db_;
  const B1Plan& plan_;
  Pending pending_;
  std::map<std::string, safer::Visit> visits_;  // the live version of each visit applied
  std::int64_t version_ = 0;
};

}  // namespace

void make_b1_store(const B1Plan& plan, const std::string& location) {
  auto store = sync_server::ServerStore::open(location);  // the schema, exactly as the server makes it
  if (!store) throw std::runtime_error(store.error().message);
  if (plan.register_csv.empty()) return;
  if (auto imported = (*store)->import_households(plan.register_csv); !imported) {
    throw std::runtime_error("b1 baseline: register import: " + imported.error().message);
  }
}

double run_b1_baseline(const B1Plan& plan, int per_transaction) {
  TempDir dir("b1-baseline");
  const std::string path = dir.file("server.db");
  make_b1_store(plan, path);
  // The changes in the order the devices' pushes take turns: setup first, then push by push.
  std::vector<std::pair<const B1Device*, const safer::Change*>> order;
  // The best case's households (each device's setup push) go in before the clock, as they do for the server.
  std::vector<std::size_t> next(plan.devices.size(), 0);
  std::vector<std::pair<const B1Device*, const safer::Change*>> setup;
  for (std::size_t d = 0; d < plan.devices.size(); ++d) {
    if (plan.devices[d].setup.empty()) continue;
    setup.emplace_back(&plan.devices[d], &plan.devices[d].changes.front());
    next[d] = 1;
  }
  for (bool more = true; more;) {
    more = false;
    for (std::size_t d = 0; d < plan.devices.size(); ++d) {
      const auto& device = plan.devices[d];
      const std::size_t end = std::min(device.changes.size(), next[d] + static_cast<std::size_t>(per_transaction));
      for (; next[d] < end; ++next[d]) order.emplace_back(&device, &device.changes[next[d]]);
      more = more || next[d] < device.changes.size();
    }
  }

  safer::sqlite::Database database(path);
  database.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
  // The page cache serve's writer has (WriterTuning); SQLite's own automatic checkpoints.
  database.exec("PRAGMA cache_size = " + std::to_string(-std::int64_t{sync_server::WriterTuning{}.cache_mib} * 1024));
  Applier applier(database, plan);
  {
    safer::sqlite::Transaction transaction(database);
    for (const auto& [device, change] : setup) applier.apply(*device, *change);
    applier.flush();
    transaction.commit();
  }
  const auto started = Clock::now();
  for (std::size_t i = 0; i < order.size();) {
    safer::sqlite::Transaction transaction(database);
    for (int k = 0; k < per_transaction && i < order.size(); ++k, ++i) applier.apply(*order[i].first, *order[i].second);
    applier.flush();
    transaction.commit();
  }
  return static_cast<double>(order.size()) / seconds_since(started);
}

}  // namespace bench
