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
