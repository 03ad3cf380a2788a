// The server store's schema, devices and tokens. Push is in apply.cpp; pull and statistics
// in pull.cpp and stats.cpp.
#include <array>
#include <random>
#include <set>

#include <sqlite3.h>

#include "safer/pg.h"
#include "safer/record.h"
#include "safer/sqlite.h"
#include "safer/text.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/local_time.h"
#include "sync_server/tokens.h"

namespace sync_server {

namespace sqlite = safer::sqlite;

namespace {

// The referral counts of visit_totals and visit_month_totals, from the visits stored (protocol.md
// §7): run by the migrations that add those columns, and again on SQLite for visits that get
// their local day only when the store opens (fill_local_days).
#define BASIS_COUNT(name) \
  " coalesce(sum(CASE WHEN json_extract(r.data, '$.share_basis') = '" name "' THEN 1 ELSE 0 END), 0)"
#define COUNT_REFERRED_VISITS                                                                              \
  "UPDATE visit_totals SET (referred, basis_consent, basis_vital_interests, basis_safeguarding) ="          \
  " (SELECT count(*)," BASIS_COUNT("consent") "," BASIS_COUNT("vital_interests") ","                         \
  BASIS_COUNT("safeguarding") " FROM records r WHERE r.entity = 'visit' AND r.deleted = 0"                   \
  " AND r.local_day = visit_totals.day AND r.ward = visit_totals.ward AND r.status = visit_totals.status"    \
  " AND json_extract(r.data, '$.referrals') <> '[]');\n"                                                     \
  "UPDATE visit_month_totals SET (referred, basis_consent, basis_vital_interests, basis_safeguarding) ="    \
  " (SELECT coalesce(sum(d.referred), 0), coalesce(sum(d.basis_consent), 0),"                               \
  " coalesce(sum(d.basis_vital_interests), 0), coalesce(sum(d.basis_safeguarding), 0) FROM visit_totals d"  \
  " WHERE substr(d.day, 1, 7) = visit_month_totals.month AND d.ward = visit_month_totals.ward"               \
  " AND d.status = visit_month_totals.status);\n"

// commute_totals' message columns, from the sessions stored (protocol.md §7): run by the
// migrations that add them, and again on SQLite with the referral counts above.
#define MESSAGE_GIVEN(name) "json_extract(r.data, '$.messages') LIKE '%\"" name "\"%'"
#define COUNT_MESSAGE(name)                                                                    \
  " coalesce(sum(CASE WHEN " MESSAGE_GIVEN(name) " THEN 1 ELSE 0 END), 0),"                      \
  " coalesce(sum(CASE WHEN " MESSAGE_GIVEN(name) " THEN CAST(json_extract(r.data, '$.cards_distributed') AS INTEGER) ELSE 0 END), 0)"
#define COUNT_COMMUTE_MESSAGES                                                                              \
  "UPDATE commute_totals SET (msg_vehicle_security_sessions, msg_vehicle_security_cards,"                  \
  " msg_home_security_sessions, msg_home_security_cards, msg_garden_tools_sessions, msg_garden_tools_cards," \
  " msg_personal_belongings_sessions, msg_personal_belongings_cards) = (SELECT"                              \
  COUNT_MESSAGE("vehicle_security") "," COUNT_MESSAGE("home_security") "," COUNT_MESSAGE("garden_tools") ","  \
  COUNT_MESSAGE("personal_belongings")                                                                      \
  " FROM records r WHERE r.entity = 'commute_session' AND r.deleted = 0 AND r.local_day = commute_totals.day" \
  " AND json_extract(r.data, '$.station') = commute_totals.station);\n"
// The referrals table (one row per visit and partner, referrals.cpp) from the live visits that
// have their local day: run by SQLite migration 12, and again for visits that get their local
// day only when the store opens (fill_local_days). Rows already there keep their sent state.
#define FILL_REFERRALS                                                                                      \
  "INSERT INTO referrals (visit_id, partner, household_id, local_day, ward, share_basis)"                  \
  " SELECT r.id, j.value, r.household_id, r.local_day, coalesce(r.ward, ''),"                              \
  " coalesce(json_extract(r.data, '$.share_basis'), '') FROM records r, json_each(r.data, '$.referrals') j"  \
  " WHERE r.entity = 'visit' AND r.deleted = 0 AND r.local_day IS NOT NULL AND true"                        \
  " ON CONFLICT (visit_id, partner) DO NOTHING;\n"

// year_groups (the statistics' households by vulnerability for a financial year or all time)
// from household_years and the households' records: run by SQLite migration 20 and PostgreSQL
// migration 17. The group is the household's vulnerabilities as EnumSet bits (elderly 1,
// disability 2, repeat_victim 4, lives_alone 8, other 16; 0 for none, or no live record), found
// in json_extract()'s text of the array as vulnerabilities_in() finds them (stats.cpp).
#define VULNERABILITY_BIT(name, bit) " + CASE WHEN v LIKE '%\"" name "\"%' THEN " bit " ELSE 0 END"
#define FILL_YEAR_GROUPS                                                                                  \
  "INSERT INTO year_groups (year, vulnerability, households, completed)"                                 \
  " SELECT year, 0" VULNERABILITY_BIT("elderly", "1") VULNERABILITY_BIT("disability", "2")                \
  VULNERABILITY_BIT("repeat_victim", "4") VULNERABILITY_BIT("lives_alone", "8") VULNERABILITY_BIT("other", "16") \
  ", count(*), sum(completed) FROM (SELECT y.year, y.completed, json_extract(h.data, '$.vulnerability') AS v"  \
  " FROM household_years y LEFT JOIN records h ON h.entity = 'household' AND h.id = y.household_id) g"     \
  " GROUP BY 1, 2;\n"

constexpr sqlite::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE devices (
  device_id    TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('officer', 'pcso', 'coordinator')),
  token_hash   TEXT NOT NULL UNIQUE,   -- SHA-256 of the token; the token itself is never stored
  revoked      INTEGER NOT NULL DEFAULT 0,
  acked_seq    INTEGER NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
  enrolled_at  INTEGER NOT NULL,
  last_sync_at INTEGER
) WITHOUT ROWID;

-- The winning version of every record; deletes stay as tombstones.
CREATE TABLE records (
  entity       TEXT NOT NULL CHECK (entity IN ('household', 'visit', 'commute_session')),
  id           TEXT NOT NULL,
  hlc          TEXT NOT NULL,
  device_id    TEXT NOT NULL,          -- the device that wrote this version
  user_id      TEXT NOT NULL,          -- its user
  owner        TEXT NOT NULL,          -- the user whose device created the record
  deleted      INTEGER NOT NULL DEFAULT 0,
  data         TEXT,                   -- JSON; NULL for a tombstone
  version      INTEGER NOT NULL UNIQUE,-- position in the change feed, in commit order
  household_id TEXT,                   -- visits: the household visited
  assigned_to  TEXT,                   -- households
  target       INTEGER NOT NULL DEFAULT 0,
  ward         TEXT,                   -- households: ward; visits: the ward counted under
  PRIMARY KEY (entity, id)
) WITHOUT ROWID;
CREATE INDEX visits_by_household ON records (household_id) WHERE entity = 'visit';
CREATE INDEX households_by_assignee ON records (assigned_to) WHERE entity = 'household';
CREATE INDEX records_by_owner ON records (owner, entity);
CREATE INDEX target_households ON records (id) WHERE entity = 'household' AND target = 1 AND deleted = 0;

-- Why a device's change was rejected, to answer a resend with the same rejection and to
-- show it to coordinators. Messages name fields, never personal values.
CREATE TABLE rejections (
  device_id TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  entity    TEXT,
  record_id TEXT,
  code      TEXT NOT NULL,
  message   TEXT NOT NULL,
  field     TEXT NOT NULL DEFAULT '',
  at        INTEGER NOT NULL,
  PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

-- Statistics, maintained with every applied version (protocol.md §7).
CREATE TABLE visit_totals (
  day    TEXT NOT NULL,  -- local date, YYYY-MM-DD
  ward   TEXT NOT NULL,
  status TEXT NOT NULL,
  visits INTEGER NOT NULL,
  crime_prevention_advice INTEGER NOT NULL,
  fire_safety_check INTEGER NOT NULL,
  healthy_lifestyle_advice INTEGER NOT NULL,
  community_involvement_info INTEGER NOT NULL,
  first_aid_training INTEGER NOT NULL,
  follow_up_required INTEGER NOT NULL,
  smoke_detectors_fitted INTEGER NOT NULL,
  PRIMARY KEY (day, ward, status)
) WITHOUT ROWID;

-- Days on which a household had completed visits (for households.visited).
CREATE TABLE household_days (
  household_id TEXT NOT NULL,
  day          TEXT NOT NULL,
  completed    INTEGER NOT NULL,
  PRIMARY KEY (household_id, day)
) WITHOUT ROWID;

CREATE TABLE commute_totals (
  day      TEXT NOT NULL,
  station  TEXT NOT NULL,
  sessions INTEGER NOT NULL,
  cards    INTEGER NOT NULL,
  PRIMARY KEY (day, station)
) WITHOUT ROWID;

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters VALUES ('target_households', 0);
)sql"},
    {2, R"sql(
-- Coordinators' dashboard accounts: scrypt password hashes (see password.h).
CREATE TABLE accounts (
  username      TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- Failed logins, for the lock-out (kept 24 hours).
CREATE TABLE login_failures (
  username TEXT NOT NULL,
  at       INTEGER NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);

-- Dashboard sessions; only a hash of the cookie's value is kept.
CREATE TABLE web_sessions (
  token_hash TEXT PRIMARY KEY,
  username   TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL
) WITHOUT ROWID;

-- Visits' columns for the work lists (kept by apply.cpp; filled here for existing rows).
ALTER TABLE records ADD COLUMN visited_at TEXT;  -- RFC 3339 UTC with milliseconds: sorts as time
ALTER TABLE records ADD COLUMN status TEXT;
ALTER TABLE records ADD COLUMN follow_up INTEGER NOT NULL DEFAULT 0;
-- Visits and sessions: the local date they count on (of visited_at, of started_at), as in the
-- statistics. Filled by apply.cpp, and for older rows by ServerStore::open.
ALTER TABLE records ADD COLUMN local_day TEXT;
UPDATE records SET visited_at = json_extract(data, '$.visited_at'), status = json_extract(data, '$.status'),
                   follow_up = coalesce(json_extract(data, '$.follow_up_required'), 0)
 WHERE entity = 'visit' AND deleted = 0;
CREATE INDEX follow_ups ON records (household_id) WHERE entity = 'visit' AND follow_up = 1 AND deleted = 0;
CREATE INDEX completed_visits ON records (household_id, visited_at)
  WHERE entity = 'visit' AND status = 'completed' AND deleted = 0;
CREATE INDEX records_by_local_day ON records (entity, local_day) WHERE deleted = 0;
)sql"},
    {3, R"sql(
-- Roll-ups that keep /api/v1/stats independent of the number of visits (docs/server.md,
-- "Statistics"). visit_totals by calendar month: a range reads whole months here and only its
-- partial months' days from visit_totals.
CREATE TABLE visit_month_totals (
  month  TEXT NOT NULL,  -- local, YYYY-MM
  ward   TEXT NOT NULL,
  status TEXT NOT NULL,
  visits INTEGER NOT NULL,
  crime_prevention_advice INTEGER NOT NULL,
  fire_safety_check INTEGER NOT NULL,
  healthy_lifestyle_advice INTEGER NOT NULL,
  community_involvement_info INTEGER NOT NULL,
  first_aid_training INTEGER NOT NULL,
  follow_up_required INTEGER NOT NULL,
  smoke_detectors_fitted INTEGER NOT NULL,
  PRIMARY KEY (month, ward, status)
) WITHOUT ROWID;
INSERT INTO visit_month_totals
  SELECT substr(day, 1, 7), ward, status, sum(visits), sum(crime_prevention_advice), sum(fire_safety_check),
         sum(healthy_lifestyle_advice), sum(community_involvement_info), sum(first_aid_training),
         sum(follow_up_required), sum(smoke_detectors_fitted)
    FROM visit_totals GROUP BY 1, 2, 3;

-- Completed visits of each household per financial year (1 April to 31 March, by the year it
-- starts in; 100000, past every year a time can have, is all time), and per year how many live target households had at least one:
-- households.visited for a financial year or all time, without a probe per household.
CREATE TABLE household_years (
  household_id TEXT NOT NULL,
  year         INTEGER NOT NULL,
  completed    INTEGER NOT NULL,
  PRIMARY KEY (household_id, year)
) WITHOUT ROWID;
INSERT INTO household_years
  SELECT household_id, CAST(substr(day, 1, 4) AS INTEGER) - (substr(day, 6, 2) < '04'), sum(completed)
    FROM household_days GROUP BY 1, 2;
INSERT INTO household_years SELECT household_id, 100000, sum(completed) FROM household_days GROUP BY 1;

CREATE TABLE year_visited (
  year    INTEGER PRIMARY KEY,
  targets INTEGER NOT NULL
);
INSERT INTO year_visited
  SELECT y.year, count(*) FROM household_years y
    JOIN records h ON h.entity = 'household' AND h.id = y.household_id AND h.target = 1 AND h.deleted = 0
   GROUP BY y.year;
)sql"},
    {4, R"sql(
-- No query looks records up by owner any more (pulls walk the version index, see pull.cpp),
-- and every record paid for this index on every write.
DROP INDEX IF EXISTS records_by_owner;
)sql"},
    {5, R"sql(
-- The CSV exports read a page at a time in their order, after the last row written
-- (exports.cpp): each page is an index seek, and an export's cost grows with its rows only.
CREATE INDEX IF NOT EXISTS visits_in_export_order ON records (visited_at, id) WHERE entity = 'visit' AND deleted = 0;
CREATE INDEX IF NOT EXISTS sessions_in_export_order ON records (local_day, id) WHERE entity = 'commute_session' AND deleted = 0;
)sql"},
    {6, R"sql(
-- Failed logins lock a (username, address) pair; the per-username count only slows down
-- (accounts.cpp). Rows older than the 15-minute window are purged by time, hence that index.
-- The table holds only the last 15 minutes of failures, so it is made anew (which also lets
-- this migration run again on a store whose version was rewound).
DROP TABLE IF EXISTS login_failures;
CREATE TABLE login_failures (
  username TEXT NOT NULL,
  address  TEXT NOT NULL DEFAULT '',
  at       INTEGER NOT NULL
);
CREATE INDEX login_failures_by_pair ON login_failures (username, address, at);
CREATE INDEX login_failures_by_time ON login_failures (at);
)sql"},
    {7, R"sql(
-- The audit trail (sync_server/audit.h): append-only, each entry chained to the one before by
-- its hash. Objects are ids; detail is short and never holds addresses, notes or search text.
-- Written to run again on a store whose version was rewound (as migration 6).
CREATE TABLE IF NOT EXISTS audit_log (
  seq       INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  actor     TEXT NOT NULL,
  via       TEXT NOT NULL,
  address   TEXT NOT NULL,
  action    TEXT NOT NULL,
  outcome   TEXT NOT NULL,
  household TEXT NOT NULL,
  device    TEXT NOT NULL,
  username  TEXT NOT NULL,
  kind      TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit_log (actor, seq);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit_log (action, seq);
-- The chain's head (the last entry) and anchor (the last entry a purge removed): one row.
CREATE TABLE IF NOT EXISTS audit_head (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq    INTEGER NOT NULL,
  last_hash   TEXT NOT NULL,
  anchor_seq  INTEGER NOT NULL,
  anchor_hash TEXT NOT NULL,
  CHECK (anchor_seq <= last_seq)
);
INSERT OR IGNORE INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
                               0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER IF NOT EXISTS audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_purge_only BEFORE DELETE ON audit_log
  WHEN old.seq > (SELECT anchor_seq FROM audit_head)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: only entries at or below the anchor may be purged'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_in_order BEFORE INSERT ON audit_log
  WHEN new.seq <> (SELECT last_seq FROM audit_head) + 1 OR new.prev_hash <> (SELECT last_hash FROM audit_head)
BEGIN SELECT RAISE(ABORT, 'an audit entry must follow the head'); END;
CREATE TRIGGER IF NOT EXISTS audit_head_forward BEFORE UPDATE ON audit_head
  WHEN new.last_seq < old.last_seq OR new.anchor_seq < old.anchor_seq OR new.id <> old.id
BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END;
CREATE TRIGGER IF NOT EXISTS audit_head_kept BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END;
)sql"},
    {8, R"sql(
-- Households leaving a user's scope (protocol.md §4.4, §4.6): one row per (user, household
-- version that took it away), written in the transaction of that version, at its place in the
-- change feed. Pulls of clients that announced "evict" send them in feed order.
CREATE TABLE exits (
  user_id      TEXT NOT NULL,
  household_id TEXT NOT NULL,
  version      INTEGER NOT NULL,  -- the household's version that took it out of the scope
  PRIMARY KEY (user_id, version, household_id)
) WITHOUT ROWID;
-- A coordinator's "revoke and wipe" (protocol.md §1.2): the device's next upgrade gets 410.
ALTER TABLE devices ADD COLUMN wipe INTEGER NOT NULL DEFAULT 0;
)sql"},
    {9, R"sql(
-- A subject access export (subject_access.cpp) finds a household's audit entries and the
-- rejected changes to its records without reading either table whole.
CREATE INDEX IF NOT EXISTS audit_by_household ON audit_log (household, seq) WHERE household <> '';
CREATE INDEX IF NOT EXISTS rejections_by_record ON rejections (record_id);
)sql"},
    {10, R"sql(
-- The retention purge (sync_server/retention.h): where the change feed stood at each run, so
-- that a later run compacts the tombstones and exits written before the mark at least the
-- tombstone age old; and the tombstones in feed order, so that it finds them without a scan.
CREATE TABLE IF NOT EXISTS feed_marks (
  at      INTEGER NOT NULL,  -- Unix milliseconds
  xid     INTEGER NOT NULL,  -- 0 on SQLite
  version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tombstones_in_feed_order ON records (version) WHERE deleted = 1;
)sql"},
    {11, R"sql(
-- Referrals and the lawful basis for sharing them, in the statistics (protocol.md §7).
ALTER TABLE visit_totals ADD COLUMN referred INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visit_totals ADD COLUMN basis_consent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visit_totals ADD COLUMN basis_vital_interests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visit_totals ADD COLUMN basis_safeguarding INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visit_month_totals ADD COLUMN referred INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visit_month_totals ADD COLUMN basis_consent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visit_month_totals ADD COLUMN basis_vital_interests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visit_month_totals ADD COLUMN basis_safeguarding INTEGER NOT NULL DEFAULT 0;
-- households.reached: households with completed visits in a range, by day or financial year.
CREATE INDEX IF NOT EXISTS household_days_by_day ON household_days (day, household_id);
CREATE INDEX IF NOT EXISTS household_years_by_year ON household_years (year, household_id);
)sql" COUNT_REFERRED_VISITS},
    {12, R"sql(
-- Referrals per partner (referrals.cpp): one row per live visit and partner it refers to, with
-- what the statistics and the "referrals to pass on" list select by, and whether a coordinator
-- marked it as passed on. partner is free text: partners configured on the server fit as they
-- come. Written to run again on a store whose version was rewound (as migration 6).
CREATE TABLE IF NOT EXISTS referrals (
  visit_id     TEXT NOT NULL,
  partner      TEXT NOT NULL,
  household_id TEXT NOT NULL,
  local_day    TEXT NOT NULL,           -- the visit's local date, as in the statistics
  ward         TEXT NOT NULL,           -- the ward the visit counts under
  share_basis  TEXT NOT NULL DEFAULT '',  -- '' when not recorded
  sent_at      INTEGER,                 -- Unix milliseconds; NULL: not passed on yet
  sent_by      TEXT,                    -- the coordinator who marked it
  PRIMARY KEY (visit_id, partner)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS referrals_by_day ON referrals (local_day, partner, sent_at);
CREATE INDEX IF NOT EXISTS referrals_by_partner ON referrals (partner, local_day, visit_id);
)sql" FILL_REFERRALS},
    {13, R"sql(
-- Commute Aware messages per station: the sessions that gave each, and their cards (protocol.md §7).
ALTER TABLE commute_totals ADD COLUMN msg_vehicle_security_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commute_totals ADD COLUMN msg_vehicle_security_cards INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commute_totals ADD COLUMN msg_home_security_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commute_totals ADD COLUMN msg_home_security_cards INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commute_totals ADD COLUMN msg_garden_tools_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commute_totals ADD COLUMN msg_garden_tools_cards INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commute_totals ADD COLUMN msg_personal_belongings_sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commute_totals ADD COLUMN msg_personal_belongings_cards INTEGER NOT NULL DEFAULT 0;
)sql" COUNT_COMMUTE_MESSAGES},
    {14, R"sql(
-- The historic baseline: figures per financial year from before this system (baseline.h).
CREATE TABLE IF NOT EXISTS baseline_years (
  year                   INTEGER PRIMARY KEY,
  households_visited     INTEGER NOT NULL,
  visits                 INTEGER NOT NULL,
  smoke_detectors_fitted INTEGER NOT NULL,
  cards_distributed      INTEGER NOT NULL
);
)sql"},
    {15, R"sql(
-- The officers a coordinator named on the dashboard, who may be given households before they
-- have a device (docs/api.md "Officers"); every enrolled user is known besides.
CREATE TABLE IF NOT EXISTS officers (
  user_id  TEXT PRIMARY KEY,
  added_at INTEGER NOT NULL,  -- Unix milliseconds
  added_by TEXT NOT NULL      -- the coordinator's account
) WITHOUT ROWID;
)sql"},
    {16, R"sql(
-- Accounts managed from the dashboard (account_admin.cpp): a disabled account cannot log in.
ALTER TABLE accounts ADD COLUMN disabled_at INTEGER;  -- Unix milliseconds; NULL: enabled
)sql"},
    {17, R"sql(
-- Answers to the server's questions (protocol.md §5.8) in the statistics: visits by day (or
-- month), ward, question and answer (1..5 for a scale, 0 for the other kinds), kept as
-- visit_totals is. No visit held answers before this migration: nothing to fill.
CREATE TABLE IF NOT EXISTS answer_totals (
  day      TEXT NOT NULL,
  ward     TEXT NOT NULL,
  question TEXT NOT NULL,
  answer   INTEGER NOT NULL,
  visits   INTEGER NOT NULL,
  PRIMARY KEY (day, ward, question, answer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answer_month_totals (
  month    TEXT NOT NULL,
  ward     TEXT NOT NULL,
  question TEXT NOT NULL,
  answer   INTEGER NOT NULL,
  visits   INTEGER NOT NULL,
  PRIMARY KEY (month, ward, question, answer)
) WITHOUT ROWID;
)sql"},
    {18, R"sql(
-- Enrolment codes (enrolment_codes.h): a short code a coordinator issues for one device, user
-- and role, that the tablet's app redeems once, before it expires, for the device's token.
-- Only the code's SHA-256 is kept.
CREATE TABLE IF NOT EXISTS enrolment_codes (
  code_hash  TEXT PRIMARY KEY,
  device_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  role       TEXT NOT NULL,
  issued_by  TEXT NOT NULL,
  issued_at  INTEGER NOT NULL,  -- Unix milliseconds
  expires_at INTEGER NOT NULL,
  used_at    INTEGER            -- NULL until redeemed
) WITHOUT ROWID;
)sql"},
    {19, R"sql(
-- Issue 17: every visit written paid for five secondary indexes on records with keys in no
-- order (the household, the day, the time), each a page of the WAL per visit. Two go.
-- completed_visits: no query was planned with it. records_by_local_day: a range of days finds
-- visits by visited_at (store_impl.h's visited_from_text) and sessions by their local day, with
-- the two export-order indexes below, which now lead with entity so that SQLite prefers them
-- to a walk of the primary key (entity, id) (before, retention and the exports walked it).
DROP INDEX IF EXISTS records_by_local_day;
DROP INDEX IF EXISTS completed_visits;
DROP INDEX IF EXISTS visits_in_export_order;
CREATE INDEX visits_in_export_order ON records (entity, visited_at) WHERE entity = 'visit' AND deleted = 0;
DROP INDEX IF EXISTS sessions_in_export_order;
CREATE INDEX sessions_in_export_order ON records (entity, local_day) WHERE entity = 'commute_session' AND deleted = 0;
)sql"},
    {20, R"sql(
-- Issue 17: the statistics for a financial year (or all time) grouped the households reached by
-- their vulnerabilities with a join of every one of them to its record, on every request.
-- Kept up to date instead, as year_visited is (stats.cpp): per year and group (see
-- FILL_YEAR_GROUPS), the households with completed visits and those visits. Made anew, so
-- that it runs again on a store whose version was rewound.
DROP TABLE IF EXISTS year_groups;
CREATE TABLE year_groups (
  year          INTEGER NOT NULL,  -- as household_years.year
  vulnerability INTEGER NOT NULL,  -- EnumSet bits
  households    INTEGER NOT NULL,
  completed     INTEGER NOT NULL,
  PRIMARY KEY (year, vulnerability)
) WITHOUT ROWID;
)sql" FILL_YEAR_GROUPS},
    {21, R"sql(
-- Issue 17: referrals per partner in the statistics counted the referrals table's rows in the
-- range on every request (40,000 for a year of B4's data, 25 ms). Kept per day and partner
-- instead, by triggers, so that every write of the table counts: the visits' writes, marking
-- as passed on, the fills at migration and at store open. Made anew, as migration 20.
DROP TRIGGER IF EXISTS referral_added;
DROP TRIGGER IF EXISTS referral_removed;
DROP TRIGGER IF EXISTS referral_changed;
DROP TABLE IF EXISTS referral_totals;
CREATE TABLE referral_totals (
  day       TEXT NOT NULL,     -- referrals.local_day
  partner   TEXT NOT NULL,
  referrals INTEGER NOT NULL,
  sent      INTEGER NOT NULL,  -- of those, marked as passed on
  PRIMARY KEY (day, partner)
) WITHOUT ROWID;
INSERT INTO referral_totals SELECT local_day, partner, count(*), count(sent_at) FROM referrals GROUP BY 1, 2;
CREATE TRIGGER referral_added AFTER INSERT ON referrals BEGIN
  INSERT INTO referral_totals VALUES (new.local_day, new.partner, 1, new.sent_at IS NOT NULL)
    ON CONFLICT (day, partner) DO UPDATE SET referrals = referrals + 1, sent = sent + excluded.sent;
END;
CREATE TRIGGER referral_removed AFTER DELETE ON referrals BEGIN
  UPDATE referral_totals SET referrals = referrals - 1, sent = sent - (old.sent_at IS NOT NULL)
   WHERE day = old.local_day AND partner = old.partner;
  DELETE FROM referral_totals WHERE day = old.local_day AND partner = old.partner AND referrals = 0;
END;
CREATE TRIGGER referral_changed AFTER UPDATE OF local_day, partner, sent_at ON referrals
  WHEN old.local_day IS NOT new.local_day OR old.partner IS NOT new.partner
    OR (old.sent_at IS NULL) <> (new.sent_at IS NULL) BEGIN
  UPDATE referral_totals SET referrals = referrals - 1, sent = sent - (old.sent_at IS NOT NULL)
   WHERE day = old.local_day AND partner = old.partner;
  DELETE FROM referral_totals WHERE day = old.local_day AND partner = old.partner AND referrals = 0;
  INSERT INTO referral_totals VALUES (new.local_day, new.partner, 1, new.sent_at IS NOT NULL)
    ON CONFLICT (day, partner) DO UPDATE SET referrals = referrals + 1, sent = sent + excluded.sent;
END;
)sql"},
};

// The same schema on PostgreSQL, as it stands after SQLite's migrations above; later changes
// get a migration on each side. Differences: `records.version` comes from a sequence and each
// row also keeps the id of the transaction that wrote it (`xid`), both set by a trigger
// whenever a version is written — pulls walk the feed in (xid, version) order under the
// commit-safe watermark (pull.cpp, docs/scale-out.md). Text that is compared in order (days,
// months, HLCs, times) is in the "C" collation, bytewise as in SQLite. json_extract() and
// fold_case() are SQL functions here, as SQLite's built-in and the store's own are there.
constexpr safer::pg::Migration kPgMigrations[] = {
    {1, R"sql(
CREATE FUNCTION json_extract(document text, path text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT document::jsonb #>> string_to_array(substr(path, 3), '.') $$;
CREATE FUNCTION fold_case(value text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT lower(value) $$;

CREATE TABLE meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE devices (
  device_id    text PRIMARY KEY,
  user_id      text NOT NULL,
  role         text NOT NULL CHECK (role IN ('officer', 'pcso', 'coordinator')),
  token_hash   text NOT NULL UNIQUE,
  revoked      integer NOT NULL DEFAULT 0,
  acked_seq    bigint NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
  enrolled_at  bigint NOT NULL,
  last_sync_at bigint
);

CREATE SEQUENCE records_version;
CREATE TABLE records (
  entity       text NOT NULL CHECK (entity IN ('household', 'visit', 'commute_session')),
  id           text NOT NULL,
  hlc          text COLLATE "C" NOT NULL,
  device_id    text COLLATE "C" NOT NULL,
  user_id      text NOT NULL,
  owner        text NOT NULL,
  deleted      integer NOT NULL DEFAULT 0,
  data         text,
  version      bigint NOT NULL UNIQUE,
  xid          xid8 NOT NULL,
  household_id text,
  assigned_to  text,
  target       integer NOT NULL DEFAULT 0,
  ward         text COLLATE "C",
  visited_at   text COLLATE "C",
  status       text,
  follow_up    integer NOT NULL DEFAULT 0,
  local_day    text COLLATE "C",
  PRIMARY KEY (entity, id)
);
CREATE FUNCTION records_feed_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := nextval('records_version');
  NEW.xid := pg_current_xact_id();
  RETURN NEW;
END $$;
CREATE TRIGGER records_feed_position BEFORE INSERT OR UPDATE OF version ON records
  FOR EACH ROW EXECUTE FUNCTION records_feed_position();
CREATE INDEX records_feed ON records (xid, version);
CREATE INDEX visits_by_household ON records (household_id) WHERE entity = 'visit';
CREATE INDEX households_by_assignee ON records (assigned_to) WHERE entity = 'household';
CREATE INDEX target_households ON records (id) WHERE entity = 'household' AND target = 1 AND deleted = 0;
CREATE INDEX follow_ups ON records (household_id) WHERE entity = 'visit' AND follow_up = 1 AND deleted = 0;
CREATE INDEX completed_visits ON records (household_id, visited_at)
  WHERE entity = 'visit' AND status = 'completed' AND deleted = 0;
CREATE INDEX records_by_local_day ON records (entity, local_day) WHERE deleted = 0;

CREATE TABLE rejections (
  device_id text NOT NULL,
  seq       bigint NOT NULL,
  entity    text,
  record_id text,
  code      text NOT NULL,
  message   text NOT NULL,
  field     text NOT NULL DEFAULT '',
  at        bigint NOT NULL,
  PRIMARY KEY (device_id, seq)
);

CREATE TABLE visit_totals (
  day    text COLLATE "C" NOT NULL,
  ward   text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  visits bigint NOT NULL,
  crime_prevention_advice bigint NOT NULL,
  fire_safety_check bigint NOT NULL,
  healthy_lifestyle_advice bigint NOT NULL,
  community_involvement_info bigint NOT NULL,
  first_aid_training bigint NOT NULL,
  follow_up_required bigint NOT NULL,
  smoke_detectors_fitted bigint NOT NULL,
  PRIMARY KEY (day, ward, status)
);
CREATE TABLE visit_month_totals (LIKE visit_totals);
ALTER TABLE visit_month_totals RENAME COLUMN day TO month;
ALTER TABLE visit_month_totals ADD PRIMARY KEY (month, ward, status);

CREATE TABLE household_days (
  household_id text NOT NULL,
  day          text COLLATE "C" NOT NULL,
  completed    bigint NOT NULL,
  PRIMARY KEY (household_id, day)
);

CREATE TABLE commute_totals (
  day      text COLLATE "C" NOT NULL,
  station  text COLLATE "C" NOT NULL,
  sessions bigint NOT NULL,
  cards    bigint NOT NULL,
  PRIMARY KEY (day, station)
);

CREATE TABLE counters (
  name  text PRIMARY KEY,
  value bigint NOT NULL
);
-- feed_commits: transactions that wrote records (the dashboard's live "version").
INSERT INTO counters VALUES ('target_households', 0), ('feed_commits', 0);

CREATE TABLE household_years (
  household_id text NOT NULL,
  year         integer NOT NULL,
  completed    bigint NOT NULL,
  PRIMARY KEY (household_id, year)
);
CREATE TABLE year_visited (
  year    integer PRIMARY KEY,
  targets bigint NOT NULL
);

CREATE TABLE accounts (
  username      text PRIMARY KEY,
  password_hash text NOT NULL,
  created_at    bigint NOT NULL
);
CREATE TABLE login_failures (
  username text NOT NULL,
  at       bigint NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);
CREATE TABLE web_sessions (
  token_hash text PRIMARY KEY,
  username   text NOT NULL,
  csrf_token text NOT NULL,
  created_at bigint NOT NULL,
  last_seen  bigint NOT NULL
);
)sql"},
    {2, R"sql(
-- As SQLite's migration 5: the CSV exports' page order.
CREATE INDEX IF NOT EXISTS visits_in_export_order ON records (visited_at, id) WHERE entity = 'visit' AND deleted = 0;
CREATE INDEX IF NOT EXISTS sessions_in_export_order ON records (local_day, id) WHERE entity = 'commute_session' AND deleted = 0;
)sql"},
    {3, R"sql(
-- As SQLite's migration 6: failures by (username, address), purged by time.
DROP TABLE IF EXISTS login_failures;
CREATE TABLE login_failures (
  username text NOT NULL,
  address  text NOT NULL DEFAULT '',
  at       bigint NOT NULL
);
CREATE INDEX login_failures_by_pair ON login_failures (username, address, at);
CREATE INDEX login_failures_by_time ON login_failures (at);
)sql"},
    {4, R"sql(
-- As SQLite's migration 7: the audit trail, its head, and the triggers that keep it append-only.
CREATE TABLE audit_log (
  seq       bigint PRIMARY KEY,
  at        bigint NOT NULL,
  actor     text NOT NULL,
  via       text NOT NULL,
  address   text NOT NULL,
  action    text NOT NULL,
  outcome   text NOT NULL,
  household text NOT NULL,
  device    text NOT NULL,
  username  text NOT NULL,
  kind      text NOT NULL,
  detail    text NOT NULL,
  prev_hash text NOT NULL,
  hash      text NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE INDEX audit_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_by_action ON audit_log (action, seq);
CREATE TABLE audit_head (
  id          integer PRIMARY KEY CHECK (id = 1),
  last_seq    bigint NOT NULL,
  last_hash   text NOT NULL,
  anchor_seq  bigint NOT NULL,
  anchor_hash text NOT NULL,
  CHECK (anchor_seq <= last_seq)
);
INSERT INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
                               0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT 1 FROM audit_head WHERE last_seq + 1 = NEW.seq AND last_hash = NEW.prev_hash) THEN
      RAISE EXCEPTION 'an audit entry must follow the head';
    END IF;
    RETURN NEW;
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.seq > (SELECT anchor_seq FROM audit_head) THEN
      RAISE EXCEPTION 'the audit log is append-only: only entries at or below the anchor may be purged';
    END IF;
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE FUNCTION audit_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail cannot be truncated';
END $$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'the audit head cannot be deleted';
  END IF;
  IF NEW.last_seq < OLD.last_seq OR NEW.anchor_seq < OLD.anchor_seq OR NEW.id <> OLD.id THEN
    RAISE EXCEPTION 'the audit head only moves forward';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
)sql"},
    {5, R"sql(
-- As SQLite's migration 8, with each exit's place in the feed as (xid, version) like records'.
CREATE TABLE exits (
  user_id      text NOT NULL,
  household_id text NOT NULL,
  version      bigint NOT NULL,
  xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (user_id, xid, version, household_id)
);
ALTER TABLE devices ADD COLUMN wipe integer NOT NULL DEFAULT 0;
)sql"},
    {6, R"sql(
-- As SQLite's migration 9.
CREATE INDEX IF NOT EXISTS audit_by_household ON audit_log (household, seq) WHERE household <> '';
CREATE INDEX IF NOT EXISTS rejections_by_record ON rejections (record_id);
)sql"},
    {7, R"sql(
-- As SQLite's migration 10: the retention purge's feed marks, and tombstones in feed order.
CREATE TABLE feed_marks (
  at      bigint NOT NULL,
  xid     bigint NOT NULL,
  version bigint NOT NULL
);
CREATE INDEX tombstones_in_feed_order ON records (xid, version) WHERE deleted = 1;
)sql"},
    {8, R"sql(
-- As SQLite's migration 11: referrals and their lawful basis for sharing in the statistics.
ALTER TABLE visit_totals ADD COLUMN referred bigint NOT NULL DEFAULT 0,
  ADD COLUMN basis_consent bigint NOT NULL DEFAULT 0, ADD COLUMN basis_vital_interests bigint NOT NULL DEFAULT 0,
  ADD COLUMN basis_safeguarding bigint NOT NULL DEFAULT 0;
ALTER TABLE visit_month_totals ADD COLUMN referred bigint NOT NULL DEFAULT 0,
  ADD COLUMN basis_consent bigint NOT NULL DEFAULT 0, ADD COLUMN basis_vital_interests bigint NOT NULL DEFAULT 0,
  ADD COLUMN basis_safeguarding bigint NOT NULL DEFAULT 0;
CREATE INDEX household_days_by_day ON household_days (day, household_id);
CREATE INDEX household_years_by_year ON household_years (year, household_id);
)sql" COUNT_REFERRED_VISITS},
    {9, R"sql(
-- As SQLite's migration 12: referrals per partner, filled from the stored visits.
CREATE TABLE referrals (
  visit_id     text NOT NULL,
  partner      text COLLATE "C" NOT NULL,
  household_id text NOT NULL,
  local_day    text COLLATE "C" NOT NULL,
  ward         text COLLATE "C" NOT NULL,
  share_basis  text NOT NULL DEFAULT '',
  sent_at      bigint,
  sent_by      text,
  PRIMARY KEY (visit_id, partner)
);
CREATE INDEX referrals_by_day ON referrals (local_day, partner, sent_at);
CREATE INDEX referrals_by_partner ON referrals (partner, local_day, visit_id);
INSERT INTO referrals (visit_id, partner, household_id, local_day, ward, share_basis)
  SELECT r.id, j.partner, r.household_id, r.local_day, coalesce(r.ward, ''), coalesce(r.data::jsonb ->> 'share_basis', '')
    FROM records r CROSS JOIN LATERAL jsonb_array_elements_text(r.data::jsonb -> 'referrals') AS j(partner)
   WHERE r.entity = 'visit' AND r.deleted = 0 AND r.local_day IS NOT NULL
  ON CONFLICT (visit_id, partner) DO NOTHING;
)sql"},
    {10, R"sql(
-- As SQLite's migration 13: Commute Aware messages per station.
ALTER TABLE commute_totals ADD COLUMN msg_vehicle_security_sessions bigint NOT NULL DEFAULT 0,
  ADD COLUMN msg_vehicle_security_cards bigint NOT NULL DEFAULT 0,
  ADD COLUMN msg_home_security_sessions bigint NOT NULL DEFAULT 0,
  ADD COLUMN msg_home_security_cards bigint NOT NULL DEFAULT 0,
  ADD COLUMN msg_garden_tools_sessions bigint NOT NULL DEFAULT 0,
  ADD COLUMN msg_garden_tools_cards bigint NOT NULL DEFAULT 0,
  ADD COLUMN msg_personal_belongings_sessions bigint NOT NULL DEFAULT 0,
  ADD COLUMN msg_personal_belongings_cards bigint NOT NULL DEFAULT 0;
)sql" COUNT_COMMUTE_MESSAGES},
    {11, R"sql(
-- As SQLite's migration 14: the historic baseline.
CREATE TABLE baseline_years (
  year                   integer PRIMARY KEY,
  households_visited     bigint NOT NULL,
  visits                 bigint NOT NULL,
  smoke_detectors_fitted bigint NOT NULL,
  cards_distributed      bigint NOT NULL
);
)sql"},
    {12, R"sql(
-- As SQLite's migration 15: the officers named on the dashboard.
CREATE TABLE officers (
  user_id  text COLLATE "C" PRIMARY KEY,
  added_at bigint NOT NULL,
  added_by text NOT NULL
);
)sql"},
    {13, R"sql(
-- As SQLite's migration 16: a disabled account cannot log in.
ALTER TABLE accounts ADD COLUMN disabled_at bigint;
)sql"},
    {14, R"sql(
-- As SQLite's migration 17: answers to the server's questions in the statistics. IF NOT EXISTS:
-- a store rewound past it (the migration tests) runs it again.
CREATE TABLE IF NOT EXISTS answer_totals (
  day      text COLLATE "C" NOT NULL,
  ward     text COLLATE "C" NOT NULL,
  question text COLLATE "C" NOT NULL,
  answer   bigint NOT NULL,
  visits   bigint NOT NULL,
  PRIMARY KEY (day, ward, question, answer)
);
CREATE TABLE IF NOT EXISTS answer_month_totals (
  month    text COLLATE "C" NOT NULL,
  ward     text COLLATE "C" NOT NULL,
  question text COLLATE "C" NOT NULL,
  answer   bigint NOT NULL,
  visits   bigint NOT NULL,
  PRIMARY KEY (month, ward, question, answer)
);
)sql"},
    {15, R"sql(
-- As SQLite's migration 18: enrolment codes.
CREATE TABLE IF NOT EXISTS enrolment_codes (
  code_hash  text COLLATE "C" PRIMARY KEY,
  device_id  text NOT NULL,
  user_id    text NOT NULL,
  role       text NOT NULL,
  issued_by  text NOT NULL,
  issued_at  bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at    bigint
);
)sql"},
    {16, R"sql(
-- As SQLite's migration 19 (issue 17): two of the indexes every visit write paid for go; a
-- range of days finds visits through visits_in_export_order (visited_at, id).
DROP INDEX IF EXISTS records_by_local_day;
DROP INDEX IF EXISTS completed_visits;
)sql"},
    {17, R"sql(
-- As SQLite's migration 20: households and completed visits per year and group of vulnerabilities.
DROP TABLE IF EXISTS year_groups;
CREATE TABLE year_groups (
  year          bigint NOT NULL,
  vulnerability bigint NOT NULL,
  households    bigint NOT NULL,
  completed     bigint NOT NULL,
  PRIMARY KEY (year, vulnerability)
);
)sql" FILL_YEAR_GROUPS},
    {18, R"sql(
-- As SQLite's migration 21: referrals and those passed on per day and partner, kept by a
-- trigger on referrals.
DROP TRIGGER IF EXISTS referral_counted ON referrals;
DROP TRIGGER IF EXISTS referral_changed ON referrals;
DROP TABLE IF EXISTS referral_totals;
CREATE TABLE referral_totals (
  day       text COLLATE "C" NOT NULL,
  partner   text COLLATE "C" NOT NULL,
  referrals bigint NOT NULL,
  sent      bigint NOT NULL,
  PRIMARY KEY (day, partner)
);
INSERT INTO referral_totals SELECT local_day, partner, count(*), count(sent_at) FROM referrals GROUP BY 1, 2;
CREATE OR REPLACE FUNCTION count_referral() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE referral_totals SET referrals = referrals - 1, sent = sent - (OLD.sent_at IS NOT NULL)::int
     WHERE day = OLD.local_day AND partner = OLD.partner;
    DELETE FROM referral_totals WHERE day = OLD.local_day AND partner = OLD.partner AND referrals = 0;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO referral_totals AS t VALUES (NEW.local_day, NEW.partner, 1, (NEW.sent_at IS NOT NULL)::int)
      ON CONFLICT (day, partner) DO UPDATE SET referrals = t.referrals + 1, sent = t.sent + excluded.sent;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER referral_counted AFTER INSERT OR DELETE ON referrals FOR EACH ROW EXECUTE FUNCTION count_referral();
CREATE TRIGGER referral_changed AFTER UPDATE OF local_day, partner, sent_at ON referrals FOR EACH ROW
  WHEN (OLD.local_day IS DISTINCT FROM NEW.local_day OR OLD.partner IS DISTINCT FROM NEW.partner
        OR (OLD.sent_at IS NULL) <> (NEW.sent_at IS NULL))
  EXECUTE FUNCTION count_referral();
)sql"},
};

std::string random_epoch() {
  std::random_device device;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string epoch;
  for (int i = 0; i < 12; ++i) epoch.push_back(kHex[device() & 0x0f]);
  return epoch;
}


std::optional<std::string> check_list(const std::vector<std::string>& names, const char* what) {
  if (names.empty()) return std::string("the list of ") + what + " must not be empty";
  std::set<std::string> seen;
  for (const auto& name : names) {
    if (!safer::has_visible_text(name) || name.find_first_of("\r\n") != std::string::npos || !safer::is_valid_utf8(name)) {
      return std::string("each of the ") + what + " must be one line of UTF-8 text";
    }
    if (!seen.insert(name).second) return std::string("\"") + name + "\" appears twice in the " + what;
  }
  return std::nullopt;
}

DeviceRecord read_device(const db::Statement& row) {
  DeviceRecord device;
  device.identity.device_id = row.column_text(0);
  device.identity.user_id = row.column_text(1);
  device.identity.role = safer::enum_from_string<safer::Role>(row.column_text(2)).value_or(safer::Role::officer);
  device.revoked = row.column_int(3) != 0;
  device.acked_seq = row.column_int(4);
  if (!row.column_is_null(5)) device.last_sync_at = row.column_int(5);
  device.credential = row.column_text(6);
  return device;
}


}  // namespace

// Rows written before local_day existed get it now, with this store's time zone.
void ServerStore::Impl::fill_local_days() {
  std::vector<std::pair<std::string, std::string>> rows;  // id, local day
  auto missing = db.cached(
      "SELECT entity, id, coalesce(visited_at, json_extract(data, '$.started_at')) FROM records"
      " WHERE entity IN ('visit', 'commute_session') AND deleted = 0 AND local_day IS NULL");
  std::vector<std::array<std::string, 3>> found;
  while (missing->step()) found.push_back({missing->column_text(0), missing->column_text(1), missing->column_text(2)});
  for (const auto& [entity, id, time] : found) {
    const auto instant = safer::parse_rfc3339(time);
    if (!instant) continue;
    db.cached("UPDATE records SET local_day = ? WHERE entity = ? AND id = ?")
        ->bind(1, safer::format_iso_date(options.local_date(*instant)))
        .bind(2, entity)
        .bind(3, id)
        .run();
  }
  if (!found.empty()) db.exec(COUNT_REFERRED_VISITS FILL_REFERRALS COUNT_COMMUTE_MESSAGES);
}

std::optional<std::string> ServerStore::Impl::meta(const char* key) {
  auto statement = db.cached("SELECT value FROM meta WHERE key = ?");
  statement->bind(1, key);
  return statement->step() ? std::optional(statement->column_text(0)) : std::nullopt;
}

// PostgreSQL cursors hold transaction ids, which mean something only in the cluster, timeline
// and database that gave them: after a restore (pg_restore into a new database, a point-in-time
// recovery, a promoted standby, pg_upgrade) transaction ids run again over ones already in
// tablets' cursors, and such a cursor could skip what the restored store commits. So the store
// remembers where its transaction ids come from, and takes a new epoch — every cursor
// cursor_invalid, every tablet pulls once from the start — when that changes; the records
// take new places in the feed.
void ServerStore::Impl::renew_epoch_after_restore() {
  auto here = db.cached(
      "SELECT (SELECT system_identifier FROM pg_control_system())::text || '/'"
      " || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) || '/'"
      " || (SELECT oid FROM pg_database WHERE datname = current_database())::text");
  here->step();
  const std::string identity = here->column_text(0);
  // Locked: servers starting together after a restore take one new epoch, not one each.
  auto stored = db.cached("SELECT value FROM meta WHERE key = 'xid_source' FOR UPDATE");
  const auto known = stored->step() ? std::optional(stored->column_text(0)) : std::nullopt;
  if (known == identity) return;
  if (known) {
    set_meta("epoch", random_epoch());
    // The restored rows keep the transaction ids of the old cluster, which may lie ahead of
    // this one's: the pull watermark would hide them until it got there. Every row takes a
    // new place in the feed from this transaction (the trigger sets version and xid).
    db.exec("UPDATE records SET version = 0");
    // Exits matter only to cursors, which the new epoch refuses; full pulls need none.
    db.exec("DELETE FROM exits");
  }
  set_meta("xid_source", identity);
}

std::int64_t ServerStore::Impl::feed_version() {
  if (!db.postgresql()) return std::stoll(meta("last_version").value_or("0"));
  auto statement = db.cached("SELECT value FROM counters WHERE name = 'feed_commits'");
  return statement->step() ? statement->column_int(0) : 0;
}

void ServerStore::Impl::set_meta(const char* key, const std::string& value) {
  db.cached("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      ->bind(1, key)
      .bind(2, value)
      .run();
}

// The columns of `records` a StoredRow holds, as read_stored_row() reads them.
#define STORED_ROW_COLUMNS "hlc, device_id, owner, deleted, data, household_id, assigned_to, target, ward"

namespace {

// A StoredRow from STORED_ROW_COLUMNS, the first at `first`.
StoredRow read_stored_row(const db::Statement& statement, int first) {
  StoredRow row;
  row.hlc = safer::Hlc::parse(statement.column_text(first)).value_or(safer::Hlc{});
  row.device_id = statement.column_text(first + 1);
  row.owner = statement.column_text(first + 2);
  row.deleted = statement.column_int(first + 3) != 0;
  row.data = statement.column_text(first + 4);
  row.household_id = statement.column_text(first + 5);
  row.assigned_to = statement.column_optional_text(first + 6);
  row.target = statement.column_int(first + 7) != 0;
  row.ward = statement.column_text(first + 8);
  return row;
}

}  // namespace

// From write_record()'s cells.
StoredRow ServerStore::Impl::RecordWrite::stored_row() const {
  const auto text = [this](std::size_t column) {
    const auto* value = std::get_if<std::string>(&cells[column]);
    return value != nullptr ? *value : std::string();
  };
  StoredRow row;
  row.hlc = safer::Hlc::parse(text(2)).value_or(safer::Hlc{});
  row.device_id = text(3);
  row.owner = text(5);
  row.deleted = std::get<std::int64_t>(cells[6]) != 0;
  row.data = text(7);
  row.household_id = text(9);
  if (std::holds_alternative<std::string>(cells[10])) row.assigned_to = text(10);
  row.target = std::get<std::int64_t>(cells[11]) != 0;
  row.ward = text(12);
  return row;
}

std::optional<StoredRow> ServerStore::Impl::find_row(safer::Entity entity, const std::string& id, RowLock lock) {
  if (const auto pending = pending_records.find({entity, id}); pending != pending_records.end()) {
    return pending->second.stored_row();  // this push's, not yet written (its own: no lock to take)
  }
  if (lock == RowLock::update && !prefetched.empty()) {
    if (auto taken = prefetched.extract({entity, id})) return std::move(taken.mapped());
  }
  // On PostgreSQL the row stays locked until the group commits: another server's write of
  // the same record waits, then compares with what this one wrote (see apply.cpp).
  auto statement = lock == RowLock::update
                       ? db.cached("SELECT " STORED_ROW_COLUMNS " FROM records WHERE entity = ? AND id = ? FOR UPDATE")
                       : db.cached("SELECT " STORED_ROW_COLUMNS " FROM records WHERE entity = ? AND id = ? FOR SHARE");
  statement->bind(1, safer::to_string(entity)).bind(2, id);
  if (!statement->step()) return std::nullopt;
  return read_stored_row(*statement, 0);
}

void ServerStore::Impl::prefetch_rows(const safer::ReceivedPush& push, std::int64_t acked) {
  prefetched.clear();
  if (!db.postgresql()) return;
  std::set<std::pair<safer::Entity, std::string>> records;
  std::set<std::string> households;
  for (const auto& received : push.changes) {
    if (received.seq <= acked || !received.change) continue;
    const auto& change = *received.change;
    records.emplace(change.entity, change.id);
    const auto* visit = change.data ? std::get_if<safer::Visit>(&*change.data) : nullptr;
    if (visit != nullptr && !households_seen.contains(visit->household_id)) households.insert(visit->household_id);
  }
  if (records.empty()) return;
  // Locked in key order, as another server's group locks them (a deadlock is less likely).
  db::ArrayLiteral entities, ids;
  for (const auto& key : records) {
    entities.add(safer::to_string(key.first));
    ids.add(key.second);
    prefetched.emplace(key, std::nullopt);  // none stored, unless read below
  }
  auto rows = db.cached("SELECT entity, id, " STORED_ROW_COLUMNS " FROM records WHERE (entity, id) IN"
                        " (SELECT * FROM unnest(?1::text[], ?2::text[])) ORDER BY entity, id FOR UPDATE");
  rows->bind(1, entities.text()).bind(2, ids.text());
  while (rows->step()) {
    const auto entity = safer::enum_from_string<safer::Entity>(rows->column_text(0));
    if (entity) prefetched[{*entity, rows->column_text(1)}] = read_stored_row(*rows, 2);
  }
  if (households.empty()) return;
  db::ArrayLiteral household_ids;
  for (const auto& id : households) {
    household_ids.add(id);
    households_seen.emplace(id, std::nullopt);
  }
  auto found = db.cached("SELECT id, " STORED_ROW_COLUMNS " FROM records WHERE entity = 'household'"
                         " AND id = ANY(?1::text[]) ORDER BY id FOR SHARE");
  found->bind(1, household_ids.text());
  while (found->step()) households_seen[found->column_text(0)] = read_stored_row(*found, 1);
}

const std::optional<StoredRow>& ServerStore::Impl::find_household(const std::string& id) {
  if (const auto seen = households_seen.find(id); seen != households_seen.end()) return seen->second;
  // Shared: visits on several servers to one household do not wait for each other, but a
  // change of the household itself (its ward, its assignee) waits for them, and they for it.
  return households_seen.emplace(id, find_row(safer::Entity::household, id, RowLock::share)).first->second;
}

ServerStore::ServerStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerStore::~ServerStore() = default;

Result<std::unique_ptr<ServerStore>> ServerStore::open(const std::string& location, StoreOptions options) {
  const bool postgresql = db::Database::is_postgresql_url(location);
  // A URL may carry a password: errors name the kind of database, not the URL.
  const std::string where = postgresql ? std::string("the PostgreSQL database") : "the database at " + location;
  try {
    auto impl = std::make_unique<Impl>(db::Database::open(location));
    if (!options.wall_clock) options.wall_clock = safer::now_unix_millis;
    if (!options.local_date) options.local_date = local_date;
    impl->options = std::move(options);
    if (postgresql) {
      safer::pg::migrate(*impl->db.pg(), kPgMigrations, std::size(kPgMigrations));
    } else {
      // WAL: readers never wait for the writer. synchronous=FULL: a commit is on disk (WAL
      // fsynced) before commit returns, so an acknowledged change survives a power cut.
      impl->db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
      impl->db.sqlite()->create_text_function("fold_case", safer::fold_case);
      if (auto migrated = sqlite::migrate(*impl->db.sqlite(), kMigrations, std::size(kMigrations)); !migrated) {
        return migrated.error();
      }
    }
    db::Transaction transaction(impl->db);
    if (postgresql) impl->renew_epoch_after_restore();
    // Servers starting together on one new database agree on the first epoch written.
    impl->db.cached("INSERT INTO meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO NOTHING")
        ->bind(1, random_epoch())
        .run();
    impl->epoch = impl->meta("epoch").value_or("");
    if (!postgresql) impl->fill_local_days();
    if (auto wards = impl->meta("wards")) impl->options.lists.wards = safer::split_lines(*wards);
    if (auto stations = impl->meta("stations")) impl->options.lists.stations = safer::split_lines(*stations);
    impl->load_questions();
    transaction.commit();
    return std::unique_ptr<ServerStore>(new ServerStore(std::move(impl)));
  } catch (const db::Failure& failure) {
    Error error = failure.error();
    error.message = "cannot open " + where + ": " + failure.what();
    return error;
  } catch (const safer::sqlite::Failure& failure) {
    Error error = sqlite::to_error(failure);
    error.message = "cannot open " + where + ": " + failure.what();
    return error;
  } catch (const safer::pg::Failure& failure) {
    return Error{"storage", "cannot open " + where + ": " + failure.what(), "db"};
  }
}

const StoreOptions& ServerStore::options() const { return impl_->options; }

void ServerStore::tune_writer(const WriterTuning& tuning) {
  auto* sqlite = impl_->db.sqlite();
  if (sqlite == nullptr) return;
  sqlite->exec("PRAGMA cache_size = " + std::to_string(-std::int64_t{tuning.cache_mib} * 1024));
  if (tuning.background_checkpoint && !impl_->checkpointer) {
    impl_->checkpointer = std::make_unique<WalCheckpointer>(sqlite->handle(), sqlite3_db_filename(sqlite->handle(), "main"),
                                                            tuning.checkpoint_start_pages, tuning.checkpoint_limit_pages);
  }
}

std::pair<std::uint64_t, std::uint64_t> ServerStore::checkpoints() const {
  if (!impl_->checkpointer) return {0, 0};
  const auto counts = impl_->checkpointer->counts();
  return {counts.background, counts.on_writer};
}

Status ServerStore::ready() {
  const bool postgresql = impl_->db.postgresql();
  const int expected = postgresql ? std::end(kPgMigrations)[-1].number : std::end(kMigrations)[-1].number;
  std::int64_t version = 0;
  try {
    auto read = impl_->db.cached(postgresql ? "SELECT coalesce(max(number), 0) FROM schema_version"
                                            : "SELECT user_version FROM pragma_user_version");
    if (read->step()) version = read->column_int(0);
    read->reset();
  } catch (const std::exception&) {
    return Error{"not_ready", "the database cannot be read", ""};
  }
  if (version != expected) {
    return Error{"not_ready", "the database's schema is at version " + std::to_string(version) + ", not the " +
                                  std::to_string(expected) + " this server works with",
                 ""};
  }
  return {};
}

Status ServerStore::set_reference_lists(const safer::ReferenceLists& lists, const Actor& by) {
  for (const auto& problem : {check_list(lists.wards, "wards"), check_list(lists.stations, "stations")}) {
    if (problem) return Error{"invalid", *problem, ""};
  }
  try {
    db::Transaction transaction(impl_->db);
    impl_->set_meta("wards", safer::join_lines(lists.wards));
    impl_->set_meta("stations", safer::join_lines(lists.stations));
    AuditEntry entry{by, kAuditListsChange};
    entry.detail = "wards=" + std::to_string(lists.wards.size()) + " stations=" + std::to_string(lists.stations.size());
    impl_->append_audit(entry);
    transaction.commit();
    // The wards and stations only: the questions are set_questions()'s.
    impl_->options.lists.wards = lists.wards;
    impl_->options.lists.stations = lists.stations;
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

Result<std::string> ServerStore::enroll(const std::string& device_id, const std::string& user_id, safer::Role role,
                                        const Actor& by) {
  if (!safer::is_valid_user_id(device_id)) {
    return Error{"invalid", "device id must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "device"};
  }
  if (!safer::is_valid_user_id(user_id)) {
    return Error{"invalid", "user id must be 1 to 64 letters, digits, '.', '_', '@' or '-'", "user"};
  }
  try {
    db::Transaction transaction(impl_->db);
    auto token = impl_->enroll_device(DeviceIdentity{device_id, user_id, role}, by, "");
    transaction.commit();
    return token;
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

std::string ServerStore::Impl::enroll_device(const DeviceIdentity& device, const Actor& by, const std::string& detail) {
  const std::string token = new_token();
  db.cached("INSERT INTO devices (device_id, user_id, role, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)"
            " ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id, role = excluded.role,"
            " token_hash = excluded.token_hash, revoked = 0, wipe = 0, enrolled_at = excluded.enrolled_at")
      ->bind(1, device.device_id)
      .bind(2, device.user_id)
      .bind(3, safer::to_string(device.role))
      .bind(4, token_hash(token))
      .bind(5, options.wall_clock())
      .run();
  AuditEntry entry{by, kAuditEnroll};
  entry.device = device.device_id;
  entry.username = device.user_id;
  entry.detail = "role=" + std::string(safer::to_string(device.role)) + detail;
  append_audit(entry);
  return token;
}

Status ServerStore::revoke(const std::string& device_id, Wipe wipe, const Actor& by) {
  try {
    db::Transaction transaction(impl_->db);
    // A wipe order stays until the device is enrolled again; a plain revoke does not lift it.
    impl_->db.cached("UPDATE devices SET revoked = 1, wipe = CASE WHEN ?1 = 1 THEN 1 ELSE wipe END WHERE device_id = ?2")
        ->bind(1, wipe == Wipe::yes ? 1 : 0)
        .bind(2, device_id)
        .run();
    if (impl_->db.changes() == 0) return Error{"not_found", "no device " + device_id + " is enrolled", "device"};
    AuditEntry entry{by, wipe == Wipe::yes ? kAuditRevokeWipe : kAuditRevoke};
    entry.device = device_id;
    impl_->append_audit(entry);
    transaction.commit();
    return {};
  } catch (const db::Failure& failure) {
    return failure.error();
  }
}

std::optional<DeviceRecord> ServerStore::authenticate(const std::string& token) {
  auto statement = impl_->db.cached(
      "SELECT device_id, user_id, role, revoked, acked_seq, last_sync_at, token_hash FROM devices WHERE token_hash = ?");
  statement->bind(1, token_hash(token));
  if (!statement->step()) return std::nullopt;
  auto device = read_device(*statement);
  if (device.revoked) return std::nullopt;
  return device;
}

bool ServerStore::deliver_wipe(const std::string& token, const std::string& peer) {
  // devices.wipe: 0 none, 1 ordered, 2 ordered and answered at least once.
  auto& db = impl_->db;
  std::string device_id, user_id;
  {
    auto ordered = db.cached("SELECT device_id, user_id, wipe FROM devices WHERE token_hash = ? AND revoked = 1");
    ordered->bind(1, token_hash(token));
    if (!ordered->step() || ordered->column_int(2) == 0) return false;
    if (ordered->column_int(2) == 2) return true;
    device_id = ordered->column_text(0);
    user_id = ordered->column_text(1);
  }
  db::Transaction transaction(db);
  db.cached("UPDATE devices SET wipe = 2 WHERE device_id = ? AND wipe = 1")->bind(1, device_id).run();
  if (db.changes() == 1) {  // once, however many servers answer it at the same time
    AuditEntry entry{Actor{user_id, "device:" + device_id, peer}, kAuditWipeDelivered};
    entry.device = device_id;
    entry.username = user_id;
    impl_->append_audit(entry);
  }
  transaction.commit();
  return true;
}

std::optional<DeviceRecord> ServerStore::device(const std::string& device_id) {
  auto statement = impl_->db.cached(
      "SELECT device_id, user_id, role, revoked, acked_seq, last_sync_at, token_hash FROM devices WHERE device_id = ?");
  statement->bind(1, device_id);
  if (!statement->step()) return std::nullopt;
  return read_device(*statement);
}

std::map<std::string, std::string> ServerStore::current_credentials() {
  // One query however many devices are connected (a borough has hundreds of tablets), so that
  // a server on PostgreSQL does not make a round trip per connection every poll.
  std::map<std::string, std::string> credentials;
  auto statement = impl_->db.cached("SELECT device_id, token_hash FROM devices WHERE revoked = 0");
  while (statement->step()) credentials.emplace(statement->column_text(0), statement->column_text(1));
  return credentials;
}

void ServerStore::touch_device(const std::string& device_id) {
  impl_->db.cached("UPDATE devices SET last_sync_at = ? WHERE device_id = ?")
      ->bind(1, impl_->options.wall_clock())
      .bind(2, device_id)
      .run();
}

void ServerStore::begin_group() {
  impl_->drop_counts();
  impl_->households_seen.clear();
  impl_->push_done();
  impl_->group_wrote = false;
  impl_->group.emplace(impl_->db);
  if (!impl_->db.postgresql()) impl_->last_version = std::stoll(impl_->meta("last_version").value_or("0"));
  impl_->server_hlc = safer::Hlc::parse(impl_->meta("server_hlc").value_or("")).value_or(safer::Hlc{});
  impl_->server_hlc_at_begin = impl_->server_hlc;
}

PushOutcome ServerStore::apply_push(const DeviceIdentity& device, const safer::ReceivedPush& push,
                                    const std::vector<std::string>& prepared, const std::string& credential,
                                    safer::WriterRules rules) {
  return impl_->apply_batch(device, push, prepared, credential, rules);
}

void ServerStore::commit_group() {
  impl_->flush_counts();
  if (!impl_->db.postgresql()) {
    impl_->set_meta("last_version", std::to_string(impl_->last_version));
  } else if (impl_->group_wrote) {
    // Versions come from a sequence there (see kPgMigrations); the dashboard's live version
    // counts the commits that wrote records. Last, so its row is locked only for the commit.
    impl_->db.cached("UPDATE counters SET value = value + 1 WHERE name = 'feed_commits'")->run();
  }
  if (impl_->server_hlc_at_begin < impl_->server_hlc) {
    // Only ever forward, whichever server's group commits first (HLCs sort as text).
    impl_->db.cached("INSERT INTO meta (key, value) VALUES ('server_hlc', ?) ON CONFLICT (key)"
                     " DO UPDATE SET value = excluded.value WHERE meta.value < excluded.value")
        ->bind(1, impl_->server_hlc.to_string())
        .run();
  }
  impl_->group->commit();
  impl_->group.reset();
}

void ServerStore::abandon_group() noexcept {
  impl_->group.reset();
  impl_->push_done();
  impl_->drop_counts();
  impl_->households_seen.clear();
}

Result<PushOutcome> ServerStore::push(const DeviceIdentity& device, const safer::ReceivedPush& push,
                                      safer::WriterRules rules) {
  return in_write_group(*this, [&]() -> Result<PushOutcome> { return apply_push(device, push, {}, "", rules); });
}

}  // namespace sync_server
