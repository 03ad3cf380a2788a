// Referrals per partner (protocol.md §7, docs/server.md "Referrals"): the `referrals` table,
// one row per live visit and partner it refers to (a built-in referral or an answered question
// of kind referral, §5.8), kept in step with the visits inside the write that changes them.
#include <algorithm>
#include <tuple>

#include "safer/uuid.h"
#include "safer/validation.h"
#include "store_impl.h"
#include "sync_server/dashboard.h"

namespace sync_server {

void ServerStore::Impl::keep_referrals(const std::string& visit_id, const safer::Visit* visit, const std::string& ward,
                                       bool stored) {
  WantedReferrals wanted;
  if (visit != nullptr) wanted.partners = safer::referral_partners(*visit, options.lists);
  // A new visit (most of a push) without referrals has nothing to write, nor to read. (A visit
  // first written earlier in this group is stored: its entry here is replaced.)
  if (!stored && wanted.partners.empty()) return;
  wanted.stored = stored;
  if (!wanted.partners.empty()) {
    wanted.household_id = visit->household_id;
    wanted.day = safer::format_iso_date(options.local_date(visit->visited_at));
    wanted.ward = ward;
    wanted.basis = visit->share_basis ? std::string(safer::to_string(*visit->share_basis)) : std::string();
  }
  pending_referrals.insert_or_assign(visit_id, std::move(wanted));
}

void ServerStore::Impl::flush_referrals() {
  // Every write of `referrals` changes a row of referral_totals by trigger (the day and partner
  // it counts in), and on PostgreSQL locks it until the commit. Written in the group's order of
  // visits, two writers' groups would take those rows in different orders and deadlock (each
  // group then ran again, and under load failed); in (day, partner) order one waits for the
  // other. A visit whose referral moves to another day changes two rows; it sorts by the new.
  struct Write {
    std::string day, partner;
    const std::string* visit_id;
    const WantedReferrals* wanted;  // nullptr: delete the row
    bool operator<(const Write& other) const {
      return std::tie(day, partner, *visit_id) < std::tie(other.day, other.partner, *other.visit_id);
    }
  };
  std::vector<Write> writes;
  auto held = db.cached("SELECT partner, local_day FROM referrals WHERE visit_id = ?");
  for (const auto& [visit_id, wanted] : pending_referrals) {
    held->reset();
    held->bind(1, visit_id);
    while (wanted.stored && held->step()) {
      std::string partner = held->column_text(0);
      if (std::find(wanted.partners.begin(), wanted.partners.end(), partner) != wanted.partners.end()) continue;
      writes.push_back({held->column_text(1), std::move(partner), &visit_id, nullptr});
    }
    for (const auto& partner : wanted.partners) writes.push_back({wanted.day, partner, &visit_id, &wanted});
  }
  held->reset();
  std::sort(writes.begin(), writes.end());

  auto remove = db.cached("DELETE FROM referrals WHERE visit_id = ? AND partner = ?");
  auto upsert = db.cached(
      "INSERT INTO referrals (visit_id, partner, household_id, local_day, ward, share_basis) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
      " ON CONFLICT (visit_id, partner) DO UPDATE SET household_id = excluded.household_id,"
      " local_day = excluded.local_day, ward = excluded.ward, share_basis = excluded.share_basis");
  for (const auto& write : writes) {
    if (write.wanted == nullptr) {
      remove->reset();
      remove->bind(1, *write.visit_id).bind(2, write.partner).run();
      continue;
    }
    const auto& wanted = *write.wanted;
    upsert->reset();
    upsert->bind(1, *write.visit_id).bind(2, write.partner).bind(3, wanted.household_id).bind(4, wanted.day);
    upsert->bind(5, wanted.ward).bind(6, wanted.basis).run();
  }
  pending_referrals.clear();
}

Result<std::int64_t> Dashboard::mark_referrals_sent(const ReferralFilter& filter,
                                                    const std::optional<std::vector<std::string>>& visit_ids,
                                                    const Actor& coordinator) {
  if (visit_ids && visit_ids->size() > static_cast<std::size_t>(kMaxReferralPage)) {
    return Error{"invalid", "at most " + std::to_string(kMaxReferralPage) + " visit ids at a time", "visit_ids"};
  }
  if (visit_ids) {
    for (const auto& id : *visit_ids) {
      if (!safer::is_canonical_uuid(id)) return Error{"invalid", "visit_ids must hold visit ids (UUIDs)", "visit_ids"};
    }
  }
  auto& impl = *store_.impl_;
  return in_write_group(store_, [&]() -> Result<std::int64_t> {
    std::int64_t marked = 0;
    const std::int64_t now = impl.options.wall_clock();
    if (visit_ids) {
      auto mark = impl.db.cached(
          "UPDATE referrals SET sent_at = ?1, sent_by = ?2 WHERE visit_id = ?3 AND partner = ?4 AND sent_at IS NULL");
      for (const auto& id : *visit_ids) {
        mark->reset();
        mark->bind(1, now).bind(2, coordinator.name).bind(3, id).bind(4, filter.partner).run();
        marked += impl.db.changes();
      }
    } else {
      impl.db.cached(filter.include_not_recorded
                         ? "UPDATE referrals SET sent_at = ?1, sent_by = ?2 WHERE partner = ?3"
                           " AND local_day BETWEEN ?4 AND ?5 AND sent_at IS NULL"
                         : "UPDATE referrals SET sent_at = ?1, sent_by = ?2 WHERE partner = ?3"
                           " AND local_day BETWEEN ?4 AND ?5 AND sent_at IS NULL AND share_basis <> ''")
          ->bind(1, now)
          .bind(2, coordinator.name)
          .bind(3, filter.partner)
          .bind(4, first_day_text(filter.range.first))
          .bind(5, last_day_text(filter.range.second))
          .run();
      marked = impl.db.changes();
    }
    AuditEntry entry{coordinator, kAuditReferralsSent};
    entry.kind = "referrals";
    const auto day = [](const std::optional<safer::CivilDate>& date) { return date ? safer::format_iso_date(*date) : ""; };
    entry.detail = "partner=" + filter.partner + " from=" + day(filter.range.first) + " to=" + day(filter.range.second) +
                   (visit_ids ? " selected=" + std::to_string(visit_ids->size()) : std::string(" selected=all")) +
                   " marked=" + std::to_string(marked);
    impl.append_audit(entry);
    return marked;
  });
}

}  // namespace sync_server
