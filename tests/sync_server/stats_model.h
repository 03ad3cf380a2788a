// An independent model of the store for the randomised statistics test: what is rejected, which version wins, and the §7 statistics.
#pragma once

#include <map>
#include <set>
#include <tuple>

#include "safer/stats.h"
#include "safer/validation.h"
#include "store_fixture.h"

namespace store_test {

// Europe/London from 2026-01-01 to 2027-04-30: BST (UTC+1) from 2026-03-29T01:00Z to
// 2026-10-25T01:00Z, and again from 2027-03-28T01:00Z.
inline safer::CivilDate london_date_2026(UnixMillis instant) {
  static const UnixMillis bst_start = 1'774'746'000'000;       // 2026-03-29T01:00:00Z
  static const UnixMillis bst_end = 1'792'890'000'000;         // 2026-10-25T01:00:00Z
  static const UnixMillis bst_start_2027 = 1'806'195'600'000;  // 2027-03-28T01:00:00Z
  REQUIRE(instant >= 1'767'225'600'000);                       // 2026-01-01T00:00:00Z
  REQUIRE(instant < 1'809'129'600'000);                        // 2027-05-01T00:00:00Z
  const bool summer = (instant >= bst_start && instant < bst_end) || instant >= bst_start_2027;
  return utc_date(instant + (summer ? kHour : 0));
}

// The server's questions in the randomised test: the defaults and one extra referral partner,
// which counts as a referral as the built-in partners do (protocol.md §5.8).
inline constexpr const char* kExtraPartner = "age_uk";
inline std::vector<safer::Question> model_questions() {
  auto questions = safer::ReferenceLists::defaults().questions;
  questions.push_back({kExtraPartner, safer::QuestionKind::referral, "Age UK", false});
  return questions;
}

// The partners a visit refers to: its built-in referrals and the extra partner when answered.
inline std::set<std::string> partners_of(const Visit& visit) {
  std::set<std::string> partners;
  for (const auto& name : visit.referrals.names()) partners.emplace(name);
  if (visit.answers.count(kExtraPartner) != 0) partners.emplace(kExtraPartner);
  return partners;
}

// The version of a record the server should hold.
struct ModelVersion {
  Hlc hlc;
  std::string device_id;
  std::string owner;  // the user whose device wrote the first version
  bool deleted = false;
  std::optional<safer::RecordData> data;   // as the server should send it; nullopt when deleted
  std::string household_id;                // visits (a tombstone keeps it)
  std::optional<std::string> assigned_to;  // households (a tombstone keeps it)
  bool target = false;                     // households: false once deleted
  std::string ward;                        // households: the ward of the last live version
};

class StoreModel {
 public:
  const ModelVersion* find(Entity entity, const std::string& id) const {
    const auto found = records_.find(key(entity, id));
    return found == records_.end() ? nullptr : &found->second;
  }
  const std::map<std::string, ModelVersion>& records() const { return records_; }

  // protocol.md §4.4: the assignee, or while there is none the creator.
  static bool in_scope(const ModelVersion& household, const std::string& user) {
    return household.assigned_to ? *household.assigned_to == user : household.owner == user;
  }

