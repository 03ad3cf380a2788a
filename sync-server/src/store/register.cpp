// The dashboard's register and devices (docs/api.md): the household list and its filters,
// assignment (one or many), devices and their rejected changes.
#include "safer/json_out.h"
#include "safer/record_json.h"
#include "safer/text.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"

namespace sync_server {

using safer::JsonOut;

namespace {

// `text` as a LIKE pattern that matches it anywhere, with LIKE's wildcards taken literally.
std::string contains_pattern(const std::string& text) {
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  return pattern + "%";
}

}  // namespace

std::string Dashboard::households_json(const HouseholdFilter& filter, const std::optional<std::string>& query, int limit,
                                       int offset, Listed* listed) {
  auto& db = store_.impl_->db;
  const std::optional<std::string> pattern = query ? std::optional(contains_pattern(safer::fold_case(*query))) : std::nullopt;
  std::string compact;  // postcodes are matched without their space
  if (query) {
    for (char c : safer::fold_case(*query)) if (c != ' ') compact.push_back(c);
  }
  const std::optional<std::string> postcode_pattern = query ? std::optional(contains_pattern(compact)) : std::nullopt;
  constexpr const char* kWhere =
      " FROM records WHERE entity = 'household' AND deleted = 0 AND (CAST(?1 AS TEXT) IS NULL OR ward = ?1)"
      " AND (CAST(?2 AS TEXT) IS NULL OR fold_case(json_extract(data, '$.address')) LIKE ?2 ESCAPE '\\'"
      "  OR fold_case(replace(json_extract(data, '$.postcode'), ' ', '')) LIKE ?3 ESCAPE '\\')"
      " AND (CAST(?4 AS INTEGER) IS NULL OR target = ?4) AND (?5 = 0 OR assigned_to IS NULL)"
      " AND (CAST(?6 AS TEXT) IS NULL OR assigned_to = ?6)";
  const auto bind_filters = [&](db::Statement& statement) {
    statement.bind(1, filter.ward).bind(2, pattern).bind(3, postcode_pattern);
    if (filter.target) statement.bind(4, std::int64_t{*filter.target ? 1 : 0}); else statement.bind_null(4);
    statement.bind(5, filter.unassigned ? 1 : 0).bind(6, filter.officer);
  };
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  static const std::string count_sql = std::string("SELECT count(*)") + kWhere;
  static const std::string rows_sql =
      std::string("SELECT id, data") + kWhere +  " ORDER BY ward, json_extract(data, '$.address'), id LIMIT ?7 OFFSET ?8";
  auto count = db.cached(count_sql.c_str());
  bind_filters(*count);
  const std::int64_t total = count->step() ? count->column_int(0) : 0;
  auto rows = db.cached(rows_sql.c_str());
  bind_filters(*rows);
  rows->bind(7, limit).bind(8, offset);
  JsonOut out;
  out.begin_object().field("total", total).key("households").begin_array();
  std::int64_t shown = 0;
  while (rows->step()) {
    ++shown;
    safer::Household household;
    safer::from_json(rows->column_text(1), household);
    out.begin_object().field("id", rows->column_text(0)).field("address", household.address);
    out.field("postcode", household.postcode).field("ward", household.ward).field("target", household.is_target());
    out.key("assigned_to").value(household.assignee()).key("vulnerability").begin_array();
    for (const auto& name : household.vulnerability.names()) out.value(name);
    out.end_array().end_object();
  }
  out.end_array().end_object();
  snapshot.commit();
  if (listed) *listed = Listed{shown, total};
  return out.str();
}

namespace {

std::optional<Error> invalid_assignee(const std::optional<std::string>& assigned_to) {
  if (!assigned_to || safer::is_valid_user_id(*assigned_to)) return std::nullopt;
  return Error{"invalid", "assigned_to must be null or a user id of 1 to 64 letters, digits, '.', '_', '@' or '-'",
               "assigned_to"};
}

}  // namespace

// One household's assignment as a coordinator's upsert, and its audit entry. REQUIRES: a
// write group is open.
safer::Status Dashboard::assign_in_group(const std::string& household_id, const std::optional<std::string>& assigned_to,
                                         const Actor& coordinator) {
  const auto current = store_.impl_->find_row(safer::Entity::household, household_id);
  if (!current || current->deleted) return Error{"not_found", "there is no household " + household_id, "id"};
  safer::Household household;
  safer::from_json(current->data, household);
  household.assigned_to = assigned_to;
  safer::HlcClock clock(store_.impl_->options.wall_clock, std::max(store_.impl_->server_hlc, current->hlc));
  const safer::Change change{safer::Entity::household, safer::Op::upsert, household_id, clock.tick(), household};
  const DeviceIdentity dashboard{"dashboard", coordinator.name, safer::Role::coordinator};
  bool applied = false;
  if (auto rejection = store_.impl_->apply_change(dashboard, change, applied, ServerStore::Impl::Stamp::server)) {
    return Error{rejection->code, rejection->message, rejection->field};
  }
  store_.impl_->append_assignment(coordinator, household_id, assigned_to);
  return {};
}

Result<std::string> Dashboard::assign_json(const std::string& household_id, const std::optional<std::string>& assigned_to,
                                             const Actor& coordinator) {
  if (auto refused = invalid_assignee(assigned_to)) return *refused;
  const auto assigned = in_write_group(store_, [&] { return assign_in_group(household_id, assigned_to, coordinator); });
  if (!assigned) return assigned.error();
  JsonOut out;
  out.begin_object().field("id", household_id).key("assigned_to").value(assigned_to).end_object();
  return out.str();
}

Result<std::string> Dashboard::assign_many_json(const std::vector<std::string>& household_ids,
                                                const std::optional<std::string>& assigned_to, const Actor& coordinator) {
  if (auto refused = invalid_assignee(assigned_to)) return *refused;
  if (household_ids.empty() || household_ids.size() > kMaxBulkAssign) {
    return Error{"invalid", "ids must list 1 to " + std::to_string(kMaxBulkAssign) + " household ids", "ids"};
  }
  const auto assigned = in_write_group(store_, [&]() -> safer::Status {
    for (const auto& id : household_ids) {
      if (auto one = assign_in_group(id, assigned_to, coordinator); !one) return one;  // nothing kept
    }
    return {};
  });
  if (!assigned) return assigned.error();
  JsonOut out;
  out.begin_object().field("assigned", static_cast<std::int64_t>(household_ids.size()));
  out.key("assigned_to").value(assigned_to).end_object();
  return out.str();
}

std::string Dashboard::devices_json() {
  auto rows = store_.impl_->db.cached(
      "SELECT d.device_id, d.user_id, d.role, d.revoked, d.acked_seq, d.enrolled_at, d.last_sync_at,"
      " (SELECT count(*) FROM rejections r WHERE r.device_id = d.device_id), d.wipe FROM devices d"
      " ORDER BY d.user_id, d.device_id");
  JsonOut out;
  out.begin_object().key("devices").begin_array();
  while (rows->step()) {
    out.begin_object().field("device_id", rows->column_text(0)).field("user_id", rows->column_text(1));
    out.field("role", rows->column_text(2)).field("revoked", rows->column_int(3) != 0);
    out.field("acked_seq", rows->column_int(4)).field("enrolled_at", safer::format_rfc3339(rows->column_int(5)));
    out.key("last_sync_at");
    if (rows->column_is_null(6)) out.null(); else out.value(safer::format_rfc3339(rows->column_int(6)));
    out.field("rejected", rows->column_int(7)).field("wipe", rows->column_int(8) != 0);
    out.field("wipe_delivered", rows->column_int(8) == 2).end_object();
  }
  out.end_array().end_object();
  return out.str();
}

std::string Dashboard::rejections_json(const std::string& device_id) {
  auto rows = store_.impl_->db.cached(
      "SELECT seq, entity, record_id, code, message, field, at FROM rejections WHERE device_id = ?"
      " ORDER BY seq DESC LIMIT 1000");
  rows->bind(1, device_id);
  JsonOut out;
  out.begin_object().key("rejections").begin_array();
  while (rows->step()) {
    out.begin_object().field("seq", rows->column_int(0)).key("entity").value(rows->column_optional_text(1));
    out.key("record_id").value(rows->column_optional_text(2)).field("code", rows->column_text(3));
    out.field("message", rows->column_text(4)).field("field", rows->column_text(5));
    out.field("at", safer::format_rfc3339(rows->column_int(6))).end_object();
  }
  out.end_array().end_object();
  return out.str();
}

}  // namespace sync_server
