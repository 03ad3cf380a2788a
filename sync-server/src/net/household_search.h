// The body of POST /api/v1/households/search (docs/api.md): the dashboard's search of the
// register by a piece of an address or postcode. The text comes in a body, never in a URL,
// where browsers' histories, proxies and access logs would keep it (docs/data-protection.md).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sync_server::net {

// At most this many bytes of body: a search is a line of text, not a document.
inline constexpr std::size_t kMaxHouseholdSearchBytes = 4 * 1024;
inline constexpr std::size_t kMaxSearchCodePoints = 200;

struct HouseholdSearch {
  std::string text;                 // trimmed of spaces, tabs and line breaks; 1..200 code points
  std::optional<std::string> ward;  // nullopt: every ward (absent, null or "")
  std::optional<bool> target;       // nullopt: targets and others (absent or null)
  bool unassigned = false;          // only households assigned to nobody
  std::optional<std::string> officer;  // only those assigned to this user id (absent, null or "": any)
  int limit = 100;                  // as GET /api/v1/households?limit=: 1..1000
  int offset = 0;                   // as ?offset=: 0..2^30
};

// The search `body` asks for, or the message of its refusal, which names the field that is
// wrong and never holds any of the body's text.
std::variant<HouseholdSearch, std::string> parse_household_search(std::string_view body);

}  // namespace sync_server::net
