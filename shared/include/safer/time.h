// Instants on the wire are RFC 3339 times; inside they are Unix milliseconds (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace safer {

using UnixMillis = std::int64_t;

// Parses an RFC 3339 date-time (§5.6): "2026-11-26T09:30:00Z", "2026-11-26t10:30:00.5+01:00".
// 'T' and 'Z' may be lower case; the offset is Z or ±HH:MM; fractions of a second are
// truncated to milliseconds. Returns nullopt for anything else, including impossible dates
// (2026-02-30), leap seconds (:60), which this system does not represent, and instants whose
// UTC year is outside 0000..9999 ("0000-01-01T00:00:00+01:00"), which could not be written back.
std::optional<UnixMillis> parse_rfc3339(std::string_view text);

// Formats as UTC with milliseconds: "2026-11-26T09:30:00.123Z".
// REQUIRES: the instant lies in years 0000..9999.
std::string format_rfc3339(UnixMillis instant);

// The system clock, as Unix milliseconds.
UnixMillis now_unix_millis();

// Civil dates in the proleptic Gregorian calendar (H. Hinnant's algorithms).
struct CivilDate {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31

  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};
std::int64_t days_from_civil(const CivilDate& date);
CivilDate civil_from_days(std::int64_t days);
bool is_valid_date(int year, unsigned month, unsigned day);

// Parses "YYYY-MM-DD" (a valid date), or nullopt.
std::optional<CivilDate> parse_iso_date(std::string_view text);
std::string format_iso_date(const CivilDate& date);

// A wall-clock time with no zone, to the minute: a time agreed with a resident, read in the
// resident's own (the programme's) time zone.
struct LocalDateTime {
  CivilDate date;
  unsigned hour = 0;    // 0..23
  unsigned minute = 0;  // 0..59

  friend auto operator<=>(const LocalDateTime&, const LocalDateTime&) = default;
};

// Parses "YYYY-MM-DDTHH:MM" (a valid date, hour 00..23, minute 00..59; 'T' upper case), or nullopt.
std::optional<LocalDateTime> parse_local_datetime(std::string_view text);

}  // namespace safer
