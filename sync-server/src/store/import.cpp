// import-households (protocol.md §8): a CSV of households, all rows or none, applied as a
// coordinator's upserts so that versions, scope and statistics follow as for any push.
#include "safer/record_json.h"
#include "safer/uuid.h"
#include "store_impl.h"
#include "sync_server/households_csv.h"

namespace sync_server {

namespace {

// The identity the register's own writes are recorded under.
const DeviceIdentity kImporter{"register-import", "register-import", safer::Role::coordinator};

constexpr std::size_t kMaxReportedProblems = 50;

}  // namespace

Result<std::size_t> ServerStore::import_households(std::string_view csv, const Actor& by) {
  const auto parsed = parse_households_csv(csv, impl_->options.lists);
  if (!parsed.problems.empty()) {
    std::string message = "nothing was imported; " + std::to_string(parsed.problems.size()) + " problem(s):";
    for (std::size_t i = 0; i < parsed.problems.size() && i < kMaxReportedProblems; ++i) {
      message += "\nline " + std::to_string(parsed.problems[i].line) + ": " + parsed.problems[i].message;
    }
    return Error{"invalid", message, ""};
  }
  return in_write_group(*this, [&]() -> Result<std::size_t> {
    safer::HlcClock clock(impl_->options.wall_clock, impl_->server_hlc);
    for (const auto& row : parsed.rows) {
      safer::Change change;
      change.entity = safer::Entity::household;
      change.id = row.id.value_or(safer::new_uuid_v7());
      safer::Household household = row.household;
      const auto existing = impl_->find_row(safer::Entity::household, change.id);
      if (existing) {
        clock.observe(existing->hlc);  // the register's version must win
        if (!existing->deleted && !parsed.vulnerability_given) {  // no vulnerability column: keep what is known
          safer::Household before;
          safer::from_json(existing->data, before);
          household.vulnerability = before.vulnerability;
        }
      }
      const auto assignee = household.assignee();  // a coordinator's omitted assignee is none (§5.7)
      change.hlc = clock.tick();
      change.data = std::move(household);
      bool applied = false;
      if (auto rejection = impl_->apply_change(kImporter, change, applied, Impl::Stamp::server)) {
        return Error{"invalid", "nothing was imported; line " + std::to_string(row.line) + ": " + rejection->message, ""};
      }
      const auto assignee_before = existing && !existing->deleted ? existing->assigned_to : std::nullopt;
      if (applied && assignee != assignee_before) impl_->append_assignment(by, change.id, assignee);
    }
    AuditEntry entry{by, kAuditRegisterImport};
    entry.detail = "rows=" + std::to_string(parsed.rows.size());
    impl_->append_audit(entry);
    return parsed.rows.size();
  });
}

}  // namespace sync_server
