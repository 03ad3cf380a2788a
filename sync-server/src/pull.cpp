// Pull (contract §4): pages of winning versions in commit order, within the device's scope.
//
// Every applied version takes the next records.version inside the one write transaction
// that commits it, so version order is commit order and a reader sees every version up to
// its snapshot's last one. A cursor is "<store epoch>.<version>": everything up to that
// version has been sent. Another store (a restored backup, a new database) has another
// epoch, and its cursors are refused with cursor_invalid.
#include <charconv>

#include "safer/record_json.h"
#include "store_impl.h"

namespace sync_server {

namespace {

// The scope of contract §4 for officers and PCSOs: households assigned to or created by
// the user, every visit to those, and the user's own visits and sessions. ?2 is the user.
//
// The unary + on r.entity keeps SQLite from answering the OR with one primary-key scan per
// entity and a sort of the result (MULTI-INDEX OR, then a temporary B-tree for ORDER BY):
// that read every record of the store for each page, 150 ms a page at 60,000 records. With
// it, the page walks the version index from the cursor and stops after ?3 rows in scope.
constexpr const char* kScopedPage =
    "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data, r.version FROM records r"
    " WHERE r.version > ?1 AND ("
    "  (+r.entity = 'household' AND (r.owner = ?2 OR r.assigned_to = ?2))"
    "  OR (+r.entity = 'commute_session' AND r.owner = ?2)"
    "  OR (+r.entity = 'visit' AND (r.owner = ?2 OR EXISTS (SELECT 1 FROM records h"
    "      WHERE h.entity = 'household' AND h.id = r.household_id AND (h.owner = ?2 OR h.assigned_to = ?2)))))"
    " ORDER BY r.version LIMIT ?3";

constexpr const char* kEverythingPage =
    "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data, r.version FROM records r"
    " WHERE r.version > ?1 ORDER BY r.version LIMIT ?3";

// The envelope and the parts of a change other than its data, generously; and what a page
// may hold so that it stays under the 1 MiB message limit once encoded.
constexpr std::size_t kChangeOverheadBytes = 512;
constexpr std::size_t kPageBudgetBytes = safer::kMaxMessageBytes - 64 * 1024;

std::optional<std::int64_t> parse_cursor(const std::string& cursor, const std::string& epoch) {
  if (cursor.empty()) return 0;
  if (cursor.size() <= epoch.size() + 1 || cursor.compare(0, epoch.size(), epoch) != 0 || cursor[epoch.size()] != '.') {
    return std::nullopt;
  }
  std::int64_t version = -1;
  const char* begin = cursor.data() + epoch.size() + 1;
  const char* end = cursor.data() + cursor.size();
  const auto [ptr, ec] = std::from_chars(begin, end, version);
  if (ec != std::errc() || ptr != end || version < 0) return std::nullopt;
  return version;
}

}  // namespace

Result<safer::ChangesPage> ServerStore::pull(const DeviceIdentity& device, const safer::Pull& pull) {
  auto& db = impl_->db;
  sqlite::Transaction snapshot(db, sqlite::Transaction::Kind::read);
  const std::int64_t newest = std::stoll(impl_->meta("last_version").value_or("0"));
  const auto after = parse_cursor(pull.cursor, impl_->epoch);
  if (!after || *after > newest) {
    return Error{std::string(safer::codes::kCursorInvalid),
                 "the cursor was not issued by this server or is no longer valid; pull again from \"\"", "cursor"};
  }

  const bool everything = device.role == safer::Role::coordinator;
  auto rows = db.cached(everything ? kEverythingPage : kScopedPage);
  rows->bind(1, *after).bind(3, pull.limit + 1);  // one more than asked: is there more?
  if (!everything) rows->bind(2, device.user_id);

  safer::ChangesPage page;
  std::int64_t last = *after;
  std::size_t bytes = 0;
  while (rows->step()) {
    // A page must fit one message (contract §1: 1 MiB) however long the notes are.
    const std::size_t size = static_cast<std::size_t>(rows->column_bytes(5)) + kChangeOverheadBytes;
    if (static_cast<int>(page.changes.size()) == pull.limit || (!page.changes.empty() && bytes + size > kPageBudgetBytes)) {
      page.has_more = true;
      break;
    }
    bytes += size;
    safer::PulledChange pulled;
    auto& change = pulled.change;
    change.entity = safer::enum_from_string<safer::Entity>(rows->column_text(0)).value_or(safer::Entity::visit);
    change.id = rows->column_text(1);
    change.hlc = safer::Hlc::parse(rows->column_text(2)).value_or(safer::Hlc{});
    pulled.device_id = rows->column_text(3);
    if (rows->column_int(4) != 0) {
      change.op = safer::Op::remove;
    } else {
      safer::RecordData data;
      safer::from_json(rows->column_text(5), change.entity, data);
      change.data = std::move(data);
    }
    last = rows->column_int(6);
    page.changes.push_back(std::move(pulled));
  }
  // Nothing in scope lies between the last row sent and the snapshot's newest version, so a
  // finished pull may skip ahead to it and not scan those rows again.
  page.cursor = impl_->epoch + "." + std::to_string(page.has_more ? last : newest);
  snapshot.commit();
  return page;
}

}  // namespace sync_server