  // The rejection codes the server may give `change`; empty when it must accept it.
  // `invalid_data` says the generator broke a record rule on purpose.
  std::set<std::string> reasons(const DeviceIdentity& device, const Change& change, bool invalid_data,
                                UnixMillis now) const {
    std::set<std::string> codes;
    if (change.hlc.millis > now + kHour) codes.insert("clock_skew");
    if (invalid_data) codes.insert("invalid");
    const bool coordinator = device.role == Role::coordinator;
    const std::string& user = device.user_id;
    const ModelVersion* current = find(change.entity, change.id);
    if (change.entity == Entity::household) {
      if (!coordinator && change.op == Op::remove) {
        codes.insert("forbidden");
        return codes;
      }
      // An erased household is never written again (§5.7), by anyone.
      if (change.op == Op::upsert && current && current->deleted) codes.insert("erased");
      if (coordinator) return codes;
      const auto& household = std::get<Household>(*change.data);
      if (current && !in_scope(*current, user)) codes.insert("forbidden");
      if (household.target && *household.target != (current ? current->target : false)) codes.insert("forbidden");
      const std::optional<std::string> assignee_now = current ? current->assigned_to : std::nullopt;
      if (household.assigned_to && *household.assigned_to != assignee_now) codes.insert("forbidden");
      return codes;
    }
    if (!coordinator && current && current->owner != user) codes.insert("forbidden");
    if (change.entity == Entity::visit) {
      if (!coordinator && current && !current->household_id.empty()) {
        const ModelVersion* visited = find(Entity::household, current->household_id);
        if (visited && !in_scope(*visited, user)) codes.insert("forbidden");
      }
      if (change.op == Op::upsert) {
        const ModelVersion* visited = find(Entity::household, std::get<Visit>(*change.data).household_id);
        if (!visited) {
          codes.insert("invalid");
        } else if (visited->deleted) {
          codes.insert("erased");
        } else if (!coordinator && !in_scope(*visited, user)) {
          codes.insert("forbidden");
        }
      }
    }
    return codes;
  }

  // Applies an accepted change by (hlc, device_id); returns whether it won.
  bool apply(const DeviceIdentity& device, const Change& change) {
    const auto record_key = key(change.entity, change.id);
    const auto found = records_.find(record_key);
    const ModelVersion* current = found == records_.end() ? nullptr : &found->second;
    if (current && current->hlc == change.hlc && current->device_id != device.device_id) ++hlc_ties;
    // A coordinator's delete of a live household (an erasure) always wins: just after the
    // stored HLC when it would lose.
    const bool erasure = change.entity == Entity::household && change.op == Op::remove && current && !current->deleted;
    Hlc hlc = change.hlc;
    if (current && std::tie(change.hlc, device.device_id) <= std::tie(current->hlc, current->device_id)) {
      if (!erasure) return false;
      hlc = current->hlc.counter < Hlc::kMaxCounter ? Hlc{current->hlc.millis, current->hlc.counter + 1}
                                                    : Hlc{current->hlc.millis + 1, 0};
    }

    ModelVersion next;
    next.hlc = hlc;
    next.device_id = device.device_id;
    next.owner = current ? current->owner : device.user_id;
    next.deleted = change.op == Op::remove;
    if (change.entity == Entity::household) {
      if (next.deleted) {
        if (current) {
          next.ward = current->ward;
          next.assigned_to = current->assigned_to;
        }
      } else {
        Household household = std::get<Household>(*change.data);
        if (device.role == Role::coordinator) {
          household.target = household.target.value_or(false);
          household.assigned_to = household.assigned_to.value_or(std::nullopt);
        } else {
          household.target = current ? current->target : false;
          household.assigned_to = current ? current->assigned_to : std::nullopt;
        }
        if (current && !current->deleted) {
          if (current->ward != household.ward) ++ward_changes;
          if (current->target != *household.target) ++target_changes;
        }
        next.target = *household.target;
        next.assigned_to = *household.assigned_to;
        next.ward = household.ward;
        next.data = household;
      }
    } else if (change.entity == Entity::visit) {
      if (next.deleted) {
        if (current) next.household_id = current->household_id;
      } else {
        Visit record = std::get<Visit>(*change.data);
        next.household_id = record.household_id;
        if (current && !current->deleted && current->household_id != next.household_id) ++visits_moved;
        // A protocol-1 writer's visit knows nothing of answers (§5.8): one without any keeps the
        // stored ones — first, since a kept answer to the extra partner is a referral.
        if (record.answers.empty() && current && !current->deleted) {
          record.answers = std::get<Visit>(*current->data).answers;
          if (!record.answers.empty()) ++answers_kept;
        }
        // Nor of share_basis (§5.2): a basis without referrals is dropped, and a missing one is
        // the stored one while there are referrals.
        if (partners_of(record).empty()) {
          record.share_basis.reset();
        } else if (!record.share_basis && current && !current->deleted) {
          record.share_basis = std::get<Visit>(*current->data).share_basis;
          if (record.share_basis) ++bases_kept;
        }
        next.data = record;
      }
    } else if (!next.deleted) {
      next.data = change.data;
    }
    if (current && current->deleted && !next.deleted) ++resurrections;
    if (change.entity == Entity::visit) forget_sent(change.id, next.data ? &std::get<Visit>(*next.data) : nullptr);
    records_[record_key] = std::move(next);
    if (change.entity == Entity::household && change.op == Op::remove) erase_visits(change.id, device, hlc);
    return true;
  }

