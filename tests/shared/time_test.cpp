// Times cross the wire as RFC 3339 text (protocol.md §5, §9) and are compared as instants: the
// parser must accept every lawful form, refuse the rest, and the formatter must be exact.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "safer/time.h"

using safer::CivilDate;
using safer::format_rfc3339;
using safer::parse_rfc3339;
using safer::UnixMillis;

namespace {

constexpr UnixMillis kInstant = 1'795'685'400'000;  // 2026-11-26T09:30:00Z
constexpr UnixMillis kMinute = 60'000;
constexpr UnixMillis kDay = 86'400'000;

}  // namespace

TEST_CASE("RFC 3339 parse reads UTC times", "[time]") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == UnixMillis{0});
  CHECK(parse_rfc3339("2026-11-26T09:30:00Z") == kInstant);
  CHECK(parse_rfc3339("2026-11-26T09:30:00z") == kInstant);
  CHECK(parse_rfc3339("2026-11-26t09:30:00Z") == kInstant);
  CHECK(parse_rfc3339("2026-11-26t09:30:00z") == kInstant);
  CHECK(parse_rfc3339("2026-11-26T09:30:00+00:00") == kInstant);
  CHECK(parse_rfc3339("2026-11-26T09:30:00-00:00") == kInstant);
  CHECK(parse_rfc3339("1969-12-31T23:59:59Z") == UnixMillis{-1000});
}

TEST_CASE("RFC 3339 offsets give the same instant in UTC", "[time]") {
  CHECK(parse_rfc3339("2026-11-26T10:30:00+01:00") == kInstant);
  CHECK(parse_rfc3339("2026-11-26T04:00:00-05:30") == kInstant);
  CHECK(parse_rfc3339("2026-11-26T15:15:00+05:45") == kInstant);
  CHECK(parse_rfc3339("2026-11-26T09:31:00+00:01") == kInstant);
  // Offsets that cross a day, month and year boundary.
  CHECK(parse_rfc3339("2026-01-01T00:30:00+01:00") == parse_rfc3339("2025-12-31T23:30:00Z"));
  CHECK(parse_rfc3339("2025-12-31T20:00:00-05:00") == parse_rfc3339("2026-01-01T01:00:00Z"));
  CHECK(parse_rfc3339("2026-11-26T09:30:00+23:59") == kInstant - (23 * 60 + 59) * kMinute);
  CHECK(parse_rfc3339("2026-11-26T09:30:00-23:59") == kInstant + (23 * 60 + 59) * kMinute);
}

TEST_CASE("RFC 3339 fractions of a second are truncated to milliseconds", "[time]") {
  CHECK(parse_rfc3339("2026-11-26T09:30:00.5Z") == kInstant + 500);
  CHECK(parse_rfc3339("2026-11-26T09:30:00.12Z") == kInstant + 120);
  CHECK(parse_rfc3339("2026-11-26T09:30:00.123Z") == kInstant + 123);
  CHECK(parse_rfc3339("2026-11-26T09:30:00.1239Z") == kInstant + 123);
  CHECK(parse_rfc3339("2026-11-26T09:30:00.999999999Z") == kInstant + 999);
  CHECK(parse_rfc3339("2026-11-26T09:30:00.000Z") == kInstant);
  CHECK(parse_rfc3339("2026-11-26T10:30:00.5+01:00") == kInstant + 500);
  // Before 1970 the fraction still moves the instant later.
  CHECK(parse_rfc3339("1969-12-31T23:59:59.250Z") == UnixMillis{-750});
}

TEST_CASE("RFC 3339 dates follow the Gregorian calendar", "[time]") {
  CHECK(parse_rfc3339("2024-02-29T12:00:00Z").has_value());   // leap year
  CHECK(parse_rfc3339("2000-02-29T12:00:00Z").has_value());   // divisible by 400
  CHECK_FALSE(parse_rfc3339("2023-02-29T12:00:00Z"));         // not a leap year
  CHECK_FALSE(parse_rfc3339("1900-02-29T12:00:00Z"));         // divisible by 100 only
  CHECK_FALSE(parse_rfc3339("2026-02-30T12:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-04-31T12:00:00Z"));
  CHECK(parse_rfc3339("2026-12-31T12:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-13-01T12:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-00-10T12:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-01-00T12:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-01-32T12:00:00Z"));
}

