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
#include <string>

#include "support/b1_workload.h"

namespace bench {

// Makes the store at `location` (a SQLite file or a PostgreSQL URL) with ServerStore::open and
// imports the plan's register, if it has one. Throws std::runtime_error.
void make_b1_store(const B1Plan& plan, const std::string& location);

// Returns the changes applied per second.
double run_b1_baseline(const B1Plan& plan, int per_transaction = 500);

// On PostgreSQL (b1_pg_baseline.cpp): in a new database at `url`, made by ServerStore::open with
// the register imported (untimed), the records row of every change — the same columns and
// JSON as apply.cpp, the feed position set by the schema's trigger — by multi-row
// INSERT … ON CONFLICT DO UPDATE, `per_statement` rows a statement, one statement a
// transaction (durable commits, as the cluster runs). No statistics, no referrals: the raw
// batched insert issue 17 compares with. Returns the changes written per second.
double run_b1_pg_baseline(const B1Plan& plan, const std::string& url, int per_statement = 500);

}  // namespace bench
