#include "safer/time.h"

#include <chrono>
#include <cstdio>

namespace safer {

namespace {

constexpr std::int64_t kMillisPerDay = 86'400'000;

// Reads exactly `width` digits at `pos`; nullopt if any is not a digit.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

bool is_valid_date(int year, unsigned month, unsigned day) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned last = (month == 2 && leap) ? 29 : kDays[month - 1];
  return day <= last;
}

std::int64_t days_from_civil(const CivilDate& date) {
  const std::int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t m = date.month;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return CivilDate{static_cast<int>(year), static_cast<unsigned>(month),
                   static_cast<unsigned>(day)};
}

std::optional<UnixMillis> parse_rfc3339(std::string_view text) {
  // date-fullyear "-" date-month "-" date-mday ("T"/"t") time-hour ":" time-minute ":"
  // time-second [ "." 1*DIGIT ] ("Z"/"z" / ("+"/"-") time-hour ":" time-minute)
  const auto year = read_digits(text, 0, 4);
  const auto month = read_digits(text, 5, 2);
  const auto day = read_digits(text, 8, 2);
  const auto hour = read_digits(text, 11, 2);
  const auto minute = read_digits(text, 14, 2);
  const auto second = read_digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  if (!is_valid_date(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) ||
      *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }

  std::size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t first_digit = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == first_digit) return std::nullopt;
  }
  if (pos >= text.size()) return std::nullopt;

  int offset_minutes = 0;
  const char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    const auto offset_hour = read_digits(text, pos + 1, 2);
    const auto offset_minute = read_digits(text, pos + 4, 2);
    if (!offset_hour || !offset_minute || text[pos + 3] != ':' || *offset_hour > 23 ||
        *offset_minute > 59) {
      return std::nullopt;
    }
    offset_minutes = (*offset_hour * 60 + *offset_minute) * (zone == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const std::int64_t days = days_from_civil(
      CivilDate{*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)});
  const std::int64_t seconds_of_day = (*hour * 60 + *minute - offset_minutes) * 60 + *second;
  const UnixMillis instant = days * kMillisPerDay + seconds_of_day * 1000 + millis;
  // An offset can carry 0000-01-01 or 9999-12-31 outside the years UTC can be written in.
  static const UnixMillis kFirst = days_from_civil(CivilDate{0, 1, 1}) * kMillisPerDay;
  static const UnixMillis kEnd = days_from_civil(CivilDate{10000, 1, 1}) * kMillisPerDay;
  if (instant < kFirst || instant >= kEnd) return std::nullopt;
  return instant;
}

std::string format_rfc3339(UnixMillis instant) {
  std::int64_t days = instant / kMillisPerDay;
  std::int64_t rest = instant % kMillisPerDay;
  if (rest < 0) {
    rest += kMillisPerDay;
    --days;
  }
  const CivilDate date = civil_from_days(days);
  const auto ms = static_cast<int>(rest % 1000);
  const auto seconds = static_cast<int>(rest / 1000);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", date.year,
                date.month, date.day, seconds / 3600, seconds / 60 % 60, seconds % 60, ms);
  return buffer;
}

UnixMillis now_unix_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<CivilDate> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto year = read_digits(text, 0, 4);
  const auto month = read_digits(text, 5, 2);
  const auto day = read_digits(text, 8, 2);
  if (!year || !month || !day) return std::nullopt;
  CivilDate date{*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)};
  if (!is_valid_date(date.year, date.month, date.day)) return std::nullopt;
  return date;
}

std::optional<LocalDateTime> parse_local_datetime(std::string_view text) {
  if (text.size() != 16 || text[10] != 'T' || text[13] != ':') return std::nullopt;
  const auto date = parse_iso_date(text.substr(0, 10));
  const auto hour = read_digits(text, 11, 2);
  const auto minute = read_digits(text, 14, 2);
  if (!date || !hour || !minute || *hour > 23 || *minute > 59) return std::nullopt;
  return LocalDateTime{*date, static_cast<unsigned>(*hour), static_cast<unsigned>(*minute)};
}

std::string format_iso_date(const CivilDate& date) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", date.year, date.month, date.day);
  return buffer;
}

}  // namespace safer
