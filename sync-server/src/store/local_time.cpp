#include "sync_server/local_time.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace sync_server {

safer::Status use_time_zone(const std::string& zone) {
  const bool safe_name = !zone.empty() && zone.find("..") == std::string::npos && zone.front() != '/';
  if (zone != "UTC" && (!safe_name || !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + zone))) {
    return safer::Error{"invalid",
                        "time zone \"" + zone + "\" is not in the system's zone database "
                        "(/usr/share/zoneinfo; install the tzdata package)",
                        "time_zone"};
  }
  setenv("TZ", (":" + zone).c_str(), 1);
  tzset();
  return {};
}

safer::CivilDate local_date(safer::UnixMillis instant) {
  // Floor division: an instant before 1970 belongs to the second before it, not after.
  const std::time_t seconds = static_cast<std::time_t>(instant >= 0 ? instant / 1000 : (instant - 999) / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  return safer::CivilDate{local.tm_year + 1900, static_cast<unsigned>(local.tm_mon + 1),
                          static_cast<unsigned>(local.tm_mday)};
}

safer::UnixMillis local_midnight(const safer::CivilDate& date) {
  std::tm local{};
  local.tm_year = date.year - 1900;
  local.tm_mon = static_cast<int>(date.month) - 1;
  local.tm_mday = static_cast<int>(date.day);
  local.tm_isdst = -1;  // let the zone's rules say whether summer time is in force
  return static_cast<safer::UnixMillis>(std::mktime(&local)) * 1000;
}

}  // namespace sync_server
