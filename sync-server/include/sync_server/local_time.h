// Local calendar dates for the statistics (protocol.md §7: dates are local dates in the server's
// time zone, Europe/London by default).
//
// The zone is process-wide: use_time_zone() sets TZ once at start-up, before any thread
// starts, and local_date() then converts with the C library's localtime_r, which reads the
// system's zone database (Debian's tzdata) and knows every past and future rule change.
#pragma once

#include <string>

#include "safer/result.h"
#include "safer/time.h"

namespace sync_server {

inline constexpr const char* kDefaultTimeZone = "Europe/London";

// Makes `zone` (an IANA name such as "Europe/London") the process's time zone. Error
// "invalid" when the system has no such zone — the C library would silently use UTC instead.
// REQUIRES: no other thread is running.
safer::Status use_time_zone(const std::string& zone);

// The local date of `instant` in the process's time zone. Thread-safe.
safer::CivilDate local_date(safer::UnixMillis instant);

// The instant local midnight begins `date` (its first instant) in the process's time zone.
// Thread-safe.
safer::UnixMillis local_midnight(const safer::CivilDate& date);

// The financial year `date` falls in, named by the year it starts: 1 April 2026 to 31 March
// 2027 is 2026.
constexpr int financial_year_of(const safer::CivilDate& date) { return date.month >= 4 ? date.year : date.year - 1; }

}  // namespace sync_server
