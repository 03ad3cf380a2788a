// Invariant 3 of server_store.h: after random pushes the kept statistics equal a recomputation and an independent model, for any range.
#include <catch2/catch.hpp>

#include <random>

#include "safer/sqlite.h"
#include "stats_model.h"
#include "sync_server/dashboard.h"
#include "sync_server/local_time.h"

using namespace store_test;

namespace {

const std::vector<std::string> kWards = {"Elstree", "Shenley", "Bushey North", "Potters Bar Oakmere",
                                         "Borehamwood Hillside"};
const std::vector<std::string> kStations = {"Potters Bar", "Elstree & Borehamwood", "Radlett"};
const std::vector<std::string> kPostcodes = {"WD6 1WA", "EN6 1AA", "WD23 2AB", "WD7 9HZ"};
const std::vector<std::optional<std::string>> kAssignees = {std::nullopt, "officer.ann", "officer.bob", "pcso.pat"};
// Times of day that sit on both sides of local midnight while BST lasts.
const std::vector<std::int64_t> kTimesOfDay = {30 * 60'000, 10 * kHour, 14 * kHour + 15 * 60'000, 22 * kHour + 30 * 60'000,
                                               23 * kHour + 30 * 60'000, kDay - 1};
const UnixMillis kFirstDay = 1'792'454'400'000;  // 2026-10-20T00:00:00Z; BST ends 2026-10-25T01:00Z
const std::vector<UnixMillis> kEdges = {
    1'774'999'800'000,  // 2026-03-31T23:30Z: 1 April 00:30 BST, financial year 2026
    1'774'994'400'000,  // 2026-03-31T22:00Z: 31 March 23:00 BST, financial year 2025
    1'806'535'800'000,  // 2027-03-31T23:30Z: 31 March (GMT), financial year 2026
    1'806'539'400'000,  // 2027-04-01T00:30Z: 1 April 01:30 BST, financial year 2027
    1'796'083'140'000,  // 2026-11-30T23:59Z
    1'798'761'600'000,  // 2027-01-01T00:00Z
};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : random_(seed) {}

  std::size_t below(std::size_t n) { return static_cast<std::size_t>(random_() % n); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  template <class T>
  const T& pick(const std::vector<T>& values) { return values[below(values.size())]; }

  // Mostly the eleven days around the end of BST; one time in four a time at the edge of a
  // month or a financial year (local time), for the month and year roll-ups.
  UnixMillis instant() {
    if (chance(25)) return pick(kEdges);
    return kFirstDay + static_cast<std::int64_t>(below(11)) * kDay + pick(kTimesOfDay);
  }

  // Mostly a clock that moves on with each step but lets edits made within a few seconds of
  // each other arrive in any order; sometimes too far ahead, sometimes exactly at the limit.
  Hlc version(int step) {
    if (chance(3)) return Hlc{kNow + kHour + 1 + static_cast<std::int64_t>(below(1000)), 0};
    if (chance(1)) return Hlc{kNow + kHour, 0};
    const std::int64_t millis = kNow - kHour + 2000 * step - 1000 * static_cast<std::int64_t>(below(8));
    return Hlc{millis, static_cast<std::uint32_t>(below(2))};
  }

 private:
  std::mt19937_64 random_;
};

struct Planned {
  safer::ReceivedChange received;
  bool invalid_data = false;
};

// Chooses the next change of `device` given what the model holds.
// `partners` chooses a visit's partners, apart from `random` so that the rest of the mix stays
// what it was before referrals were counted per partner; `answers` its answers (protocol.md
// §5.8), apart from both for the same reason.
Planned plan_change(Generator& random, Generator& partners, Generator& answers, const StoreModel& model,
                    const DeviceIdentity& device, int step) {
  const bool coordinator = device.role == Role::coordinator;
  const auto household_id = [&] { return uuid(1 + static_cast<int>(random.below(16))); };
  // Officers mostly pick their own records or new ids, and sometimes anybody's.
  const auto pick_id = [&](Entity entity, int first, int count) {
    std::vector<std::string> own_or_new;
    for (int n = first; n < first + count; ++n) {
      const auto* current = model.find(entity, uuid(n));
      if (!current || current->owner == device.user_id) own_or_new.push_back(uuid(n));
    }
    if (coordinator || own_or_new.empty() || random.chance(20)) return uuid(first + static_cast<int>(random.below(count)));
    return random.pick(own_or_new);
  };
  const auto visit_id = [&] { return pick_id(Entity::visit, 101, 40); };
  const auto session_id = [&] { return pick_id(Entity::commute_session, 201, 16); };
  // Households this user may work on, as the model sees them.
  std::vector<std::string> in_scope;
  for (int n = 1; n <= 16; ++n) {
    const auto* household = model.find(Entity::household, uuid(n));
    if (household && !household->deleted && (coordinator || StoreModel::in_scope(*household, device.user_id))) {
      in_scope.push_back(uuid(n));
    }
  }

  Planned planned;
  const Hlc version = random.version(step);
  const std::size_t kind = random.below(100);
  if (kind < 26) {  // household upsert
    std::string id = !coordinator && !in_scope.empty() && random.chance(70) ? random.pick(in_scope) : household_id();
    const auto* current = model.find(Entity::household, id);
    if (!coordinator && current && current->deleted) id = in_scope.empty() ? uuid(1) : random.pick(in_scope);
    current = model.find(Entity::household, id);
    if (!coordinator && current && current->deleted) return plan_change(random, partners, answers, model, device, step);
    Household record = household(random.pick(kWards));
    record.postcode = random.pick(kPostcodes);
    if (random.chance(30)) record.vulnerability = {safer::Vulnerability::elderly, safer::Vulnerability::lives_alone};
    if (coordinator) {
      if (random.chance(70)) record.target = random.chance(60);
      if (random.chance(70)) record.assigned_to = random.pick(kAssignees);
    } else if (random.chance(20)) {  // server-owned fields sent: equal or (forbidden) different
      const bool equal = random.chance(50);
      const bool target_now = current ? current->target : false;
      const auto assignee_now = current ? current->assigned_to : std::nullopt;
      if (random.chance(50)) {
        record.target = equal ? target_now : !target_now;
      } else {
        record.assigned_to = equal ? assignee_now : (assignee_now ? std::nullopt : std::optional<std::string>(device.user_id));
      }
    }
    if (random.chance(4)) {
      record.ward = "Atlantis";
      planned.invalid_data = true;
    }
    planned.received.change = upsert(id, record, version);
  } else if (kind < 30) {  // household delete
    if (random.chance(coordinator ? 50 : 70)) return plan_change(random, partners, answers, model, device, step);
    planned.received.change = remove(Entity::household, household_id(), version);
  } else if (kind < 64) {  // visit upsert: new, edited, or moved to another household
    std::string visited_household;
    const std::size_t where = random.below(100);
    if (where < 80 && !in_scope.empty()) {
      visited_household = random.pick(in_scope);
    } else if (where < 95) {
      visited_household = household_id();
    } else {
      visited_household = uuid(999);  // never a household
    }
    const auto status = static_cast<VisitStatus>(random.below(4));
    Visit record = visit(visited_household, status, random.instant());
    if (status == VisitStatus::completed) {
      for (std::size_t i = 0; i < 6; ++i) {
        if (random.chance(40)) record.outcomes.insert(static_cast<safer::Outcome>(i));
      }
      record.smoke_detectors_fitted = static_cast<std::int64_t>(random.below(5));
    } else if (random.chance(5)) {
      record.smoke_detectors_fitted = 1;
      planned.invalid_data = true;
    }
    if (random.chance(40)) {
      // One to three partners, so that an edit drops some and keeps others.
      for (std::size_t i = 0, count = 1 + partners.below(3); i < count; ++i) {
        record.referrals.insert(static_cast<safer::Referral>(partners.below(safer::EnumNames<safer::Referral>::names.size())));
      }
      if (!random.chance(25)) record.share_basis = static_cast<safer::ShareBasis>(random.below(3));
    } else if (random.chance(5)) {
      record.share_basis = safer::ShareBasis::consent;  // dropped: nothing to share
    }
    // The default questions, often left out (a protocol-1 writer's edit keeps the stored answers).
    if (answers.chance(50)) record.answers["feels_safe"] = static_cast<std::int64_t>(1 + answers.below(5));
    if (answers.chance(40)) record.answers["satisfaction"] = static_cast<std::int64_t>(1 + answers.below(5));
    if (answers.chance(30)) record.answers["feedback"] = std::string("Fictional feedback");
    if (answers.chance(30)) record.answers[kExtraPartner] = true;  // a referral to the server's own partner
    const std::string id = visit_id();
    // Often an edit keeps the visit's partners, so that referrals marked sent outlive edits.
    if (!record.referrals.empty() && partners.chance(60)) {
      const auto* current = model.find(Entity::visit, id);
      if (current && !current->deleted && !std::get<Visit>(*current->data).referrals.empty()) {
        record.referrals = std::get<Visit>(*current->data).referrals;
      }
    }
    planned.received.change = upsert(id, record, version);
  } else if (kind < 69) {  // visit delete
    planned.received.change = remove(Entity::visit, visit_id(), version);
  } else if (kind < 89) {  // session upsert
    CommuteSession record = session(random.pick(kStations), static_cast<std::int64_t>(random.below(200)), random.instant());
    if (random.chance(30)) record.ended_at = record.started_at + 2 * kHour;
    // The messages follow from the cards (no draw: the sequence of the other choices stays as it was).
    for (std::size_t i = 0; i < safer::EnumNames<safer::CommuteMessage>::names.size(); ++i) {
      if ((record.cards_distributed >> i) & 1) record.messages.insert(static_cast<safer::CommuteMessage>(i));
    }
    if (random.chance(4)) {
      record.cards_distributed = 6000;
      planned.invalid_data = true;
    }
    planned.received.change = upsert(session_id(), record, version);
  } else if (kind < 94) {  // session delete
    planned.received.change = remove(Entity::commute_session, session_id(), version);
  } else {  // a change the decoder could not read
    planned.received.error = safer::FieldError{"notes", "notes must be a string"};
    planned.invalid_data = true;
  }
  // Sometimes exactly the hlc of the version held: a tie that device_id must break.
  if (planned.received.change && random.chance(8)) {
    if (const auto* current = model.find(planned.received.change->entity, planned.received.change->id)) {
      planned.received.change->hlc = current->hlc;
    }
  }
  return planned;
}

struct Sent {
  safer::ReceivedPush batch;
  safer::Ack ack;
};

std::vector<std::optional<safer::CivilDate>> boundaries() {
  return {std::nullopt,        date("2026-03-31"), date("2026-04-01"), date("2026-10-01"), date("2026-10-19"),
          date("2026-10-20"),  date("2026-10-22"), date("2026-10-24"), date("2026-10-25"), date("2026-10-26"),
          date("2026-10-30"),  date("2026-10-31"), date("2026-11-01"), date("2026-11-30"), date("2026-12-01"),
          date("2026-12-31"),  date("2027-01-01"), date("2027-03-31"), date("2027-04-01")};
}

void check_stats_agree(ServerStore& store, const StoreModel& model, const std::optional<safer::CivilDate>& from,
                       const std::optional<safer::CivilDate>& to) {
  INFO("from " << (from ? safer::format_iso_date(*from) : "-") << " to " << (to ? safer::format_iso_date(*to) : "-"));
  const auto kept = store.stats(from, to);
  CHECK(kept == store.recompute_stats(from, to));
  CHECK(kept == model.stats(from, to));
}

void check_records_agree(ServerStore& store, const StoreModel& model) {
  const auto held = server_records(store);
  CHECK(held.size() == model.records().size());
  for (const auto& [record_key, version] : model.records()) {
    INFO(record_key);
    const auto found = held.find(record_key);
    REQUIRE(found != held.end());
    CHECK(found->second.change.hlc == version.hlc);
    CHECK(found->second.device_id == version.device_id);
    CHECK((found->second.change.op == Op::remove) == version.deleted);
    CHECK(found->second.change.data == version.data);
  }
}

}  // namespace

TEST_CASE("kept statistics equal a recomputation and an independent model after random pushes", "[stats][random]") {
  REQUIRE(sync_server::use_time_zone("Europe/London").ok());
  StoreFixture fixture(sync_server::local_date);
  std::vector<Device> devices = {
      fixture.enroll("coord-1", "coord.cat", Role::coordinator), fixture.enroll("coord-2", "coord.dan", Role::coordinator),
      fixture.enroll("ann-tablet", "officer.ann", Role::officer), fixture.enroll("ann-phone", "officer.ann", Role::officer),
      fixture.enroll("bob-tablet", "officer.bob", Role::officer), fixture.enroll("pat-tablet", "pcso.pat", Role::pcso)};
  REQUIRE(fixture.store().set_questions(model_questions()).ok());
  std::map<std::string, std::vector<Sent>> history;
  StoreModel model;
  Generator random(20261126);
  Generator extra(20261203);  // the partners of visits, and the marks as sent
  Generator answers(20261204);  // the answers of visits
  int changes_sent = 0, applied = 0, ignored = 0, rejected = 0, resends = 0, gaps = 0;
  std::int64_t referrals_marked = 0;

  for (int step = 1; step <= 160; ++step) {
    // Coordinators write the register first, so that officers have households to visit.
    Device& device = step <= 6 || random.chance(30) ? devices[step % 2] : devices[random.below(devices.size())];
    auto& sent = history[device.identity.device_id];
    INFO("step " << step << " device " << device.identity.device_id);

    if (extra.chance(10)) {  // a coordinator marks referrals to one partner as passed on
      std::string partner(safer::EnumNames<safer::Referral>::names[extra.below(5)]);
      if (step % 4 == 0) partner = kExtraPartner;  // the server's own partner too (the draw is kept)
      sync_server::Dashboard::ReferralFilter filter;
      filter.partner = partner;
      std::optional<std::vector<std::string>> chosen;
      std::int64_t expected = 0;
      if (extra.chance(50)) {
        chosen.emplace();
        for (std::size_t i = 0, count = 1 + extra.below(6); i < count; ++i) {
          chosen->push_back(uuid(101 + static_cast<int>(extra.below(40))));
        }
        expected = model.mark_sent(partner, *chosen);
      } else {
        const auto limits = boundaries();
        filter.range = {limits[extra.below(limits.size())], std::nullopt};
        filter.include_not_recorded = extra.chance(50);
        expected = model.mark_sent(partner, filter.range.first, filter.range.second, filter.include_not_recorded);
      }
      const auto marked = sync_server::Dashboard(fixture.store()).mark_referrals_sent(filter, chosen, sync_server::Actor{});
      REQUIRE(marked.ok());
      CHECK(*marked == expected);
      referrals_marked += *marked;
    }
    if (!sent.empty() && random.chance(8)) {  // resend an acked batch: no effect, same rejections
      const Sent& earlier = sent[random.below(sent.size())];
      const auto ack = fixture.push_batch(device.identity, earlier.batch);
      CHECK(ack.acked_seq == device.next_seq - 1);
      CHECK(ack.rejected == earlier.ack.rejected);
      ++resends;
      continue;
    }
    safer::ReceivedPush batch;
    std::vector<bool> invalid;
    const std::size_t size = 1 + random.below(4);
    for (std::size_t i = 0; i < size; ++i) {
      // Planned against the model as it was before the batch; judged below in order.
      Planned planned = plan_change(random, extra, answers, model, device.identity, step);
      batch.changes.push_back(std::move(planned.received));
      invalid.push_back(planned.invalid_data);
    }
    if (random.chance(4)) {  // a gap: nothing of the batch may be applied
      for (std::size_t i = 0; i < batch.changes.size(); ++i) batch.changes[i].seq = device.next_seq + 1 + static_cast<std::int64_t>(i);
      auto outcome = fixture.store().push(device.identity, batch);
      REQUIRE(outcome.ok());
      REQUIRE(outcome->error.has_value());
      CHECK(outcome->error->code == "seq_gap");
      CHECK(outcome->error->expected == device.next_seq);
      CHECK(fixture.acked_seq(device) == device.next_seq - 1);
      ++gaps;
      continue;
    }

    // What the model says about each change, applied in order as the server must.
    std::vector<std::set<std::string>> expected_codes;
    int expected_applied = 0;
    int expected_ignored = 0;
    for (std::size_t i = 0; i < batch.changes.size(); ++i) {
      auto& received = batch.changes[i];
      received.seq = device.next_seq + static_cast<std::int64_t>(i);
      std::set<std::string> codes;
      if (!received.change) {
        codes.insert("invalid");
      } else {
        codes = model.reasons(device.identity, *received.change, invalid[i], fixture.now);
        if (codes.empty()) (model.apply(device.identity, *received.change) ? expected_applied : expected_ignored) += 1;
      }
      expected_codes.push_back(codes);
    }
    auto outcome = fixture.store().push(device.identity, batch);
    REQUIRE(outcome.ok());
    REQUIRE(outcome->ack.has_value());
    const auto& ack = *outcome->ack;
    device.next_seq += static_cast<std::int64_t>(batch.changes.size());
    CHECK(ack.acked_seq == device.next_seq - 1);
    for (std::size_t i = 0; i < batch.changes.size(); ++i) {
      const auto found = rejection(ack, batch.changes[i].seq);
      INFO("change " << i << (found ? ": rejected " + found->code + " (" + found->message + ")" : ": accepted"));
      CHECK(found.has_value() == !expected_codes[i].empty());
      if (found) {
        CHECK(expected_codes[i].count(found->code) == 1);
        CHECK_FALSE(found->message.empty());
      }
    }
    CHECK(outcome->applied == expected_applied);
    CHECK(outcome->ignored == expected_ignored);
    changes_sent += static_cast<int>(batch.changes.size());
    applied += expected_applied;
    ignored += expected_ignored;
    rejected += static_cast<int>(ack.rejected.size());
    sent.push_back({batch, ack});

    if (step % 20 == 0) {
      check_stats_agree(fixture.store(), model, std::nullopt, std::nullopt);
      check_records_agree(fixture.store(), model);
    }
  }

  // The mix really exercised what it is meant to.
  INFO("sent " << changes_sent << " applied " << applied << " ignored " << ignored << " rejected " << rejected);
  CHECK(changes_sent >= 300);
  CHECK(applied >= 100);
  CHECK(ignored >= 10);
  CHECK(rejected >= 30);
  CHECK(resends >= 5);
  CHECK(gaps >= 2);
  CHECK(model.ward_changes >= 3);
  CHECK(model.target_changes >= 3);
  CHECK(model.visits_moved >= 3);
  CHECK(model.hlc_ties >= 1);
  CHECK(model.resurrections >= 1);
  CHECK(model.visits_erased >= 1);  // a coordinator's delete erased visits with its household
  CHECK(model.bases_kept >= 1);
  CHECK(model.answers_kept >= 1);  // a protocol-1 writer's edit kept the stored answers
  CHECK(referrals_marked >= 5);
  CHECK(model.sent_forgotten >= 1);
  CHECK(model.sent_kept >= 1);  // a sent referral kept its state through an edit of its visit
  const auto all_time = model.stats(std::nullopt, std::nullopt);
  CHECK(all_time.referrals_by_partner.at(kExtraPartner) >= 3);  // the server's own partner, counted as a referral
  CHECK(all_time.referrals_sent_by_partner.at(kExtraPartner) >= 1);
  CHECK(all_time.visits_total >= 10);
  CHECK(all_time.households_target >= 2);
  CHECK(all_time.households_visited >= 1);
  CHECK(all_time.commute_sessions >= 3);
  CHECK(all_time.answers.at("feels_safe").all.answered >= 5);
  CHECK(all_time.answers.at("feedback").by_ward.size() >= 2);

  check_records_agree(fixture.store(), model);
  // Every range between the boundaries, including single days and open ends.
  const auto limits = boundaries();
  for (const auto& from : limits) {
    for (const auto& to : limits) {
      if (from && to && *to < *from) continue;
      check_stats_agree(fixture.store(), model, from, to);
    }
  }
  for (std::int64_t day = 0; day <= 12; ++day) {
    const auto single = utc_date(kFirstDay + (day - 1) * kDay);
    check_stats_agree(fixture.store(), model, single, single);
  }
  check_stats_agree(fixture.store(), model, date("2025-01-01"), date("2025-01-31"));
  // Ranges at the end of the calendar (the report for year 9999 ends in year 10000): months and
  // days compared as text would have matched every month from 1001 on.
  check_stats_agree(fixture.store(), model, date("9999-12-15"), std::nullopt);
  check_stats_agree(fixture.store(), model, date("2026-04-01"), safer::CivilDate{10000, 3, 31});
  check_stats_agree(fixture.store(), model, std::nullopt, safer::CivilDate{10000, 1, 15});
  for (int year : {2025, 2026, 2027}) {  // whole financial years, as the dashboard asks
    const auto first = date((std::to_string(year) + "-04-01").c_str());
    const auto last = date((std::to_string(year + 1) + "-03-31").c_str());
    check_stats_agree(fixture.store(), model, first, last);
  }

  // The statistics survive a restart.
  fixture.reopen();
  check_stats_agree(fixture.store(), model, std::nullopt, std::nullopt);
  check_stats_agree(fixture.store(), model, date("2026-10-25"), date("2026-10-25"));
  check_stats_agree(fixture.store(), model, date("2026-04-01"), date("2027-03-31"));

  // A store made before migration 3 (the month and year roll-ups; 4 drops an index) gets them
  // filled from its day totals when opened.
  if (test_support::testing_postgresql()) return;  // SQLite's migrations only
  // No store that old held answers (migration 17), so no referral to the server's own partner:
  // a coordinator takes them off first, as edits the model follows.
  for (const auto& [record_key, pulled] : server_records(fixture.store())) {
    const auto* record = pulled.change.data ? std::get_if<Visit>(&*pulled.change.data) : nullptr;
    if (record == nullptr || record->answers.count(kExtraPartner) == 0) continue;
    Visit edited = *record;
    edited.answers = {{"feels_safe", std::int64_t{3}}};
    const auto change = upsert(pulled.change.id, edited, Hlc{pulled.change.hlc.millis + 1, 0});
    REQUIRE(fixture.push(devices[0], change).rejected.empty());
    REQUIRE(model.apply(devices[0].identity, change));
  }
  check_stats_agree(fixture.store(), model, std::nullopt, std::nullopt);
  fixture.reopen();
  {
    safer::sqlite::Database raw(fixture.path());
    raw.exec("DROP TABLE visit_month_totals; DROP TABLE household_years; DROP TABLE year_visited;"
             " CREATE INDEX records_by_owner ON records (owner, entity);"
             // and without what migration 8 added (exits, devices.wipe), which it adds again
             " DROP TABLE exits; ALTER TABLE devices DROP COLUMN wipe;"
             // and without migration 11's referral counts, which it counts again from the visits
             " ALTER TABLE visit_totals DROP COLUMN referred; ALTER TABLE visit_totals DROP COLUMN basis_consent;"
             " ALTER TABLE visit_totals DROP COLUMN basis_vital_interests;"
             " ALTER TABLE visit_totals DROP COLUMN basis_safeguarding;"
             // and without migration 13's message counts, which it counts again from the sessions
             " ALTER TABLE commute_totals DROP COLUMN msg_vehicle_security_sessions;"
             " ALTER TABLE commute_totals DROP COLUMN msg_vehicle_security_cards;"
             " ALTER TABLE commute_totals DROP COLUMN msg_home_security_sessions;"
             " ALTER TABLE commute_totals DROP COLUMN msg_home_security_cards;"
             " ALTER TABLE commute_totals DROP COLUMN msg_garden_tools_sessions;"
             " ALTER TABLE commute_totals DROP COLUMN msg_garden_tools_cards;"
             " ALTER TABLE commute_totals DROP COLUMN msg_personal_belongings_sessions;"
             " ALTER TABLE commute_totals DROP COLUMN msg_personal_belongings_cards;"
             // and without migration 16's accounts.disabled_at
             " ALTER TABLE accounts DROP COLUMN disabled_at; PRAGMA user_version = 2;");
  }
  fixture.reopen();
  check_stats_agree(fixture.store(), model, std::nullopt, std::nullopt);
  check_stats_agree(fixture.store(), model, date("2026-04-01"), date("2027-03-31"));
  check_stats_agree(fixture.store(), model, date("2025-04-01"), date("2026-03-31"));
  check_stats_agree(fixture.store(), model, date("2026-10-01"), date("2026-12-31"));
}
