#include "support/b1_workload.h"

#include <random>

#include "safer/hlc.h"
#include "safer/protocol_json.h"
#include "safer/time.h"
#include "safer/uuid.h"
#include "support/bench.h"
#include "sync_server/local_time.h"

namespace bench {

namespace {

constexpr safer::UnixMillis kMinute = 60'000;
constexpr safer::UnixMillis kDay = 86'400'000;

// Notes of about 60 characters, as officers write them.
constexpr const char* kNotes[] = {
    "Spoke with resident, advice given on door locks and lighting.",
    "Leaflets left; resident asked for a call back next month.",
    "Smoke alarm tested and working; discussed bogus callers.",
    "Resident worried about recent burglaries on the street.",
    "Neighbour present; both given crime prevention packs today.",
    "Shed secured advice given, marked tools with postcode kit.",
};

using Rng = std::mt19937_64;

bool chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
template <typename T>
T pick(Rng& rng, std::initializer_list<std::pair<T, double>> weighted) {
  double roll = std::uniform_real_distribution<double>(0, 1)(rng);
  for (const auto& [value, weight] : weighted) {
    if ((roll -= weight) < 0) return value;
  }
  return weighted.begin()->first;
}

std::string local_day(safer::UnixMillis at) { return safer::format_iso_date(sync_server::local_date(at)); }


// Collects a device's changes into pushes of `batch`, numbering them from `seq`.
class PushWriter {
 public:
  PushWriter(B1Device& device, int batch) : device_(device), batch_(batch) {}
  void add(safer::Change change) {
    device_.changes.push_back(change);
    push_.changes.push_back({seq_++, std::move(change)});
    if (static_cast<int>(push_.changes.size()) == batch_) flush();
  }
  void flush() {
    if (push_.changes.empty()) return;
    device_.pushes.push_back(safer::to_json(push_));
    device_.last_seqs.push_back(seq_ - 1);
    push_.changes.clear();
  }
  void set_next_seq(std::int64_t seq) { seq_ = seq; }

 private:
  B1Device& device_;
  int batch_;
  std::int64_t seq_ = 1;
  safer::Push push_;
};

void plan_best_case(B1Device& device, std::int64_t visits, int batch, std::int64_t first_n) {
  safer::HlcClock clock(safer::now_unix_millis);
  const std::string household_id = safer::new_uuid_v7();
  safer::Change household{safer::Entity::household, safer::Op::upsert, household_id, clock.tick(),
                          bench::sample_household(first_n)};
  device.changes.push_back(household);
  safer::Push setup;
  setup.changes.push_back({1, household});
  device.setup = safer::to_json(setup);
  PushWriter writer(device, batch);
  writer.set_next_seq(2);
  const auto now = safer::now_unix_millis();
  for (std::int64_t sent = 0; sent < visits; ++sent) {
    writer.add({safer::Entity::visit, safer::Op::upsert, safer::new_uuid_v7(), clock.tick(),
                bench::sample_visit(household_id, now - (sent % 1000) * kMinute, first_n + sent)});
  }
  writer.flush();
  device.new_visits = visits;
}

void plan_realistic(B1Device& device, std::vector<std::string> share, std::int64_t visits, int batch,
                    std::uint64_t seed, std::int64_t first_n) {
  Rng rng(seed);
  safer::HlcClock clock(safer::now_unix_millis);
  const auto now = safer::now_unix_millis();
  PushWriter writer(device, batch);
  struct Live {
    std::string id;
    safer::Visit visit;
  };
  std::vector<Live> live;  // this device's visits not deleted, to edit or delete
  for (std::int64_t made = 0; made < visits;) {
    const double roll = std::uniform_real_distribution<double>(0, 1)(rng);
    if (roll < 0.005 || share.empty()) {  // a household found in the field
      const std::string id = safer::new_uuid_v7();
      writer.add({safer::Entity::household, safer::Op::upsert, id, clock.tick(),
                  bench::sample_household(first_n + device.field_households)});
      share.push_back(id);
      ++device.field_households;
    } else if (roll < 0.035 && !live.empty()) {  // an edit of an earlier visit
      auto& earlier = live[std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng)];
      earlier.visit = realistic_visit(rng, earlier.visit.household_id, earlier.visit.visited_at);
      writer.add({safer::Entity::visit, safer::Op::upsert, earlier.id, clock.tick(), earlier.visit});
      ++device.edits;
    } else if (roll < 0.045 && !live.empty()) {  // a delete of an earlier visit
      const auto at = std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng);
      writer.add({safer::Entity::visit, safer::Op::remove, live[at].id, clock.tick(), std::nullopt});
      live[at] = std::move(live.back());
      live.pop_back();
      ++device.deletes;
    } else {
      const auto& household = share[std::uniform_int_distribution<std::size_t>(0, share.size() - 1)(rng)];
      const auto at = now - std::uniform_int_distribution<safer::UnixMillis>(kMinute, 365 * kDay)(rng);
      Live visit{safer::new_uuid_v7(), realistic_visit(rng, household, at)};
      writer.add({safer::Entity::visit, safer::Op::upsert, visit.id, clock.tick(), visit.visit});
      live.push_back(std::move(visit));
      ++made;
    }
  }
  writer.flush();
  device.new_visits = visits;
}

