// The officers known to the server (docs/api.md "Officers"): those a coordinator named on the
// dashboard, so that households can be given to them before they have a device, and every
// user with a device that is not revoked. A device enrolled later for a named officer needs
// nothing more: scope follows the user id (protocol.md §4.4), so its first pull brings every
// household already assigned to that name.
#include "safer/json_out.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/audit.h"
#include "sync_server/dashboard.h"

namespace sync_server {

std::string Dashboard::officers_json() {
  auto rows = store_.impl_->db.cached(
      "SELECT known.user_id, max(known.listed), sum(known.devices), max(known.role),"
      " (SELECT count(*) FROM records h WHERE h.entity = 'household' AND h.deleted = 0 AND h.assigned_to = known.user_id)"
      " FROM (SELECT user_id, 1 AS listed, 0 AS devices, '' AS role FROM officers"
      "       UNION ALL SELECT user_id, 0, 1, role FROM devices WHERE revoked = 0) known"
      " GROUP BY known.user_id ORDER BY known.user_id");
  safer::JsonOut out;
  out.begin_object().key("officers").begin_array();
  while (rows->step()) {
    out.begin_object().field("user_id", rows->column_text(0)).field("listed", rows->column_int(1) != 0);
    out.field("devices", rows->column_int(2)).key("role");
    if (rows->column_text(3).empty()) out.null(); else out.value(rows->column_text(3));
    out.field("households", rows->column_int(4)).end_object();
  }
  out.end_array().end_object();
  return out.str();
}

Status Dashboard::add_officer(const std::string& user_id, const Actor& coordinator) {
  if (!safer::is_valid_user_id(user_id)) {
    return Error{"invalid", "user_id must be a user id of 1 to 64 letters, digits, '.', '_', '@' or '-'", "user_id"};
  }
  return in_write_group(store_, [&]() -> Status {
    auto& impl = *store_.impl_;
    impl.db.cached("INSERT INTO officers (user_id, added_at, added_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        ->bind(1, user_id)
        .bind(2, impl.options.wall_clock())
        .bind(3, coordinator.name)
        .run();
    if (impl.db.changes() == 0) return {};  // already listed: nothing to record
    AuditEntry entry{coordinator, kAuditOfficerAdd};
    entry.username = user_id;
    impl.append_audit(entry);
    return {};
  });
}

Status Dashboard::remove_officer(const std::string& user_id, const Actor& coordinator) {
  return in_write_group(store_, [&]() -> Status {
    auto& impl = *store_.impl_;
    impl.db.cached("DELETE FROM officers WHERE user_id = ?")->bind(1, user_id).run();
    if (impl.db.changes() == 0) return Error{"not_found", "that officer is not on the list", "user_id"};
    AuditEntry entry{coordinator, kAuditOfficerRemove};
    entry.username = user_id;
    impl.append_audit(entry);
    return {};
  });
}

}  // namespace sync_server
