// safer::JsonOut, the project's one JSON writer: every text it writes is JSON, whatever the
// text given to it, and the shapes the programs print come out compact and in call order.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "safer/json_out.h"

using safer::JsonOut;

namespace {

std::string string_value(std::string_view text) { return JsonOut().value(text).str(); }

}  // namespace

TEST_CASE("JsonOut writes compact objects and arrays in call order", "[json_out]") {
  SECTION("empty containers") {
    CHECK(JsonOut().begin_object().end_object().str() == "{}");
    CHECK(JsonOut().begin_array().end_array().str() == "[]");
    CHECK(JsonOut().str() == "");
  }
  SECTION("nested, with commas only between members") {
    JsonOut out;
    out.begin_object().field("id", "a").key("list").begin_array().value(1).value(2).end_array();
    out.key("inner").begin_object().field("ok", true).end_object().end_object();
    CHECK(out.str() == R"({"id":"a","list":[1,2],"inner":{"ok":true}})");
  }
  SECTION("an empty string and an empty key") {
    CHECK(JsonOut().begin_object().field("", "").end_object().str() == R"({"":""})");
  }
}

TEST_CASE("JsonOut writes numbers, booleans, null and optionals", "[json_out]") {
  JsonOut out;
  out.begin_array()
      .value(0)
      .value(-42)
      .value(std::numeric_limits<std::int64_t>::min())
      .value(std::numeric_limits<std::uint64_t>::max())  // past INT64_MAX: not wrapped negative
      .value(static_cast<std::size_t>(7))
      .value(1.5)
      .value(false)
      .value(true)
      .null()
      .value(std::optional<std::string>())
      .value(std::optional<std::string>("x"))
      .value(std::optional<std::int64_t>(-1))
      .end_array();
  CHECK(out.str() == R"([0,-42,-9223372036854775808,18446744073709551615,7,1.5,false,true,null,null,"x",-1])");
}

TEST_CASE("JsonOut escapes what JSON requires and nothing else", "[json_out][text]") {
  CHECK(string_value("") == R"("")");
  CHECK(string_value("plain") == R"("plain")");
  CHECK(string_value("a\"b") == R"("a\"b")");
  CHECK(string_value("a\\b") == R"("a\\b")");
  CHECK(string_value("/") == R"("/")");
  SECTION("every control character") {
    CHECK(string_value("l1\nl2\r\t") == R"("l1\nl2\r\t")");
    CHECK(string_value("\b\f") == R"("\b\f")");
    CHECK(string_value(std::string("\0", 1)) == R"("\u0000")");
    CHECK(string_value(std::string("\x01\x1f", 2)) == R"("\u0001\u001F")");
    for (int c = 0; c < 0x20; ++c) {
      const std::string written = string_value(std::string(1, static_cast<char>(c)));
      CHECK(written.size() > 3);  // escaped: never the raw byte
      CHECK(written.find(static_cast<char>(c)) == std::string::npos);
    }
  }
  SECTION("non-ASCII UTF-8 passes through unchanged") {
    CHECK(string_value("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
    CHECK(string_value("\xE2\x82\xAC \xF0\x9F\x8F\xA0") == "\"\xE2\x82\xAC \xF0\x9F\x8F\xA0\"");
    CHECK(string_value("\x7F") == "\"\x7F\"");
  }
  SECTION("keys are escaped as values are") {
    CHECK(JsonOut().begin_object().field("a\"\n", 1).end_object().str() == R"({"a\"\n":1})");
  }
}

TEST_CASE("JsonOut writes text that is not UTF-8 with U+FFFD for each ill-formed byte", "[json_out][text]") {
  constexpr const char* kReplacement = "\xEF\xBF\xBD";
  CHECK(string_value("a\xFFz") == std::string("\"a") + kReplacement + "z\"");
  CHECK(string_value("\xC3") == std::string("\"") + kReplacement + "\"");                    // cut short
  CHECK(string_value("\xC0\xAF") == std::string("\"") + kReplacement + kReplacement + "\"");  // overlong '/'
  CHECK(string_value("\xED\xA0\x80") ==                                                       // a surrogate
        std::string("\"") + kReplacement + kReplacement + kReplacement + "\"");
  CHECK(JsonOut().begin_object().field("k\xFE", "v").end_object().str() ==
        std::string("{\"k") + kReplacement + "\":\"v\"}");
  SECTION("and still escapes around them") {
    CHECK(string_value("\"\xFF\n") == std::string("\"\\\"") + kReplacement + "\\n\"");
  }
}

TEST_CASE("JsonOut inserts JSON made elsewhere as one value", "[json_out]") {
  JsonOut out;
  out.begin_object().key("data").raw(R"({"address":"1 Example Road"})").field("n", 1);
  out.key("list").begin_array().raw("[]").raw("null").end_array().end_object();
  CHECK(out.str() == R"({"data":{"address":"1 Example Road"},"n":1,"list":[[],null]})");
}

TEST_CASE("JsonOut throws at an end that does not match its begin", "[json_out]") {
  SECTION("an object ended in an array") {
    JsonOut out;
    out.begin_array();
    CHECK_THROWS(out.end_object());
  }
  SECTION("an end with nothing begun") { CHECK_THROWS(JsonOut().end_array()); }
}

TEST_CASE("a moved JsonOut keeps what was written", "[json_out]") {
  JsonOut first;
  first.begin_array().value("a");
  JsonOut second = std::move(first);
  second.value("b").end_array();
  CHECK(second.str() == R"(["a","b"])");
}
