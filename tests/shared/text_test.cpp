// Text rules of protocol.md (§1, §9): frames are UTF-8, lengths count code points, and
// postcodes are accepted in any case with or without the space and stored as "WD6 1WA".
#include <catch2/catch.hpp>

#include <string>

#include "safer/json_text.h"
#include "safer/protocol_json.h"
#include "safer/text.h"

using safer::count_code_points;
using safer::is_valid_utf8;
using safer::normalize_postcode;

TEST_CASE("well-formed UTF-8 is accepted", "[text]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("12 Example Close"));
  CHECK(is_valid_utf8("caf\xC3\xA9"));                 // U+00E9, 2 bytes
  CHECK(is_valid_utf8("\xE2\x82\xAC"));                // U+20AC, 3 bytes
  CHECK(is_valid_utf8("\xF0\x9F\x8F\xA0"));            // U+1F3E0, 4 bytes
  CHECK(is_valid_utf8("\xC2\x80"));                    // U+0080, smallest 2-byte
  CHECK(is_valid_utf8("\xE0\xA0\x80"));                // U+0800, smallest 3-byte
  CHECK(is_valid_utf8("\xED\x9F\xBF"));                // U+D7FF, just below surrogates
  CHECK(is_valid_utf8("\xEE\x80\x80"));                // U+E000, just above surrogates
  CHECK(is_valid_utf8("\xF0\x90\x80\x80"));            // U+10000, smallest 4-byte
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));            // U+10FFFF, the last code point
  CHECK(is_valid_utf8(std::string("a\0b", 3)));        // NUL is a code point
}

TEST_CASE("to_valid_utf8 keeps well-formed text and replaces each ill-formed byte with U+FFFD", "[text]") {
  const std::string replacement = "\xEF\xBF\xBD";
  CHECK(safer::to_valid_utf8("") == "");
  CHECK(safer::to_valid_utf8("caf\xC3\xA9 \xF0\x9F\x8F\xA0") == "caf\xC3\xA9 \xF0\x9F\x8F\xA0");
  CHECK(safer::to_valid_utf8("a\xC0\xC1" "b") == "a" + replacement + replacement + "b");
  CHECK(safer::to_valid_utf8("\xED\xA0\x80") == replacement + replacement + replacement);  // a surrogate
  CHECK(safer::to_valid_utf8("end\xE2\x82") == "end" + replacement + replacement);            // cut short
  for (const char* text : {"\xFF", "\xC0\xAF/x", "ok\xF4\x90\x80\x80"}) {
    INFO(text);
    CHECK(is_valid_utf8(safer::to_valid_utf8(text)));
  }
}

