// What a household's version does beyond its own row: a coordinator's delete erases its visits
// (protocol.md §5.7, "Erasure"), and a household that leaves a user's scope leaves an exit in
// the change feed for that user's devices (§4.4, §4.6). Both run inside the write group, in
// the transaction of the household's version.
#include "safer/record_json.h"
#include "store_impl.h"

namespace sync_server {

std::vector<std::string> ServerStore::Impl::scope_holders(const std::optional<StoredRow>& household) {
  if (!household || household->deleted) return {};
  if (household->assigned_to) return {*household->assigned_to};
  return {household->owner};
}

std::size_t ServerStore::Impl::erase_visits_of(const std::string& household_id, const DeviceIdentity& device,
                                        safer::Hlc erased_at) {
  auto children = db.cached("SELECT id FROM records WHERE entity = 'visit' AND household_id = ? AND deleted = 0");
  children->bind(1, household_id);
  std::vector<std::string> ids;
  while (children->step()) ids.push_back(children->column_text(0));
  std::size_t erased = 0;
  for (const auto& visit_id : ids) {
    // Locked now, and read again: on PostgreSQL another server may have moved the visit to
    // another household (or deleted it) since the list was read. Then it is not erased.
    const auto visit = find_row(safer::Entity::visit, visit_id);
    if (!visit || visit->deleted || visit->household_id != household_id) continue;
    ++erased;
    safer::Visit record;
    safer::from_json(visit->data, record);  // written by this store: always valid
    count_visit(record, visit->ward, -1);
    keep_referrals(visit_id, nullptr, "", true);
    // The tombstone must win over the visit on every device, whoever wrote it and when.
    const safer::Hlc hlc = hlc_after(std::max(erased_at, visit->hlc));
    if (hlc > server_hlc) server_hlc = hlc;
    // household_id stays: scope still finds the tombstone through it (pull.cpp).
    db.cached(
          "UPDATE records SET hlc = ?1, device_id = ?2, user_id = ?3, deleted = 1, data = NULL, version = ?4,"
          " visited_at = NULL, status = NULL, follow_up = 0, local_day = NULL WHERE entity = 'visit' AND id = ?5")
        ->bind(1, hlc.to_string())
        .bind(2, device.device_id)
        .bind(3, device.user_id)
        .bind(4, ++last_version)
        .bind(5, visit_id)
        .run();
  }
  return erased;
}

void ServerStore::Impl::record_exits(const std::string& household_id, const std::optional<StoredRow>& before,
                                     const std::vector<std::string>& holders_after) {
  for (const auto& user : scope_holders(before)) {
    if (std::find(holders_after.begin(), holders_after.end(), user) != holders_after.end()) continue;
    // At the household's new place in the feed (on PostgreSQL also its xid, by the column's
    // default): pulls send the exit right after that version.
    db.cached(
          "INSERT INTO exits (user_id, household_id, version) SELECT ?1, id, version FROM records"
          " WHERE entity = 'household' AND id = ?2 ON CONFLICT DO NOTHING")
        ->bind(1, user)
        .bind(2, household_id)
        .run();
  }
}

}  // namespace sync_server