  // Every live visit of an erased household becomes a tombstone past the erasure and its own HLC.
  void erase_visits(const std::string& household_id, const DeviceIdentity& device, Hlc erased_at) {
    for (auto& [record_key, version] : records_) {
      if (record_key.rfind("visit/", 0) != 0 || version.deleted || version.household_id != household_id) continue;
      const Hlc after = std::max(erased_at, version.hlc);
      version.hlc = after.counter < Hlc::kMaxCounter ? Hlc{after.millis, after.counter + 1} : Hlc{after.millis + 1, 0};
      version.device_id = device.device_id;
      version.deleted = true;
      version.data.reset();
      forget_sent(record_key.substr(6), nullptr);
      ++visits_erased;
    }
  }

  // A coordinator's "mark all as sent" (Dashboard::mark_referrals_sent): every live visit's
  // unsent referral to `partner` in the range, not-recorded ones only when included. Returns
  // how many it marked.
  std::int64_t mark_sent(const std::string& partner, const std::optional<safer::CivilDate>& from,
                         const std::optional<safer::CivilDate>& to, bool include_not_recorded) {
    std::int64_t marked = 0;
    for (const auto& [record_key, version] : records_) {
      const auto* record = version.deleted ? nullptr : std::get_if<Visit>(&*version.data);
      if (record == nullptr) continue;
      const auto day = london_date_2026(record->visited_at);
      if ((from && day < *from) || (to && *to < day)) continue;
      if (partners_of(*record).count(partner) == 0) continue;
      if (!record->share_basis && !include_not_recorded) continue;
      marked += sent_.emplace(record_key.substr(6), partner).second ? 1 : 0;
    }
    return marked;
  }

  // "Mark as sent" for chosen visits: their unsent referrals to `partner`, whatever the basis.
  std::int64_t mark_sent(const std::string& partner, const std::vector<std::string>& visit_ids) {
    std::int64_t marked = 0;
    for (const auto& id : visit_ids) {
      const auto* version = find(Entity::visit, id);
      if (!version || version->deleted) continue;
      if (partners_of(std::get<Visit>(*version->data)).count(partner) == 0) continue;
      marked += sent_.emplace(id, partner).second ? 1 : 0;
    }
    return marked;
  }