// The register: `households` rows, household h assigned to officer h % devices.
std::string register_csv(std::int64_t households, const std::vector<B1Device>& devices,
                         std::vector<std::vector<std::string>>& shares, B1Plan& plan, Rng& rng) {
  std::string csv = "id,address,postcode,ward,target,assigned_to\n";
  for (std::int64_t h = 0; h < households; ++h) {
    const auto& device = devices[static_cast<std::size_t>(h) % devices.size()];
    const auto household = bench::sample_household(h);
    const std::string id = safer::new_uuid_v7();
    shares[static_cast<std::size_t>(h) % devices.size()].push_back(id);
    plan.wards[id] = household.ward;
    // Addresses of sample_household hold a comma: quoted (RFC 4180).
    csv += id + ",\"" + household.address + "\"," + household.postcode + "," + household.ward + "," +
           (chance(rng, 0.2) ? "1" : "0") + "," + device.user + "\n";
  }
  return csv;
}

}  // namespace

// A visit as an officer records it, with the mixes the benchmark claims (docs/BENCHMARKS.md).
safer::Visit realistic_visit(std::mt19937_64& rng, const std::string& household_id, safer::UnixMillis at) {
  using safer::Outcome;
  safer::Visit visit;
  visit.household_id = household_id;
  visit.visited_at = at;
  visit.status = pick<safer::VisitStatus>(rng, {{safer::VisitStatus::completed, 0.70},
                                                {safer::VisitStatus::no_answer, 0.18},
                                                {safer::VisitStatus::declined, 0.05},
                                                {safer::VisitStatus::rescheduled, 0.07}});
  if (visit.status == safer::VisitStatus::completed) {
    const std::pair<Outcome, double> rates[] = {{Outcome::crime_prevention_advice, 0.85},
                                                {Outcome::fire_safety_check, 0.50},
                                                {Outcome::healthy_lifestyle_advice, 0.20},
                                                {Outcome::community_involvement_info, 0.15},
                                                {Outcome::first_aid_training, 0.05},
                                                {Outcome::follow_up_required, 0.08}};
    for (const auto& [outcome, rate] : rates) {
      if (chance(rng, rate)) visit.outcomes.insert(outcome);
    }
    if (visit.has(Outcome::follow_up_required)) visit.follow_up_due = local_day(at + 14 * kDay);
    visit.smoke_detectors_fitted = pick<std::int64_t>(rng, {{0, 0.6}, {1, 0.3}, {2, 0.1}});
  }
  if (visit.status == safer::VisitStatus::rescheduled) visit.rescheduled_for = local_day(at + 7 * kDay) + "T18:30";
  if (chance(rng, 0.04)) {  // a referral, any status, with its basis (a share_basis writer)
    visit.referrals.insert(pick<safer::Referral>(rng, {{safer::Referral::fire_service, 0.4},
                                                       {safer::Referral::victim_support, 0.3},
                                                       {safer::Referral::adult_social_care, 0.15},
                                                       {safer::Referral::health, 0.1},
                                                       {safer::Referral::other, 0.05}}));
    visit.share_basis = pick<safer::ShareBasis>(rng, {{safer::ShareBasis::consent, 0.8},
                                                      {safer::ShareBasis::vital_interests, 0.1},
                                                      {safer::ShareBasis::safeguarding, 0.1}});
  }
  if (chance(rng, 0.7)) visit.notes = kNotes[std::uniform_int_distribution<std::size_t>(0, std::size(kNotes) - 1)(rng)];
  return visit;
}

const char* to_string(B1Workload workload) {
  return workload == B1Workload::realistic ? "realistic" : "best-case";
}

std::int64_t B1Plan::changes() const {
  std::int64_t total = 0;
  for (const auto& device : devices) {
    total += static_cast<std::int64_t>(device.changes.size()) - (device.setup.empty() ? 0 : 1);
  }
  return total;
}

B1Plan plan_b1(const B1Options& options) {
  B1Plan plan;
  plan.devices.resize(static_cast<std::size_t>(options.devices));
  for (int i = 0; i < options.devices; ++i) {
    auto& device = plan.devices[static_cast<std::size_t>(i)];
    device.id = "b1-device-" + std::to_string(i);
    device.user = "b1.officer." + std::to_string(i);
  }
  Rng rng(options.seed);
  std::vector<std::vector<std::string>> shares(plan.devices.size());
  if (options.workload == B1Workload::realistic) {
    plan.register_csv = register_csv(options.households, plan.devices, shares, plan, rng);
  }
  for (int i = 0; i < options.devices; ++i) {
    auto& device = plan.devices[static_cast<std::size_t>(i)];
    const std::int64_t share = options.visits / options.devices + (i < options.visits % options.devices ? 1 : 0);
    const std::int64_t first_n = static_cast<std::int64_t>(i) * 1'000'000;
    if (options.workload == B1Workload::best_case) {
      plan_best_case(device, share, options.batch, first_n);
    } else {
      plan_realistic(device, std::move(shares[static_cast<std::size_t>(i)]), share, options.batch,
                     options.seed * 1'000'003 + static_cast<std::uint64_t>(i), options.households + first_n);
    }
    for (const auto& change : device.changes) {
      if (const auto* household = change.data ? std::get_if<safer::Household>(&*change.data) : nullptr) {
        plan.wards[change.id] = household->ward;
      }
    }
    plan.new_visits += device.new_visits;
    plan.edits += device.edits;
    plan.deletes += device.deletes;
    plan.field_households += device.field_households;
  }
  return plan;
}

}  // namespace bench