TEST_CASE("malformed UTF-8 is refused", "[text]") {
  SECTION("overlong encodings") {
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));            // '/' in 2 bytes
    CHECK_FALSE(is_valid_utf8("\xC1\xBF"));
    CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));        // '/' in 3 bytes
    CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));        // U+07FF in 3 bytes
    CHECK_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));    // '/' in 4 bytes
    CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));    // U+FFFF in 4 bytes
  }
  SECTION("UTF-16 surrogates") {
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));        // U+D800
    CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));        // U+DFFF
    CHECK_FALSE(is_valid_utf8("\xED\xA0\xBD\xED\xB2\xA9"));  // a surrogate pair
  }
  SECTION("beyond U+10FFFF") {
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));    // U+110000
    CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(is_valid_utf8("\xF8\x88\x80\x80\x80"));  // 5-byte form
    CHECK_FALSE(is_valid_utf8("\xFF"));
    CHECK_FALSE(is_valid_utf8("\xFE"));
  }
  SECTION("truncated sequences") {
    CHECK_FALSE(is_valid_utf8("\xC3"));
    CHECK_FALSE(is_valid_utf8("caf\xC3"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));
    CHECK_FALSE(is_valid_utf8("\xF0\x9F\x8F"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82x"));           // interrupted by ASCII
    CHECK_FALSE(is_valid_utf8("\xC3\xC3\xA9"));        // interrupted by another lead
  }
  SECTION("stray continuation bytes") {
    CHECK_FALSE(is_valid_utf8("\x80"));
    CHECK_FALSE(is_valid_utf8("a\xBF" "b"));
    CHECK_FALSE(is_valid_utf8("\xC3\xA9\xA9"));
  }
}

TEST_CASE("code points are counted, not bytes", "[text]") {
  CHECK(count_code_points("") == 0);
  CHECK(count_code_points("abc") == 3);
  CHECK(count_code_points("caf\xC3\xA9") == 4);                     // 5 bytes
  CHECK(count_code_points("\xE2\x82\xAC" "5") == 2);                // 4 bytes
  CHECK(count_code_points("\xF0\x9F\x8F\xA0\xF0\x9F\x8F\xA0") == 2);  // 8 bytes
  CHECK(count_code_points("Z\xC3\xBCrich \xE2\x80\x94 \xF0\x9F\x8F\xA0") == 10);
}

TEST_CASE("visible text is anything but spaces, tabs and line breaks", "[text]") {
  CHECK_FALSE(safer::has_visible_text(""));
  CHECK_FALSE(safer::has_visible_text(" \t\r\n "));
  CHECK(safer::has_visible_text(" x "));
  CHECK(safer::has_visible_text("\xC3\xA9"));
  CHECK(safer::has_visible_text("."));
}

TEST_CASE("UK postcodes are stored upper-case with one space", "[text][postcode]") {
  CHECK(normalize_postcode("wd6 1wa") == std::string("WD6 1WA"));
  CHECK(normalize_postcode("WD61WA") == std::string("WD6 1WA"));
  CHECK(normalize_postcode("wd61wa") == std::string("WD6 1WA"));
  CHECK(normalize_postcode("Wd6 1wA") == std::string("WD6 1WA"));
  CHECK(normalize_postcode("WD6 1WA") == std::string("WD6 1WA"));
  // Every shape of outward code: A9, A99, A9A, AA9, AA99, AA9A.
  CHECK(normalize_postcode("M1 1AE") == std::string("M1 1AE"));
  CHECK(normalize_postcode("m11ae") == std::string("M1 1AE"));
  CHECK(normalize_postcode("B33 8TH") == std::string("B33 8TH"));
  CHECK(normalize_postcode("W1A 0AX") == std::string("W1A 0AX"));
  CHECK(normalize_postcode("w1a0ax") == std::string("W1A 0AX"));
  CHECK(normalize_postcode("CR2 6XH") == std::string("CR2 6XH"));
  CHECK(normalize_postcode("DN55 1PT") == std::string("DN55 1PT"));
  CHECK(normalize_postcode("DN551PT") == std::string("DN55 1PT"));
  CHECK(normalize_postcode("EC1A 1BB") == std::string("EC1A 1BB"));
  CHECK(normalize_postcode("ec1a1bb") == std::string("EC1A 1BB"));
  CHECK(normalize_postcode("GIR 0AA") == std::string("GIR 0AA"));
  CHECK(normalize_postcode("gir0aa") == std::string("GIR 0AA"));
  // Inward letters may be any but C, I, K, M, O and V.
  for (char letter : std::string("ABDEFGHJLNPQRSTUWXYZ")) {
    const std::string inward = std::string("1") + letter + letter;
    INFO(inward);
    CHECK(normalize_postcode("WD6 " + inward) == "WD6 " + inward);
  }
}

TEST_CASE("text that is not a UK postcode is refused", "[text][postcode]") {
  for (const char* text : {
           "",            // empty
           " ",           // only a space
           "WD6  1WA",    // two spaces
           " WD6 1WA",    // leading space
           "WD6 1WA ",    // trailing space
           "WD61 WA",     // space in the wrong place
           "W D61WA",     // space in the wrong place
           "WD6 1CA",     // inward letter C
           "WD6 1IA",     // inward letter I
           "WD6 1AK",     // inward letter K
           "WD6 1MA",     // inward letter M
           "WD6 1AO",     // inward letter O
           "WD6 1VA",     // inward letter V
           "WD6 AWA",     // inward code must start with a digit
           "WD6 11A",     // inward letters must be letters
           "W 1AA",       // too short: outward code without its digit
           "W1 1A",       // too short
           "WDX61 1WA",   // too long
           "WD666 1WA",   // too long
           "6WD 1WA",     // digits first
           "1WD6 1WA",    // digits first
           "WDD6 1WA",    // three outward letters
           "WD6-1WA",     // dash
           "WD6\t1WA",    // tab
           "GIR 0AB",     // not the Girobank code
           "W\xC3\x89" "6 1WA",  // non-ASCII letter
       }) {
    INFO("'" << text << "'");
    CHECK_FALSE(normalize_postcode(text).has_value());
  }
}

TEST_CASE("json_quote escapes what JSON requires", "[text][json]") {
  CHECK(safer::json_quote("") == "\"\"");
  CHECK(safer::json_quote("plain") == "\"plain\"");
  CHECK(safer::json_quote("a\"b") == "\"a\\\"b\"");
  CHECK(safer::json_quote("a\\b") == "\"a\\\\b\"");
  CHECK(safer::json_quote("l1\nl2\r\t") == "\"l1\\nl2\\r\\t\"");
  CHECK(safer::json_quote("\b\f") == "\"\\b\\f\"");
  CHECK(safer::json_quote(std::string("\x01\x1f", 2)) == "\"\\u0001\\u001F\"");
  CHECK(safer::json_quote(std::string("\0", 1)) == "\"\\u0000\"");
  CHECK(safer::json_quote("caf\xC3\xA9") == "\"caf\xC3\xA9\"");  // UTF-8 passes through
  CHECK(safer::json_quote("a\xFF") == "\"a\xEF\xBF\xBD\"");        // not UTF-8: U+FFFD, still JSON
}

TEST_CASE("json_quote output parses back to the same text", "[text][json]") {
  static constexpr char kAwkward[] = "tab\t \"q\" back\\slash \x01 nul\0 end \xE2\x82\xAC";
  const std::string awkward(kAwkward, sizeof kAwkward - 1);
  REQUIRE(awkward.size() == 34);  // the NUL is inside, not the end
  REQUIRE(is_valid_utf8(awkward));
  const std::string frame = "{\"type\":\"hello\",\"protocol\":1,\"device_id\":" +
                            safer::json_quote(awkward) + ",\"app_version\":\"1.0\"}";
  const auto decoded = safer::decode_client_message(frame);
  REQUIRE(decoded.ok());
  REQUIRE(std::holds_alternative<safer::Hello>(*decoded));
  CHECK(std::get<safer::Hello>(*decoded).device_id == awkward);
}