  safer::Stats stats(const std::optional<safer::CivilDate>& from, const std::optional<safer::CivilDate>& to) const {
    safer::Stats stats;
    stats.from = from;
    stats.to = to;
    for (const auto& ward : safer::ReferenceLists::defaults().wards) stats.visits_by_ward[ward] = 0;
    for (const auto& station : safer::ReferenceLists::defaults().stations) {
      stats.cards_by_station[station] = 0;
      stats.messages_by_station[station] = {};
    }
    for (const auto partner : safer::EnumNames<safer::Referral>::names) {
      stats.referrals_by_partner[std::string(partner)] = 0;
      stats.referrals_sent_by_partner[std::string(partner)] = 0;
    }
    safer::add_known_questions(stats, model_questions());
    const auto in_range = [&](UnixMillis instant) {
      const auto day = london_date_2026(instant);
      return (!from || *from <= day) && (!to || day <= *to);
    };
    std::set<std::string> visited;
    std::map<std::string, std::int64_t> reached;  // household -> completed visits in range
    for (const auto& [record_key, version] : records_) {
      if (version.deleted) continue;
      if (const auto* household = std::get_if<Household>(&*version.data)) {
        if (*household->target) ++stats.households_target;
      } else if (const auto* record = std::get_if<Visit>(&*version.data)) {
        if (!in_range(record->visited_at)) continue;
        // A live visit counts even if its household was deleted since (protocol.md §7 counts
        // not-deleted visits), under that household's last ward.
        const ModelVersion* household = find(Entity::household, record->household_id);
        REQUIRE(household != nullptr);
        ++stats.visits_total;
        ++stats.visits_by_status[static_cast<std::size_t>(record->status)];
        ++stats.visits_by_ward[household->ward];
        for (std::size_t i = 0; i < stats.outcomes.size(); ++i) {
          if (record->has(static_cast<safer::Outcome>(i))) ++stats.outcomes[i];
        }
        stats.smoke_detectors_fitted += record->smoke_detectors_fitted;
        const auto partners = partners_of(*record);
        if (!partners.empty()) {
          ++stats.referred_visits;
          ++stats.referrals_by_basis[record->share_basis ? static_cast<std::size_t>(*record->share_basis) : 3];
        }
        for (const auto& partner : partners) {
          ++stats.referrals_by_partner[partner];
          if (sent_.count({record_key.substr(6), partner}) != 0) ++stats.referrals_sent_by_partner[partner];
        }
        for (const auto& [question, answer] : record->answers) {
          const auto* scale = std::get_if<std::int64_t>(&answer);
          safer::count_answer(stats, question, household->ward, scale ? *scale : 0, 1);
        }
        if (record->status == VisitStatus::completed) {
          ++reached[record->household_id];
          if (!household->deleted && household->target) visited.insert(record->household_id);
        }
      } else if (const auto* session = std::get_if<CommuteSession>(&*version.data)) {
        if (!in_range(session->started_at)) continue;
        ++stats.commute_sessions;
        stats.cards_distributed += session->cards_distributed;
        stats.cards_by_station[session->station] += session->cards_distributed;
        for (const auto message : session->messages.values()) {
          for (auto* count : {&stats.messages[static_cast<std::size_t>(message)],
                              &stats.messages_by_station[session->station][static_cast<std::size_t>(message)]}) {
            count->sessions += 1;
            count->cards += session->cards_distributed;
          }
        }
      }
    }
    stats.households_visited = static_cast<std::int64_t>(visited.size());
    stats.households_reached = static_cast<std::int64_t>(reached.size());
    // By the household's vulnerabilities now; a deleted household has none recorded.
    for (const auto& [household_id, completed] : reached) {
      const ModelVersion* household = find(Entity::household, household_id);
      const auto groups = household->deleted ? safer::EnumSet<safer::Vulnerability>{}
                                             : std::get<Household>(*household->data).vulnerability;
      const auto add = [&](std::size_t group) {
        stats.by_vulnerability[group].households += 1;
        stats.by_vulnerability[group].completed_visits += completed;
      };
      if (groups.empty()) add(stats.by_vulnerability.size() - 1);
      for (const auto group : groups.values()) add(static_cast<std::size_t>(group));
    }
    return stats;
  }

  // How often the interesting cases happened, so that the test can insist they did.
  int ward_changes = 0;
  int target_changes = 0;
  int visits_moved = 0;
  int hlc_ties = 0;  // versions of one record with equal hlcs from two devices
  int resurrections = 0;
  int visits_erased = 0;
  int bases_kept = 0;  // a visit's stored share_basis kept under a protocol-1 writer's edit
  int answers_kept = 0;  // a visit's stored answers kept under a protocol-1 writer's edit
  int sent_forgotten = 0;  // sent referrals gone with their visit or its partner
  int sent_kept = 0;       // sent referrals kept through a new version of their visit

 private:
  // A visit's new version (nullptr: deleted or erased) keeps the sent state of the partners it
  // still refers to.
  void forget_sent(const std::string& visit_id, const Visit* visit) {
    for (auto it = sent_.lower_bound({visit_id, ""}); it != sent_.end() && it->first == visit_id;) {
      if (visit != nullptr && partners_of(*visit).count(it->second) != 0) {
        ++it;
        ++sent_kept;
      } else {
        it = sent_.erase(it);
        ++sent_forgotten;
      }
    }
  }

  std::map<std::string, ModelVersion> records_;
  std::set<std::pair<std::string, std::string>> sent_;  // (visit id, partner) marked as sent
};

}  // namespace store_test
