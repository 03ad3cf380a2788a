// The dashboard's household page (docs/api.md "Register"): one household with its visits and
// its assignment history; editing it and erasing it as a coordinator's upsert or delete, so
// that versions, scope, statistics and tablets follow exactly as for a coordinator's push.
#include "safer/json_out.h"
#include "safer/record_json.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"

namespace sync_server {

using safer::JsonOut;

namespace {

// The identity the dashboard's writes are recorded under (as assign_json's).
DeviceIdentity dashboard_identity(const Actor& coordinator) {
  return DeviceIdentity{"dashboard", coordinator.name, safer::Role::coordinator};
}

void write_household(JsonOut& out, const std::string& id, const safer::Household& household) {
  out.field("id", id).field("address", household.address).field("postcode", household.postcode);
  out.field("ward", household.ward).field("target", household.is_target());
  out.key("assigned_to").value(household.assignee()).key("vulnerability").begin_array();
  for (const auto& name : household.vulnerability.names()) out.value(name);
  out.end_array();
}

// The names of the editable fields that differ, "address,target" ("" when none): for the
// audit trail, which keeps which fields changed and never their values.
std::string changed_fields(const safer::Household& before, const safer::Household& after) {
  std::string names;
  const auto note = [&names](bool changed, const char* name) {
    if (changed) names += (names.empty() ? "" : ",") + std::string(name);
  };
  note(before.address != after.address, "address");
  note(before.postcode != after.postcode, "postcode");
  note(before.ward != after.ward, "ward");
  note(before.is_target() != after.is_target(), "target");
  note(before.vulnerability != after.vulnerability, "vulnerability");
  return names;
}

}  // namespace

Result<std::string> Dashboard::household_json(const std::string& household_id) {
  auto& db = store_.impl_->db;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  auto row = db.cached("SELECT data FROM records WHERE entity = 'household' AND id = ? AND deleted = 0");
  row->bind(1, household_id);
  if (!row->step()) return Error{"not_found", "there is no household " + household_id, "id"};
  safer::Household household;
  safer::from_json(row->column_text(0), household);  // written by this store: always valid
  JsonOut out;
  out.begin_object();
  write_household(out, household_id, household);
  out.key("visits").begin_array();
  auto visits = db.cached(
      "SELECT id, data, owner, user_id FROM records WHERE entity = 'visit' AND household_id = ? AND deleted = 0"
      " ORDER BY visited_at DESC, id");
  visits->bind(1, household_id);
  while (visits->step()) {
    // The record as stored (every field a tablet sent), beside who recorded it and who last changed it.
    out.begin_object().field("id", visits->column_text(0)).key("visit").raw(visits->column_text(1));
    out.field("recorded_by", visits->column_text(2)).field("last_changed_by", visits->column_text(3)).end_object();
  }
  out.end_array().key("assignments").begin_array();
  for (const auto& record : AuditLog(store_).about_household(household_id)) {
    if (record.entry.action != kAuditAssign) continue;
    out.begin_object().field("at", safer::format_rfc3339(record.at)).field("by", record.entry.actor.name);
    out.field("via", record.entry.actor.via).key("assigned_to");
    if (record.entry.username.empty()) out.null(); else out.value(record.entry.username);
    out.end_object();
  }
  out.end_array().end_object();
  snapshot.commit();
  return out.str();
}

Result<std::string> Dashboard::edit_household_json(const std::string& household_id, const safer::Household& edited,
                                                   const Actor& coordinator) {
  safer::Household after;
  const auto saved = in_write_group(store_, [&]() -> safer::Status {
    auto& impl = *store_.impl_;
    const auto current = impl.find_row(safer::Entity::household, household_id);
    if (!current || current->deleted) return Error{"not_found", "there is no household " + household_id, "id"};
    safer::Household before;
    safer::from_json(current->data, before);
    after = edited;
    after.target = edited.target.value_or(before.is_target());  // omitted: unchanged
    after.assigned_to = before.assignee();                      // assignment is its own request
    if (auto errors = safer::check_household(after, impl.options.lists); !errors.empty()) {
      return Error{"invalid", safer::join_messages(errors), errors.front().field};
    }
    const auto fields = changed_fields(before, after);
    if (fields.empty()) return {};
    safer::HlcClock clock(impl.options.wall_clock, std::max(impl.server_hlc, current->hlc));
    const safer::Change change{safer::Entity::household, safer::Op::upsert, household_id, clock.tick(), after};
    bool applied = false;
    if (auto rejection = impl.apply_change(dashboard_identity(coordinator), change, applied, ServerStore::Impl::Stamp::server)) {
      return Error{rejection->code, rejection->message, rejection->field};
    }
    AuditEntry entry{coordinator, kAuditHouseholdEdit};
    entry.household = household_id;
    entry.detail = "fields=" + fields;
    impl.append_audit(entry);
    return {};
  });
  if (!saved) return saved.error();
  JsonOut out;
  out.begin_object();
  write_household(out, household_id, after);
  out.end_object();
  return out.str();
}

Result<std::size_t> Dashboard::erase_household(const std::string& household_id, const Actor& coordinator) {
  std::size_t visits = 0;
  const auto erased = in_write_group(store_, [&]() -> safer::Status {
    auto& impl = *store_.impl_;
    const auto current = impl.find_row(safer::Entity::household, household_id);
    if (!current || current->deleted) return Error{"not_found", "there is no household " + household_id, "id"};
    auto count = impl.db.cached("SELECT count(*) FROM records WHERE entity = 'visit' AND household_id = ? AND deleted = 0");
    count->bind(1, household_id);
    visits = count->step() ? static_cast<std::size_t>(count->column_int(0)) : 0;
    safer::HlcClock clock(impl.options.wall_clock, std::max(impl.server_hlc, current->hlc));
    const safer::Change change{safer::Entity::household, safer::Op::remove, household_id, clock.tick(), std::nullopt};
    bool applied = false;
    // apply_change() erases the visits and writes the `erase` audit entry, in this transaction.
    if (auto rejection = impl.apply_change(dashboard_identity(coordinator), change, applied, ServerStore::Impl::Stamp::server,
                                           {}, safer::WriterRules::protocol1(), &coordinator)) {
      return Error{rejection->code, rejection->message, rejection->field};
    }
    return {};
  });
  if (!erased) return erased.error();
  return visits;
}

}  // namespace sync_server
