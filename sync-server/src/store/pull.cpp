// Pull (protocol.md §4): pages of winning versions in commit order, within the device's scope.
//
// SQLite: every applied version takes the next records.version inside the one write
// transaction that commits it, so version order is commit order and a reader sees every
// version up to its snapshot's last one. A cursor is "<store epoch>.<version>": everything up
// to that version has been sent. PostgreSQL, where several servers commit at once and a
// sequence's order is not commit order: see kPgScopedPage. Another store (a restored backup, a new database) has another
// epoch, and its cursors are refused with cursor_invalid; so is a cursor older than the
// compaction horizon, before which tombstones may have been removed (retention.h).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

#include "safer/record_json.h"
#include "store_impl.h"

namespace sync_server {

namespace {

// The scope of protocol.md §4.4 for officers and PCSOs: households assigned to the user, or
// created by the user and assigned to nobody; every visit to those; the user's own sessions.
// ?2 is the user.
//
// The unary + on r.entity keeps SQLite from answering the OR with one primary-key scan per
// entity and a sort of the result (MULTI-INDEX OR, then a temporary B-tree for ORDER BY):
// that read every record of the store for each page, 150 ms a page at 60,000 records. With
// it, the page walks the version index from the cursor and stops after ?3 rows in scope.
constexpr const char* kScopedPage =
    "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data, r.version FROM records r"
    " WHERE r.version > ?1 AND ("
    "  (+r.entity = 'household' AND (r.assigned_to = ?2 OR (r.assigned_to IS NULL AND r.owner = ?2)))"
    "  OR (+r.entity = 'commute_session' AND r.owner = ?2)"
    "  OR (+r.entity = 'visit' AND EXISTS (SELECT 1 FROM records h WHERE h.entity = 'household'"
    "      AND h.id = r.household_id AND (h.assigned_to = ?2 OR (h.assigned_to IS NULL AND h.owner = ?2)))))"
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

namespace {

// A place in the change feed: (0, version) on SQLite, (xid, version) on PostgreSQL.
using FeedPosition = std::pair<std::uint64_t, std::int64_t>;

// Households that left the user's scope, with the place in the feed of the version that took
// them out: sent to clients that announced "evict" (protocol.md §4.6) in feed order among the
// records. At most limit + 1 are read; a page never holds more than limit.
struct Exit {
  FeedPosition at;
  std::string household_id;
};

// Fills `page` with the rows (entity, id, hlc, device_id, deleted, data, …) and the exits
// merged in feed order, until the limit or the byte budget; sets has_more when it stopped with
// something left. `position` gives a row's place in the feed; `last` is the place of the last
// thing the page holds. The data is decoded, or kept as stored text (ServerStore::Data).
template <class Position>
void read_page(db::Statement& rows, int limit, const std::vector<Exit>& exits, safer::ChangesPage& page,
               Position position, FeedPosition& last, ServerStore::Data form) {
  std::size_t bytes = 0;
  std::size_t next_exit = 0;
  const auto full = [&] { return static_cast<int>(page.changes.size()) == limit; };
  // Places the exits before `bound` (all of them when there is none); false once the page is full.
  const auto place_exits = [&](const std::optional<FeedPosition>& bound) {
    for (; next_exit < exits.size() && (!bound || exits[next_exit].at < *bound); ++next_exit) {
      if (full()) return false;
      safer::PulledChange eviction;
      eviction.evict = true;
      eviction.change.entity = safer::Entity::household;
      eviction.change.id = exits[next_exit].household_id;
      page.changes.push_back(std::move(eviction));
      bytes += kChangeOverheadBytes;
      last = exits[next_exit].at;
    }
    return true;
  };
  while (rows.step()) {
    const FeedPosition at = position(rows);
    // A page must fit one message (protocol.md §1.3: 1 MiB) however long the notes are.
    const std::size_t size = rows.column_bytes(5) + kChangeOverheadBytes;
    if (!place_exits(at) || full() || (!page.changes.empty() && bytes + size > kPageBudgetBytes)) {
      page.has_more = true;
      return;
    }
    bytes += size;
    safer::PulledChange pulled;
    auto& change = pulled.change;
    change.entity = safer::enum_from_string<safer::Entity>(rows.column_text(0)).value_or(safer::Entity::visit);
    change.id = rows.column_text(1);
    change.hlc = safer::Hlc::parse(rows.column_text(2)).value_or(safer::Hlc{});
    pulled.device_id = rows.column_text(3);
    if (rows.column_int(4) != 0) {
      change.op = safer::Op::remove;
    } else if (form == ServerStore::Data::stored) {
      pulled.stored_data = rows.column_text(5);
    } else {
      safer::RecordData data;
      safer::from_json(rows.column_text(5), change.entity, data);
      change.data = std::move(data);
    }
    last = at;
    page.changes.push_back(std::move(pulled));
  }
  if (!place_exits(std::nullopt)) page.has_more = true;
}

// The user's exits after `after` (and, on PostgreSQL, below the watermark), in feed order.
std::vector<Exit> read_exits(db::Database& db, const std::string& user, const FeedPosition& after,
                             std::uint64_t watermark, int limit) {
  std::vector<Exit> exits;
  auto rows = db.postgresql()
                  ? db.cached("SELECT xid::text, version, household_id FROM exits WHERE user_id = ?1"
                              " AND (xid, version) > (?2::xid8, ?3) AND xid < ?4::xid8 ORDER BY xid, version LIMIT ?5")
                  : db.cached("SELECT 0, version, household_id FROM exits WHERE user_id = ?1 AND version > ?3"
                              " ORDER BY version LIMIT ?5");
  rows->bind(1, user).bind(3, after.second).bind(5, limit + 1);
  if (db.postgresql()) rows->bind(2, std::to_string(after.first)).bind(4, std::to_string(watermark));
  while (rows->step()) {
    exits.push_back({{std::stoull(rows->column_text(0)), rows->column_int(1)}, rows->column_text(2)});
  }
  return exits;
}

// A full pull (from "") that has more pages to come names, after a '~', the place in the feed
// where it began: "<cursor>~<start>". Compaction that has not passed that place removed only
// tombstones of records deleted before the pull began, which the client drops at its end
// anyway (protocol.md §4.3); so such a page's cursor is honoured even when it lies before the
// compaction horizon, and only a horizon past the start refuses it. Returns the cursor without
// the suffix, and the suffix ("" if none).
std::pair<std::string, std::string> split_full_pull(const std::string& cursor) {
  const auto tilde = cursor.find('~');
  if (tilde == std::string::npos) return {cursor, ""};
  return {cursor.substr(0, tilde), cursor.substr(tilde + 1)};
}

// "<xid>.<version>" (PostgreSQL) or "<version>" (SQLite, xid 0).
std::optional<FeedPosition> parse_start(const std::string& text, bool postgresql) {
  FeedPosition position{0, 0};
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (postgresql) {
    const auto [dot, ec] = std::from_chars(begin, end, position.first);
    if (ec != std::errc() || dot == end || *dot != '.') return std::nullopt;
    begin = dot + 1;
  }
  const auto [ptr, ec] = std::from_chars(begin, end, position.second);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return position;
}

// Whether a pull from `cursor` (split by split_full_pull) may go on past the compaction
// horizon: it lies at or after it, or it continues a full pull that began at or after it.
bool before_horizon(const std::string& cursor, const FeedPosition& after, const std::optional<FeedPosition>& start,
                    const FeedPosition& horizon) {
  if (cursor.empty()) return false;
  return (start ? *start : after) < horizon;
}

Error cursor_invalid() {
  return Error{std::string(safer::codes::kCursorInvalid),
               "the cursor was not issued by this server or is no longer valid; pull again from \"\"", "cursor"};
}

// PostgreSQL: a cursor is "<epoch>.<xid>.<version>", everything up to (xid, version) sent.
std::optional<std::pair<std::uint64_t, std::int64_t>> parse_pg_cursor(const std::string& cursor,
                                                                     const std::string& epoch) {
  if (cursor.empty()) return std::pair<std::uint64_t, std::int64_t>{0, 0};
  if (cursor.size() <= epoch.size() + 1 || cursor.compare(0, epoch.size(), epoch) != 0 || cursor[epoch.size()] != '.') {
    return std::nullopt;
  }
  const char* begin = cursor.data() + epoch.size() + 1;
  const char* end = cursor.data() + cursor.size();
  std::uint64_t xid = 0;
  std::int64_t version = -1;
  auto [dot, ec] = std::from_chars(begin, end, xid);
  if (ec != std::errc() || dot == end || *dot != '.') return std::nullopt;
  const auto [ptr, ec2] = std::from_chars(dot + 1, end, version);
  if (ec2 != std::errc() || ptr != end || version < 0) return std::nullopt;
  return std::pair{xid, version};
}

// The feed in (xid, version) order, only below the watermark ?5: rows of transactions that
// have all ended. Any transaction still running, or yet to write, has an xid at or above it,
// so whatever commits later sorts after the cursor and is never skipped. ?1, ?2: the cursor;
// ?3: the limit; ?4: the user.
// On PostgreSQL: whether the record `r` lies in the scope (protocol.md §4.4) of the user in the
// parameter U. One text for every statement that asks, so that they cannot disagree.
#define PG_IN_SCOPE(U)                                                                                 \
  "((r.entity = 'household' AND (r.assigned_to = " U " OR (r.assigned_to IS NULL AND r.owner = " U ")))" \
  "  OR (r.entity = 'commute_session' AND r.owner = " U ")"                                            \
  "  OR (r.entity = 'visit' AND EXISTS (SELECT 1 FROM records h WHERE h.entity = 'household'"           \
  "      AND h.id = r.household_id AND (h.assigned_to = " U " OR (h.assigned_to IS NULL AND h.owner = " U ")))))"

constexpr const char* kPgScopedPage =
    "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data, r.xid, r.version FROM records r"
    " WHERE (r.xid, r.version) > (?1, ?2) AND r.xid < ?5 AND " PG_IN_SCOPE("?4")
    " ORDER BY r.xid, r.version LIMIT ?3";
constexpr const char* kPgEverythingPage =
    "SELECT r.entity, r.id, r.hlc, r.device_id, r.deleted, r.data, r.xid, r.version FROM records r"
    " WHERE (r.xid, r.version) > (?1, ?2) AND r.xid < ?4 ORDER BY r.xid, r.version LIMIT ?3";

// Whether the user's scope holds a committed row at or above the watermark ?1 (?2: the user):
// written by a transaction younger than one still open, so not yet in the part of the feed a
// page may send. Usually those rows are few (the groups that committed while an older one was
// open), so an officer's first question reads at most kHeldBackWalk + 1 of them from the feed
// index and counts them and those in scope. Only when there are more (a long transaction has
// let them pile up) is the second asked: the scope read through its indexes, as kScopeCount
// reads it, whose cost is the scope's (65 ms for B2's officer, whose scope is 60,000 records).
constexpr int kHeldBackWalk = 1000;
constexpr const char* kPgHeldBackWalk =
    "SELECT COUNT(*), COALESCE(MAX(CASE WHEN " PG_IN_SCOPE("?2") " THEN 1 ELSE 0 END), 0)"
    " FROM (SELECT entity, household_id, assigned_to, owner FROM records WHERE xid >= ?1"
    "       ORDER BY xid, version LIMIT ?3) r";
// The user U's households, read through the indexes (by assignee; the creator's unassigned ones).
#define PG_SCOPE_HOUSEHOLDS(U)                                                                       \
  "WITH households(id, xid, version) AS ("                                                            \
  "  SELECT id, xid, version FROM records WHERE entity = 'household' AND assigned_to = " U           \
  "  UNION ALL SELECT id, xid, version FROM records WHERE owner = " U " AND entity = 'household'"      \
  "   AND assigned_to IS NULL)"
constexpr const char* kPgScopedHeldBack =
    PG_SCOPE_HOUSEHOLDS("?2")
    " SELECT 1 WHERE EXISTS (SELECT 1 FROM households WHERE xid >= ?1)"
    "  OR EXISTS (SELECT 1 FROM households h JOIN records v ON v.entity = 'visit' AND v.household_id = h.id"
    "      WHERE v.xid >= ?1)"
    "  OR EXISTS (SELECT 1 FROM records WHERE owner = ?2 AND entity = 'commute_session' AND xid >= ?1)";
// A coordinator's: the first row above the watermark in the feed index (the ORDER BY keeps it
// so: PostgreSQL's generic plan without it read every record, 150 ms at 510,000).
constexpr const char* kPgEverythingHeldBack = "SELECT 1 FROM records WHERE xid >= ?1 ORDER BY xid, version LIMIT 1";

// protocol.md §4.2 `remaining`: the records in the user's scope after a place in the feed,
// in the reading transaction's snapshot. An officer's scope is read through indexes, not by
// walking the feed: households by assignee (the user's, and the unassigned ones for those the
// user created), their visits by household, sessions by kind. It runs once per pull, and only
// for a pull of more than one page. ?1, ?2: the (xid, version) after which to count (SQLite
// has no xid); ?3: the user.
constexpr const char* kScopeCount =
    "WITH households(id, version) AS ("
    "  SELECT id, version FROM records WHERE entity = 'household' AND assigned_to = ?3"
    "  UNION ALL SELECT id, version FROM records WHERE owner = ?3 AND entity = 'household' AND assigned_to IS NULL)"
    " SELECT (SELECT COUNT(*) FROM households WHERE version > ?2)"
    "  + (SELECT COUNT(*) FROM households h JOIN records v ON v.entity = 'visit' AND v.household_id = h.id"
    "      WHERE v.version > ?2)"
    "  + (SELECT COUNT(*) FROM records WHERE owner = ?3 AND entity = 'commute_session' AND version > ?2)";
constexpr const char* kEverythingCount = "SELECT COUNT(*) FROM records WHERE version > ?2";
constexpr const char* kPgScopeCount =
    PG_SCOPE_HOUSEHOLDS("?3")
    " SELECT (SELECT COUNT(*) FROM households WHERE (xid, version) > (?1::xid8, ?2))"
    "  + (SELECT COUNT(*) FROM households h JOIN records v ON v.entity = 'visit' AND v.household_id = h.id"
    "      WHERE (v.xid, v.version) > (?1::xid8, ?2))"
    "  + (SELECT COUNT(*) FROM records WHERE owner = ?3 AND entity = 'commute_session'"
    "      AND (xid, version) > (?1::xid8, ?2))";
constexpr const char* kPgEverythingCount = "SELECT COUNT(*) FROM records WHERE (xid, version) > (?1::xid8, ?2)";

// The same for a pull from "" (from the start of the feed, where every version lies after the
// cursor): the whole scope, from the indexes alone (half a B2 officer's count above, §12.7).
constexpr const char* kScopeTotal =
    "WITH households(id) AS ("
    "  SELECT id FROM records WHERE entity = 'household' AND assigned_to = ?1"
    "  UNION ALL SELECT id FROM records WHERE owner = ?1 AND entity = 'household' AND assigned_to IS NULL)"
    " SELECT (SELECT COUNT(*) FROM households)"
    "  + (SELECT COUNT(*) FROM households h JOIN records v ON v.entity = 'visit' AND v.household_id = h.id)"
    "  + (SELECT COUNT(*) FROM records WHERE owner = ?1 AND entity = 'commute_session')";
constexpr const char* kEverythingTotal = "SELECT COUNT(*) FROM records";

bool held_back(db::Database& db, const DeviceIdentity& device, std::uint64_t watermark) {
  const std::string mark = std::to_string(watermark);
  if (device.role == safer::Role::coordinator) {
    auto row = db.cached(kPgEverythingHeldBack);
    row->bind(1, mark);
    return row->step();
  }
  {
    auto walk = db.cached(kPgHeldBackWalk);
    walk->bind(1, mark).bind(2, device.user_id).bind(3, kHeldBackWalk + 1);
    walk->step();
    if (walk->column_int(1) != 0) return true;
    if (walk->column_int(0) <= kHeldBackWalk) return false;  // every row above it read
  }
  auto row = db.cached(kPgScopedHeldBack);
  row->bind(1, mark).bind(2, device.user_id);
  return row->step();
}

std::int64_t count_all(db::Database& db, const DeviceIdentity& device) {
  const bool everything = device.role == safer::Role::coordinator;
  auto count = db.cached(everything ? kEverythingTotal : kScopeTotal);
  if (!everything) count->bind(1, device.user_id);
  count->step();
  return count->column_int(0);
}

std::int64_t count_after(db::Database& db, const DeviceIdentity& device, const FeedPosition& after) {
  const bool everything = device.role == safer::Role::coordinator;
  auto count = db.postgresql() ? db.cached(everything ? kPgEverythingCount : kPgScopeCount)
                               : db.cached(everything ? kEverythingCount : kScopeCount);
  if (db.postgresql()) count->bind(1, std::to_string(after.first));
  count->bind(2, after.second);
  if (!everything) count->bind(3, device.user_id);
  count->step();
  return count->column_int(0);
}

// The page's `remaining` (ServerStore::pull): 0 on the last page; the previous estimate counted
// down while it stays above nothing; else counted again: the whole scope less this page for a
// pull from "", the scope after `last` (the page's last place) for any other.
std::int64_t estimate_remaining(db::Database& db, const DeviceIdentity& device, const safer::Pull& pull,
                                const safer::ChangesPage& page, const std::optional<std::int64_t>& previous,
                                const FeedPosition& last) {
  if (!page.has_more) return 0;
  std::int64_t records = 0;
  for (const auto& change : page.changes) records += change.evict ? 0 : 1;
  if (previous && *previous > records) return *previous - records;
  if (pull.cursor.empty()) return std::max<std::int64_t>(0, count_all(db, device) - records);
  return count_after(db, device, last);
}

}  // namespace

Result<safer::ChangesPage> ServerStore::pull(const DeviceIdentity& device, const safer::Pull& pull,
                                             Evictions evictions, Progress progress, Data data) {
  auto& db = impl_->db;
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  const bool everything = device.role == safer::Role::coordinator;
  // A pull from "" brings the whole scope: nothing to evict (protocol.md §4.6).
  const bool with_exits = evictions == Evictions::send && !everything && !pull.cursor.empty();
  safer::ChangesPage page;

  if (db.postgresql()) {
    // First statement: it fixes the transaction's snapshot, which the page then reads.
    auto mark = db.cached("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
    mark->step();
    const std::uint64_t watermark = std::stoull(mark->column_text(0));
    const auto [base, start_text] = split_full_pull(pull.cursor);
    const auto after = parse_pg_cursor(base, impl_->epoch);
    if (!after || after->first >= watermark) return cursor_invalid();
    auto start = pull.cursor.empty() ? std::optional(FeedPosition{watermark - 1, INT64_MAX})
                                     : (start_text.empty() ? std::nullopt : parse_start(start_text, true));
    if (!start_text.empty() && !start) return cursor_invalid();
    // Read in the page's snapshot: tombstones before the horizon may be gone (retention.h).
    if (before_horizon(pull.cursor, *after, start, impl_->compaction_horizon())) return cursor_invalid();
    const auto exits = with_exits ? read_exits(db, device.user_id, *after, watermark, pull.limit) : std::vector<Exit>{};
    // PostgreSQL's counterpart of the unary + in kScopedPage: guessing the scope selective, it
    // read every record and sorted them for each page (78 ms a page, B2 9.4 s); walking the
    // feed index in order and stopping after a page is what a pull needs (B2 1.5 s).
    db.exec("SET LOCAL enable_sort = off");
    auto rows = db.cached(everything ? kPgEverythingPage : kPgScopedPage);
    rows->bind(1, std::to_string(after->first)).bind(2, after->second).bind(3, pull.limit + 1);
    if (everything) {
      rows->bind(4, std::to_string(watermark));
    } else {
      rows->bind(4, device.user_id).bind(5, std::to_string(watermark));
    }
    FeedPosition last = *after;
    read_page(*rows, pull.limit, exits, page,
              [](db::Statement& row) { return FeedPosition{std::stoull(row.column_text(6)), row.column_int(7)}; }, last,
              data);
    // A page that read every row below the watermark resumes there.
    const bool finished = !page.has_more;
    // A full pull is over only when it has brought the whole scope, since the client then drops
    // what it did not bring (protocol.md §4.3). A row a transaction younger than one still open
    // elsewhere committed lies above the watermark: until that one ends, the pull goes on.
    const bool full_pull = start.has_value();  // from "", or continuing one
    // A cursor at the watermark itself came from a page held at this same watermark: nothing
    // below it has ended since, so the answer stands without asking again.
    const bool held_here = *after == FeedPosition{watermark - 1, INT64_MAX};
    if (finished && full_pull && (held_here || held_back(db, device, watermark))) page.has_more = true;
    page.cursor = impl_->epoch + "." +
                  (finished ? std::to_string(watermark - 1) + "." + std::to_string(INT64_MAX)
                            : std::to_string(last.first) + "." + std::to_string(last.second));
    if (page.has_more && start) page.cursor += "~" + std::to_string(start->first) + "." + std::to_string(start->second);
    if (progress.estimate) page.remaining = estimate_remaining(db, device, pull, page, progress.previous, last);
    snapshot.commit();
    return page;
  }

  const std::int64_t newest = std::stoll(impl_->meta("last_version").value_or("0"));
  const auto [base, start_text] = split_full_pull(pull.cursor);
  const auto after = parse_cursor(base, impl_->epoch);
  if (!after || *after > newest) return cursor_invalid();
  auto start = pull.cursor.empty() ? std::optional(FeedPosition{0, newest})
                                   : (start_text.empty() ? std::nullopt : parse_start(start_text, false));
  if (!start_text.empty() && (!start || start->second > newest)) return cursor_invalid();
  if (before_horizon(pull.cursor, {0, *after}, start, {0, impl_->compaction_horizon().second})) return cursor_invalid();
  const auto exits = with_exits ? read_exits(db, device.user_id, {0, *after}, 0, pull.limit) : std::vector<Exit>{};
  auto rows = db.cached(everything ? kEverythingPage : kScopedPage);
  rows->bind(1, *after).bind(3, pull.limit + 1);  // one more than asked: is there more?
  if (!everything) rows->bind(2, device.user_id);
  FeedPosition last{0, *after};
  read_page(*rows, pull.limit, exits, page, [](db::Statement& row) { return FeedPosition{0, row.column_int(6)}; },
            last, data);
  // Nothing in scope lies between the last row sent and the snapshot's newest version, so a
  // finished pull may skip ahead to it and not scan those rows again.
  page.cursor = impl_->epoch + "." + std::to_string(page.has_more ? last.second : newest);
  if (page.has_more && start) page.cursor += "~" + std::to_string(start->second);
  if (progress.estimate) page.remaining = estimate_remaining(db, device, pull, page, progress.previous, last);
  snapshot.commit();
  return page;
}

}  // namespace sync_server
