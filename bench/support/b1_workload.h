// B1's workloads (docs/BENCHMARKS.md, issue 17): what each simulated device pushes, prepared
// before the clock starts (a tablet encodes on its own CPU).
//
// best-case: each officer pushes every visit to one household of its own (pushed first,
//   before the clock), dated within the last 1,000 minutes — one household's rows, one or two
//   days of statistics per group. An upper bound, not what a county does.
// realistic: `households` households on the register, imported before the run (CSV through
//   ServerStore::import_households, as a county's register is) and assigned round robin to
//   the officers; each visit to a household drawn at random from its officer's share, dated at
//   random over the last 365 days (two BST changes in Europe/London), with the status,
//   outcome, note and referral mixes of b1_workload.cpp; about 3% of the changes edit an
//   earlier visit of the device, 1% delete one, 0.5% add a household in the field (assigned to
//   the officer, visited afterwards). Writers announce share_basis and work_dates, so
//   referrals carry a share basis, follow-ups a follow_up_due, reschedules a rescheduled_for.
//
// Thread safety: none; the plan is built on the main thread before any device runs.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "safer/record.h"

namespace bench {

enum class B1Workload { realistic, best_case };
const char* to_string(B1Workload workload);  // "realistic" / "best-case"

struct B1Options {
  B1Workload workload = B1Workload::realistic;
  int devices = 1;
  std::int64_t visits = 0;      // new visits, in total over the devices
  std::int64_t households = 0;  // on the register (realistic only)
  int batch = 500;              // changes per push
  std::uint64_t seed = 1;
};

// One device's pushes: `setup` (seq 1, before the clock; best case only) then `pushes`, each
// acknowledging up to its `last_seqs` entry.
struct B1Device {
  std::string id;
  std::string user;
  std::string setup;  // empty: none
  std::vector<std::string> pushes;
  std::vector<std::int64_t> last_seqs;
  std::vector<safer::Change> changes;  // every change pushed, in seq order (setup's first)
  std::int64_t new_visits = 0, edits = 0, deletes = 0, field_households = 0;
};

struct B1Plan {
  std::vector<B1Device> devices;
  std::string register_csv;  // to import before the run; empty for the best case
  std::unordered_map<std::string, std::string> wards;  // every household's ward, by id
  std::int64_t new_visits = 0, edits = 0, deletes = 0, field_households = 0;
  std::int64_t changes() const;  // in the timed pushes
  // The stats' all-time visits_total once every push is applied: new visits minus deletes.
  std::int64_t expected_visits_total() const { return new_visits - deletes; }
};

// A visit as an officer records it, at `at`, with the realistic workload's status, outcome,
// note and referral mixes (b1_workload.cpp); B2 fills its store with them too.
safer::Visit realistic_visit(std::mt19937_64& rng, const std::string& household_id, safer::UnixMillis at);

// Device i is "b1-device-<i>", its officer "b1.officer.<i>". Deterministic for a seed, but
// for the record ids (UUIDv7) and HLCs, which follow the clock.
B1Plan plan_b1(const B1Options& options);

}  // namespace bench
