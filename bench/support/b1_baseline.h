// B1's baseline (issue 17): what the server must do for a workload's changes, minus
// networking and validation, in the same run.
//
// Into a SQLite store made by ServerStore::open (the same schema and indexes; WAL,
// synchronous=FULL as serve uses), with the plan's register imported and the best case's
// setup households applied first (untimed), the plan's other changes — the devices' pushes
// taken in turn, push by push — are applied with
// prepared statements, 500 changes per BEGIN IMMEDIATE … COMMIT: each change's records row
// (insert, or update of an edited or deleted visit: the same columns apply.cpp writes, the
// same JSON in `data`), and, as apply.cpp and stats.cpp do, the statistics each visit
// touches, summed per transaction: visit_totals and visit_month_totals (local day and month,
// ward, status), household_days, household_years (financial year and all time) with
// year_visited for target households, and the referrals rows. An edit or delete takes the
// previous version's counts away again (from memory: the server reads the stored row).
// Left out: the network, JSON decoding, validation, permissions, last-writer-wins lookups,
// the devices' acked_seq and the rejections table.
#pragma once

#include <cstdint>

#include "support/b1_workload.h"

namespace bench {

// Returns the changes applied per second.
double run_b1_baseline(const B1Plan& plan, int per_transaction = 500);

}  // namespace bench
