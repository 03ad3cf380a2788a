// safer::JsonObject (shared/include/safer/json_object.h): the small request bodies the servers
// read, here the whole numbers of a household search's limit and offset (docs/api.md).
#include <catch2/catch.hpp>

#include "safer/json_object.h"

using safer::JsonObject;

TEST_CASE("a JSON object's whole numbers are read exactly, and nothing else passes for one", "[json]") {
  const auto body = JsonObject::parse(
      R"({"limit":100,"offset":0,"big":9007199254740993,"negative":-5,"fraction":2.5,"written":100.0,)"
      R"("exponent":1e2,"text":"10","flag":true,"nothing":null,"huge":18446744073709551615})");
  REQUIRE(body);
  CHECK(body->integer("limit") == 100);
  CHECK(body->integer("offset") == 0);
  CHECK(body->integer("big") == 9007199254740993);  // past a double's exact integers
  CHECK(body->integer("negative") == -5);
  for (const char* name : {"fraction", "written", "exponent", "text", "flag", "nothing", "huge", "absent"}) {
    INFO(name);
    CHECK_FALSE(body->integer(name));
  }
  CHECK(body->string("text") == "10");
  CHECK_FALSE(body->is_string("limit"));
  CHECK(body->has("limit"));
}

TEST_CASE("is_json_object_text passes one JSON object and nothing else", "[json]") {
  for (const char* good : {"{}", R"({"a":1,"b":[1,{"c":null}],"d":"caf\u00e9"})", " { \"a\" : true } "}) {
    INFO(good);
    CHECK(safer::is_json_object_text(good));
  }
  for (const char* bad : {"", "[]", "1", "\"text\"", "null", "{", "{}{}", "{} []", R"({"a":})", "{\"a\":1,}",
                          "{\"a\":\"\xff\"}"}) {
    INFO(bad);
    CHECK_FALSE(safer::is_json_object_text(bad));
  }
  CHECK_FALSE(safer::is_json_object_text(std::string_view("{}\0", 3)));
  CHECK_FALSE(safer::is_json_object_text(std::string(40, '[') + std::string(40, ']')));
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "{\"a\":";
  deep += "1" + std::string(40, '}');
  CHECK_FALSE(safer::is_json_object_text(deep));  // deeper than the reader's limit
}
