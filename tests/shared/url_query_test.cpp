// The query-string reader both HTTP servers use (safer/url_query.h).
#include <catch2/catch.hpp>

#include "safer/url_query.h"

using safer::parse_query;

TEST_CASE("a query string is split into decoded pairs", "[url-query]") {
  const auto pairs = parse_query("ward=Bushey%20North&q=a+b&from=2026-04-01");
  CHECK(pairs.at("ward") == "Bushey North");
  CHECK(pairs.at("q") == "a b");
  CHECK(pairs.at("from") == "2026-04-01");
  CHECK(pairs.size() == 3);
}

TEST_CASE("odd query strings are read without surprises", "[url-query]") {
  CHECK(parse_query("").empty());
  CHECK(parse_query("flag").at("flag").empty());           // a name without "="
  CHECK(parse_query("a=").at("a").empty());
  CHECK(parse_query("a=1&a=2").at("a") == "2");            // the last value wins
  CHECK(parse_query("a=%4").at("a") == "%4");              // "%" without two hex digits is kept
  CHECK(parse_query("a=%zz1").at("a") == "%zz1");
  CHECK(parse_query("a=%41%62").at("a") == "Ab");          // either case of hex digit
  CHECK(parse_query("a=%e2%80%94").at("a") == "\xe2\x80\x94");
  CHECK(parse_query("a=1&&b=2").size() == 3);              // an empty pair is an empty name
  CHECK(parse_query("%3D=%26").at("=") == "&");            // encoded separators are data
}
