// The small shared helpers that each program once wrote for itself: hex text of bytes, one
// message for many field errors, the token of an Authorization header.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

#include "safer/bearer_token.h"
#include "safer/field_error.h"
#include "safer/hex.h"

TEST_CASE("to_hex writes two lowercase digits per byte", "[hex]") {
  CHECK(safer::to_hex({}) == "");
  const std::array<unsigned char, 1> zero{0x00};
  CHECK(safer::to_hex(zero) == "00");
  const unsigned char bytes[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xff, 0x0f, 0xf0};
  CHECK(safer::to_hex(bytes) == "0123456789abcdefff0ff0");
  const std::vector<unsigned char> every = [] {
    std::vector<unsigned char> all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<unsigned char>(b));
    return all;
  }();
  const std::string text = safer::to_hex(every);
  REQUIRE(text.size() == 512);
  for (std::size_t i = 0; i < every.size(); ++i) CHECK(std::stoi(text.substr(2 * i, 2), nullptr, 16) == static_cast<int>(i));
  CHECK(text.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("join_messages gives one message for a record's field errors", "[field_error]") {
  CHECK(safer::join_messages({}) == "");
  CHECK(safer::join_messages({{"ward", "ward must be one of Elstree"}}) == "ward must be one of Elstree");
  CHECK(safer::join_messages({{"ward", "first"}, {"", "second"}, {"postcode", "third"}}) == "first; second; third");
  CHECK(safer::join_messages({{"a", ""}, {"b", "x"}}) == "x");  // as every copy it replaces did
}

TEST_CASE("bearer_token reads the token of an Authorization header", "[bearer]") {
  using safer::bearer_token;
  SECTION("the scheme in any case") {
    CHECK(bearer_token("Bearer sst_abc") == "sst_abc");
    CHECK(bearer_token("bearer sst_abc") == "sst_abc");
    CHECK(bearer_token("BEARER sst_abc") == "sst_abc");
    CHECK(bearer_token("bEaReR sst_abc") == "sst_abc");
  }
  SECTION("spaces and tabs around the value and the token are trimmed") {
    CHECK(bearer_token("Bearer sst_abc   ") == "sst_abc");
    CHECK(bearer_token("Bearer    sst_abc") == "sst_abc");
    CHECK(bearer_token("  Bearer sst_abc \t") == "sst_abc");
    CHECK(bearer_token("Bearer\tsst_abc") == "sst_abc");
  }
  SECTION("the token's case and inner text are kept") {
    CHECK(bearer_token("Bearer AbC.def-_~+/=") == "AbC.def-_~+/=");
  }
  SECTION("no token") {
    CHECK(bearer_token("") == "");
    CHECK(bearer_token("Bearer") == "");
    CHECK(bearer_token("Bearer ") == "");
    CHECK(bearer_token("Bearer  \t ") == "");
    CHECK(bearer_token("   ") == "");
  }
  SECTION("another scheme, or none") {
    CHECK(bearer_token("Basic dXNlcjpwYXNz") == "");
    CHECK(bearer_token("Bearerabc") == "");
    CHECK(bearer_token("Bear abc") == "");
    CHECK(bearer_token("sst_abc") == "");
    CHECK(bearer_token("Token Bearer abc") == "");
  }
}
