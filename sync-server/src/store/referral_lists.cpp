// "Referrals to pass on" (docs/api.md, docs/dashboard.md): one partner's referrals in a range,
// as a page of JSON for the dashboard's work list and as the partner's CSV, with what the
// partner needs to act on each: the visit's date, the address, postcode and ward, the
// household's vulnerability, the lawful basis for sharing, and the officer. Never the notes.
#include "csv_out.h"
#include "safer/household.h"
#include "safer/json_out.h"
#include "safer/record_json.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/dashboard.h"

namespace sync_server {

namespace {

using safer::JsonOut;

// The filter's referrals, joined with their visit and household: ?1 partner, ?2 ?3 the range's
// days, then ?4 limit and ?5 offset (a page of the list), or ?4 ?5 the last (local day, visit
// id) written and 1000 rows (a page of the CSV). Statements are cached by the address of their
// text, so each combination of state and not-recorded condition is its own literal.
#define SELECT_REFERRALS                                                                                    \
  "SELECT r.visit_id, r.household_id, r.local_day, r.ward, r.share_basis, r.sent_at, r.sent_by, v.visited_at," \
  " v.status, v.owner, h.data FROM referrals r"                                                              \
  " JOIN records v ON v.entity = 'visit' AND v.id = r.visit_id AND v.deleted = 0"                          \
  " LEFT JOIN records h ON h.entity = 'household' AND h.id = r.household_id AND h.deleted = 0"             \
  " WHERE r.partner = ?1 AND r.local_day BETWEEN ?2 AND ?3"
#define UNSENT " AND r.sent_at IS NULL"
#define SENT " AND r.sent_at IS NOT NULL"
#define RECORDED " AND r.share_basis <> ''"
#define PAGED " ORDER BY r.local_day, r.visit_id LIMIT ?4 OFFSET ?5"
#define KEYSET " AND (r.local_day, r.visit_id) > (?4, ?5) ORDER BY r.local_day, r.visit_id LIMIT 1000"
#define BY_STATE(recorded, order)                                                       \
  {SELECT_REFERRALS UNSENT recorded order, SELECT_REFERRALS SENT recorded order, \
   SELECT_REFERRALS recorded order}

// [paged?][not-recorded left out?][ReferralState]
constexpr const char* kSelectReferrals[2][2][3] = {
    {BY_STATE("", KEYSET), BY_STATE(RECORDED, KEYSET)},
    {BY_STATE("", PAGED), BY_STATE(RECORDED, PAGED)},
};

const char* select_referrals(const Dashboard::ReferralFilter& filter, bool paged) {
  return kSelectReferrals[paged ? 1 : 0][filter.include_not_recorded ? 0 : 1][static_cast<int>(filter.state)];
}

// One row of select_referrals(), decoded.
struct ReferralRow {
  std::string visit_id, household_id, local_day, ward, share_basis, visited_at, status, officer;
  std::optional<std::int64_t> sent_at;
  std::string sent_by;
  safer::Household household;  // empty when the household is gone
};

ReferralRow read_row(const db::Statement& rows) {
  ReferralRow row{rows.column_text(0), rows.column_text(1), rows.column_text(2), rows.column_text(3),
                  rows.column_text(4), rows.column_text(7), rows.column_text(8), rows.column_text(9),
                  std::nullopt,        rows.column_text(6), {}};
  if (!rows.column_is_null(5)) row.sent_at = rows.column_int(5);
  if (!rows.column_is_null(10)) safer::from_json(rows.column_text(10), row.household);  // written by the store
  return row;
}

void write_json_row(JsonOut& out, const ReferralRow& row) {
  out.begin_object().field("visit_id", row.visit_id).field("household_id", row.household_id);
  out.field("visited_at", row.visited_at).field("local_date", row.local_day).field("status", row.status);
  out.field("address", row.household.address).field("postcode", row.household.postcode).field("ward", row.ward);
  out.key("vulnerability").begin_array();
  for (const auto& name : row.household.vulnerability.names()) out.value(name);
  out.end_array();
  out.key("share_basis");
  if (row.share_basis.empty()) out.null(); else out.value(row.share_basis);
  out.field("basis_not_recorded", row.share_basis.empty()).field("officer", row.officer);
  out.key("sent_at");
  if (row.sent_at) out.value(safer::format_rfc3339(*row.sent_at)); else out.null();
  out.key("sent_by");
  if (row.sent_at) out.value(row.sent_by); else out.null();
  out.end_object();
}

}  // namespace

bool Dashboard::is_partner(std::string_view name) const {
  return safer::is_referral_partner(name, store_.impl_->options.lists);
}

std::string Dashboard::partner_names() const {
  return safer::join_alternatives(safer::referral_partner_names(store_.impl_->options.lists));
}

std::string Dashboard::referrals_json(const ReferralFilter& filter, Listed* listed) {
  auto& db = store_.impl_->db;
  const std::string from = first_day_text(filter.range.first), to = last_day_text(filter.range.second);
  db::Transaction snapshot(db, db::Database::TransactionKind::read);  // the counts and the page agree
  auto counts = db.cached(
      "SELECT count(*), count(sent_at), coalesce(sum(CASE WHEN share_basis = '' THEN 1 ELSE 0 END), 0)"
      " FROM referrals WHERE partner = ?1 AND local_day BETWEEN ?2 AND ?3");
  counts->bind(1, filter.partner).bind(2, from).bind(3, to);
  counts->step();
  const std::int64_t total = counts->column_int(0), sent = counts->column_int(1), not_recorded = counts->column_int(2);
  counts->reset();
  auto rows = db.cached(select_referrals(filter, true));
  rows->bind(1, filter.partner).bind(2, from).bind(3, to).bind(4, filter.limit).bind(5, filter.offset);
  JsonOut out;
  out.begin_object().field("partner", filter.partner);
  out.key("counts").begin_object().field("total", total).field("unsent", total - sent).field("sent", sent);
  out.field("not_recorded", not_recorded).end_object();
  out.key("referrals").begin_array();
  std::int64_t shown = 0;
  while (rows->step()) {
    ++shown;
    write_json_row(out, read_row(*rows));
  }
  rows->reset();
  // How many the filter matched, for paging: its state's count, less the not-recorded ones
  // when they are left out (counted again only then).
  std::int64_t matched = filter.state == ReferralState::all ? total : filter.state == ReferralState::sent ? sent : total - sent;
  if (!filter.include_not_recorded) {
    auto unrecorded = db.cached(
        "SELECT count(*), count(sent_at) FROM referrals WHERE partner = ?1 AND local_day BETWEEN ?2 AND ?3"
        " AND share_basis = ''");
    unrecorded->bind(1, filter.partner).bind(2, from).bind(3, to);
    unrecorded->step();
    const std::int64_t all = unrecorded->column_int(0), sent_unrecorded = unrecorded->column_int(1);
    matched -= filter.state == ReferralState::all ? all : filter.state == ReferralState::sent ? sent_unrecorded
                                                                                               : all - sent_unrecorded;
    unrecorded->reset();
  }
  snapshot.commit();
  out.end_array().field("matched", matched).field("limit", filter.limit).field("offset", filter.offset).end_object();
  if (listed) *listed = Listed{shown, matched};
  return out.str();
}

std::int64_t Dashboard::referrals_csv(const ReferralFilter& filter, const CsvSink& sink) {
  auto& db = store_.impl_->db;
  CsvOut csv(sink);
  for (const char* column : {"partner", "visit_id", "visited_at", "local_date", "status", "address", "postcode", "ward",
                             "vulnerability", "share_basis", "officer", "household_id", "sent_at", "sent_by"}) {
    csv.text(column);
  }
  csv.end_row();
  db::Transaction snapshot(db, db::Database::TransactionKind::read);
  const char* query = select_referrals(filter, false);
  std::pair<std::string, std::string> after;  // ("", "") sorts before every row
  std::int64_t written = 0;
  for (int page_rows = 1000; page_rows == 1000;) {
    page_rows = 0;
    auto rows = db.cached(query);
    rows->bind(1, filter.partner).bind(2, first_day_text(filter.range.first)).bind(3, last_day_text(filter.range.second));
    rows->bind(4, after.first).bind(5, after.second);
    while (rows->step()) {
      ++page_rows;
      ++written;
      const auto row = read_row(*rows);
      csv.text(filter.partner).text(row.visit_id).text(row.visited_at).text(row.local_day).text(row.status);
      csv.text(row.household.address).text(row.household.postcode).text(row.ward);
      csv.text(joined(row.household.vulnerability.names()));
      csv.text(row.share_basis.empty() ? "not_recorded" : row.share_basis).text(row.officer).text(row.household_id);
      csv.text(row.sent_at ? safer::format_rfc3339(*row.sent_at) : "").text(row.sent_at ? row.sent_by : "");
      csv.end_row();
      after = std::pair{row.local_day, row.visit_id};
    }
    rows->reset();
  }
  snapshot.commit();
  csv.finish();
  return written;
}

std::string Dashboard::referrals_csv(const ReferralFilter& filter) {
  std::string out;
  referrals_csv(filter, [&out](std::string_view piece) { out += piece; });
  return out;
}

}  // namespace sync_server
