// B1's baseline on PostgreSQL (issue 17): the records rows of a workload's changes written by
// multi-row INSERT, 500 rows a statement and a transaction, into a database the server's
// migrations made (b1_baseline.h).
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "safer/pg.h"
#include "safer/record_json.h"
#include "safer/time.h"
#include "support/b1_baseline.h"
#include "support/bench.h"
#include "sync_server/local_time.h"

namespace bench {

namespace {

constexpr std::size_t kColumns = 16;

// The 16 columns apply.cpp writes (records.version and xid are the trigger's), as text.
std::vector<safer::pg::Param> row_of(const B1Device& device, const safer::Change& change, const std::string& household_id,
                                     const std::string& ward) {
  const auto* visit = change.data ? std::get_if<safer::Visit>(&*change.data) : nullptr;
  const auto* household = change.data ? std::get_if<safer::Household>(&*change.data) : nullptr;
  std::vector<safer::pg::Param> row;
  row.emplace_back(std::string(safer::to_string(change.entity)));
  row.emplace_back(change.id);
  row.emplace_back(change.hlc.to_string());
  row.emplace_back(device.id);
  row.emplace_back(device.user);
  row.emplace_back(device.user);
  row.emplace_back(change.data ? "0" : "1");
  row.push_back(change.data ? safer::pg::Param(safer::to_json(*change.data)) : std::nullopt);
  row.push_back(household_id.empty() ? std::nullopt : safer::pg::Param(household_id));
  row.push_back(household != nullptr && household->assigned_to ? safer::pg::Param(*household->assigned_to) : std::nullopt);
  row.emplace_back(household != nullptr && household->target.value_or(false) ? "1" : "0");
  row.emplace_back(ward);
  row.push_back(visit ? safer::pg::Param(safer::format_rfc3339(visit->visited_at)) : std::nullopt);
  row.push_back(visit ? safer::pg::Param(std::string(safer::to_string(visit->status))) : std::nullopt);
  row.emplace_back(visit && visit->has(safer::Outcome::follow_up_required) ? "1" : "0");
  row.push_back(visit ? safer::pg::Param(safer::format_iso_date(sync_server::local_date(visit->visited_at))) : std::nullopt);
  return row;
}

std::string insert_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO records (entity, id, hlc, device_id, user_id, owner, deleted, data, household_id, assigned_to,"
      " target, ward, visited_at, status, follow_up, local_day) VALUES ";
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ",(";
    for (std::size_t c = 0; c < kColumns; ++c) {
      sql += (c == 0 ? "$" : ",$") + std::to_string(r * kColumns + c + 1);
      if (c == 6 || c == 10 || c == 14) sql += "::integer";
    }
    sql += ")";
  }
  sql += " ON CONFLICT (entity, id) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id,"
         " user_id = excluded.user_id, deleted = excluded.deleted, data = excluded.data,"
         " household_id = excluded.household_id, assigned_to = excluded.assigned_to, target = excluded.target,"
         " ward = excluded.ward, visited_at = excluded.visited_at, status = excluded.status,"
         " follow_up = excluded.follow_up, local_day = excluded.local_day";
  return sql;
}

}  // namespace

double run_b1_pg_baseline(const B1Plan& plan, const std::string& url, int per_statement) {
  make_b1_store(plan, url);
  // Every change, device after device (the order a group takes them in matters little to
  // PostgreSQL's B-trees); the visits' households, for tombstones.
  std::vector<std::pair<const B1Device*, const safer::Change*>> order;
  for (const auto& device : plan.devices) {
    for (const auto& change : device.changes) order.emplace_back(&device, &change);
  }
  safer::pg::Connection connection(url);
  std::unordered_map<std::string, std::string> household_of_visit;
  const auto started = Clock::now();
  for (std::size_t i = 0; i < order.size();) {
    // One statement may not touch a row twice (ON CONFLICT): a change to a record already in
    // this statement replaces its row, as the later version would.
    std::map<std::pair<std::string, std::string>, std::vector<safer::pg::Param>> rows;
    for (int k = 0; k < per_statement && i < order.size(); ++k, ++i) {
      const auto& [device, change] = order[i];
      std::string household_id = change->entity == safer::Entity::household ? change->id : "";
      if (change->entity == safer::Entity::visit) {
        if (const auto* visit = change->data ? std::get_if<safer::Visit>(&*change->data) : nullptr) {
          household_of_visit[change->id] = visit->household_id;
        }
        household_id = household_of_visit[change->id];
      }
      const auto ward = plan.wards.find(change->entity == safer::Entity::household ? change->id : household_id);
      rows[{std::string(safer::to_string(change->entity)), change->id}] =
          row_of(*device, *change, change->entity == safer::Entity::visit ? household_id : "",
                 ward == plan.wards.end() ? "" : ward->second);
    }
    std::vector<safer::pg::Param> params;
    params.reserve(rows.size() * kColumns);
    for (auto& [key, row] : rows) {
      for (auto& value : row) params.push_back(std::move(value));
    }
    safer::pg::Transaction transaction(connection);
    connection.run_prepared("b1_rows_" + std::to_string(rows.size()), insert_sql(rows.size()), params);
    transaction.commit();
  }
  return static_cast<double>(order.size()) / seconds_since(started);
}

}  // namespace bench