TEST_CASE("RFC 3339 times of day stay within their ranges", "[time]") {
  CHECK(parse_rfc3339("2026-11-26T23:59:59.999Z") == kInstant - 9 * 3'600'000 - 30 * kMinute + kDay - 1);
  CHECK_FALSE(parse_rfc3339("2026-11-26T24:00:00Z"));  // hour 24
  CHECK_FALSE(parse_rfc3339("2026-11-26T09:60:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-12-31T23:59:60Z"));  // leap seconds are not represented
  CHECK_FALSE(parse_rfc3339("2026-11-26T09:30:00+24:00"));
  CHECK_FALSE(parse_rfc3339("2026-11-26T09:30:00+01:60"));
}

TEST_CASE("RFC 3339 parse refuses other forms", "[time]") {
  for (const char* text : {
           "",                                // empty
           "2026-11-26",                      // date only
           "2026-11-26T09:30:00",             // no offset
           "2026-11-26T09:30Z",               // no seconds
           "2026-11-26T09:30:00+0100",        // offset without colon
           "2026-11-26T09:30:00+01",          // offset without minutes
           "2026-11-26T09:30:00+1:00",        // one-digit offset hour
           "2026-11-26 09:30:00Z",            // space separator
           "2026-11-26_09:30:00Z",            // other separator
           "2026-11-26T09:30:00ZZ",           // trailing junk
           "2026-11-26T09:30:00Z ",           // trailing space
           " 2026-11-26T09:30:00Z",           // leading space
           "2026-11-26T09:30:00+01:00x",      // junk after offset
           "2026-11-26T09:30:00.Z",           // dot without digits
           "2026-11-26T09:30:00,5Z",          // comma fraction
           "2026-11-26T09:30:00.5",           // fraction, no offset
           "2026/11/26T09:30:00Z",            // slashes
           "26-11-26T09:30:00Z",              // two-digit year
           "2026-1-26T09:30:00Z",             // one-digit month
           "2026-11-26T9:30:00Z",             // one-digit hour
           "2026-11-26T09:30:00UTC",          // zone name
           "+2026-11-26T09:30:00Z",           // sign before year
           "2026-11-26T09:3a:00Z",            // letter
           "2026-11-26T09:30:00 +01:00",      // space before offset
       }) {
    INFO("'" << text << "'");
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
}

TEST_CASE("RFC 3339 format writes UTC with milliseconds", "[time]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(kInstant) == "2026-11-26T09:30:00.000Z");
  CHECK(format_rfc3339(kInstant + 123) == "2026-11-26T09:30:00.123Z");
  CHECK(format_rfc3339(kInstant + 7) == "2026-11-26T09:30:00.007Z");
  CHECK(format_rfc3339(*parse_rfc3339("2024-02-29T23:59:59.999Z")) == "2024-02-29T23:59:59.999Z");
  CHECK(format_rfc3339(*parse_rfc3339("9999-12-31T23:59:59.999Z")) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("RFC 3339 format handles instants before 1970", "[time]") {
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(-1000) == "1969-12-31T23:59:59.000Z");
  CHECK(format_rfc3339(-kDay) == "1969-12-31T00:00:00.000Z");
  CHECK(format_rfc3339(-kDay - 1) == "1969-12-30T23:59:59.999Z");
  CHECK(format_rfc3339(-86'399'999) == "1969-12-31T00:00:00.001Z");
  CHECK(format_rfc3339(*parse_rfc3339("1900-03-01T00:00:00Z")) == "1900-03-01T00:00:00.000Z");
  CHECK(format_rfc3339(*parse_rfc3339("0000-01-01T00:00:00Z")) == "0000-01-01T00:00:00.000Z");
}

TEST_CASE("RFC 3339 format and parse round trip", "[time]") {
  for (UnixMillis instant = -2'000'000'000'000; instant < 4'000'000'000'000;
       instant += 123'456'789'017) {
    INFO(instant);
    const std::string text = format_rfc3339(instant);
    CHECK(text.size() == 24);
    CHECK(parse_rfc3339(text) == instant);
  }
}

TEST_CASE("civil dates and day numbers round trip", "[time]") {
  CHECK(safer::days_from_civil({1970, 1, 1}) == 0);
  CHECK(safer::days_from_civil({1970, 1, 2}) == 1);
  CHECK(safer::days_from_civil({1969, 12, 31}) == -1);
  CHECK(safer::days_from_civil({2000, 3, 1}) == 11017);
  CHECK(safer::days_from_civil({2026, 11, 26}) == 20783);
  CHECK(safer::civil_from_days(20783) == CivilDate{2026, 11, 26});
  CHECK(safer::civil_from_days(-719468) == CivilDate{0, 3, 1});

  // Every day over more than 1,600 years, both ways, with each next day one later.
  CivilDate previous = safer::civil_from_days(-400'000);
  std::int64_t mismatches = 0;
  for (std::int64_t days = -400'000 + 1; days <= 200'000; ++days) {
    const CivilDate date = safer::civil_from_days(days);
    const bool good = safer::days_from_civil(date) == days &&
                      safer::is_valid_date(date.year, date.month, date.day) && previous < date;
    if (!good && mismatches++ == 0) {
      FAIL_CHECK("day " << days << " -> " << safer::format_iso_date(date));
    }
    previous = date;
  }
  CHECK(mismatches == 0);
  CHECK(previous == CivilDate{2517, 8, 1});
}

TEST_CASE("is_valid_date knows month lengths and leap years", "[time]") {
  CHECK(safer::is_valid_date(2024, 2, 29));
  CHECK_FALSE(safer::is_valid_date(2023, 2, 29));
  CHECK(safer::is_valid_date(2000, 2, 29));
  CHECK_FALSE(safer::is_valid_date(2100, 2, 29));
  CHECK(safer::is_valid_date(2026, 1, 31));
  CHECK_FALSE(safer::is_valid_date(2026, 6, 31));
  CHECK_FALSE(safer::is_valid_date(2026, 0, 1));
  CHECK_FALSE(safer::is_valid_date(2026, 13, 1));
  CHECK_FALSE(safer::is_valid_date(2026, 5, 0));
}

TEST_CASE("ISO dates parse only as valid YYYY-MM-DD", "[time]") {
  CHECK(safer::parse_iso_date("2026-04-01") == CivilDate{2026, 4, 1});
  CHECK(safer::parse_iso_date("2024-02-29") == CivilDate{2024, 2, 29});
  CHECK(safer::parse_iso_date("0000-01-01") == CivilDate{0, 1, 1});
  for (const char* text : {"", "2023-02-29", "2026-02-30", "2026-13-01", "2026-00-01",
                           "2026-4-01", "2026-04-1", "2026/04/01", "20260401", "2026-04-01 ",
                           "2026-04-01T00:00:00Z", "2026-O4-01", "-026-04-01"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(safer::parse_iso_date(text).has_value());
  }
  CHECK(safer::format_iso_date({2027, 3, 31}) == "2027-03-31");
  CHECK(safer::format_iso_date({2026, 1, 5}) == "2026-01-05");
  CHECK(safer::parse_iso_date(safer::format_iso_date({1999, 12, 31})) == CivilDate{1999, 12, 31});
}

TEST_CASE("the system clock reads as a plausible current time", "[time]") {
  const UnixMillis now = safer::now_unix_millis();
  CHECK(now > *parse_rfc3339("2024-01-01T00:00:00Z"));
  CHECK(now < *parse_rfc3339("2100-01-01T00:00:00Z"));
}
