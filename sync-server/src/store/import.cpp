// import-households (protocol.md §8): a CSV of households, all rows or none, applied as a
// coordinator's upserts so that versions, scope and statistics follow as for any push.
#include <map>

#include "safer/record_json.h"
#include "safer/uuid.h"
#include "store_impl.h"
#include "sync_server/households_csv.h"

namespace sync_server {

namespace {

// The identity the register's own writes are recorded under.
const DeviceIdentity kImporter{"register-import", "register-import", safer::Role::coordinator};

constexpr std::size_t kMaxReportedProblems = 50;

// The near duplicates among `rows` (safer/household.h: near_duplicate_key): each row whose key
// an earlier row or another live household on the register already has. REQUIRES: a
// transaction is open on `db` (the register is read in it).
std::vector<CsvProblem> near_duplicates(db::Database& db, const std::vector<CsvHousehold>& rows) {
  std::map<std::string, std::string> registered;  // key → a live household's id
  auto live = db.cached("SELECT id, data FROM records WHERE entity = 'household' AND deleted = 0");
  while (live->step()) {
    safer::Household household;
    safer::from_json(live->column_text(1), household);
    if (auto key = near_duplicate_key(household); !key.empty()) registered.emplace(std::move(key), live->column_text(0));
  }
  std::map<std::string, std::size_t> earlier;  // key → the first line of the file with it
  std::vector<CsvProblem> found;
  for (const auto& row : rows) {
    const auto key = near_duplicate_key(row.household);
    if (key.empty()) continue;
    const std::string same = "same postcode and house number as ";
    if (const auto first = earlier.find(key); first != earlier.end()) {
      found.push_back({row.line, same + "line " + std::to_string(first->second)});
    } else if (const auto known = registered.find(key); known != registered.end() && known->second != row.id.value_or("")) {
      found.push_back({row.line, same + "household " + known->second});
    }
    earlier.emplace(key, row.line);
  }
  return found;
}

}  // namespace

Result<std::size_t> ServerStore::import_households(std::string_view csv, const Actor& by,
                                                   std::vector<CsvProblem>* near_duplicates_found) {
  const auto parsed = parse_households_csv(csv, impl_->options.lists);
  if (!parsed.problems.empty()) {
    std::string message = "nothing was imported; " + std::to_string(parsed.problems.size()) + " problem(s):";
    for (std::size_t i = 0; i < parsed.problems.size() && i < kMaxReportedProblems; ++i) {
      message += "\nline " + std::to_string(parsed.problems[i].line) + ": " + parsed.problems[i].message;
    }
    return Error{"invalid", message, ""};
  }
  return in_write_group(*this, [&]() -> Result<std::size_t> {
    if (near_duplicates_found) *near_duplicates_found = near_duplicates(impl_->db, parsed.rows);
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
