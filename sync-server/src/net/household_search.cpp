#include "household_search.h"

#include <algorithm>

#include "safer/json_object.h"
#include "safer/text.h"
#include "safer/validation.h"

namespace sync_server::net {

namespace {

constexpr std::string_view kBlank = " \t\r\n";

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

// An optional whole number, clamped to [low, high] as the GET's query parameters are; false
// when the member is there but not a whole number.
bool read_count(const safer::JsonObject& body, const char* name, int low, int high, int& out) {
  if (!body.has(name) || body.is_null(name)) return true;
  const auto number = body.integer(name);
  if (!number) return false;
  out = static_cast<int>(std::clamp<std::int64_t>(*number, low, high));
  return true;
}

}  // namespace

std::variant<HouseholdSearch, std::string> parse_household_search(std::string_view text) {
  const auto body = safer::JsonObject::parse(text);
  if (!body) return std::string(R"(send a JSON object {"q": "search text", "ward", "limit", "offset"})");
  HouseholdSearch search;
  const auto q = body->string("q");
  const auto wanted = q ? trimmed(*q) : std::string_view();
  if (wanted.empty() || safer::count_code_points(wanted) > kMaxSearchCodePoints) {
    return std::string("q must be the search text: a string of 1 to 200 characters besides spaces");
  }
  search.text = std::string(wanted);
  if (body->has("ward") && !body->is_null("ward") && !body->is_string("ward")) {
    return std::string("ward must be one of the wards in the reference lists, \"\" or null for every ward");
  }
  if (auto ward = body->string("ward"); ward && !ward->empty()) search.ward = std::move(ward);
  if (body->has("target") && !body->is_null("target")) {
    search.target = body->boolean("target");
    if (!search.target) return std::string("target must be true, false or null");
  }
  if (body->has("unassigned") && !body->is_null("unassigned")) {
    const auto unassigned = body->boolean("unassigned");
    if (!unassigned) return std::string("unassigned must be true or false");
    search.unassigned = *unassigned;
  }
  if (body->has("officer") && !body->is_null("officer")) {
    auto officer = body->string("officer");
    if (!officer || (!officer->empty() && !safer::is_valid_user_id(*officer))) {
      return std::string("officer must be a user id, \"\" or null for any officer");
    }
    if (!officer->empty()) search.officer = std::move(officer);
  }
  if (!read_count(*body, "limit", 1, 1000, search.limit)) return std::string("limit must be a whole number from 1 to 1000");
  if (!read_count(*body, "offset", 0, 1 << 30, search.offset)) return std::string("offset must be a whole number, 0 or more");
  return search;
}

}  // namespace sync_server::net
