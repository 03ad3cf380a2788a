// The C API's side of encryption at rest: fc_set_pin encrypts, fc_open_with_key opens (and
// counts wrong PINs), fc_wipe and a coordinator's wipe order seen by fc_sync erase the store.
#include <catch2/catch.hpp>

#include <string>

#include "field_client/field_client.h"
#include "raw_bytes.h"
#include "temp_dir.h"
#include "wipe_order_server.h"

namespace {

constexpr const char* kHousehold = R"({"address":"6 Wrenloft Mews","postcode":"WD6 2AB","ward":"Elstree"})";

std::string take(char* text) {
  std::string out = text != nullptr ? text : "";
  fc_free(text);
  return out;
}

}  // namespace

TEST_CASE("fc_set_pin encrypts the store - fc_open_with_key opens it only with the PIN", "[c-api][encryption]") {
  test_support::TempDir dir;
  const std::string path = dir.file("tablet.db");
  fc_store* store = nullptr;
  REQUIRE(fc_open(path.c_str(), &store, nullptr) == FC_OK);
  char* id = nullptr;
  REQUIRE(fc_create(store, "household", kHousehold, &id) == FC_OK);
  fc_free(id);
  CHECK(fc_set_pin(store, "1234", 0) == FC_INVALID);  // too short: nothing changes
  REQUIRE(fc_set_pin(store, "2468013", 0) == FC_OK);
  fc_close(store);
  CHECK(test_support::files_containing(dir.path(), "Wrenloft").empty());

  char* error = nullptr;
  CHECK(fc_open(path.c_str(), &store, &error) == FC_LOCKED);
  CHECK(store == nullptr);
  CHECK(take(error).find("encrypted") != std::string::npos);
  CHECK(fc_open_with_key(path.c_str(), "9999999", &store, &error) == FC_LOCKED);
  CHECK(take(error).find("9 more wrong PIN") != std::string::npos);
  REQUIRE(fc_open_with_key(path.c_str(), "2468013", &store, nullptr) == FC_OK);
  char* json = nullptr;
  REQUIRE(fc_list(store, "household", &json) == FC_OK);
  CHECK(take(json).find("Wrenloft") != std::string::npos);

  REQUIRE(fc_wipe(store) == FC_OK);
  CHECK(fc_list(store, "household", &json) == FC_WIPED);
  fc_close(store);
  CHECK(test_support::file_names_in(dir.path()).empty());
}

TEST_CASE("fc_sync carries out a coordinator's wipe order and says so", "[c-api][encryption][wipe]") {
  test_support::TempDir dir;
  const test_support::WipeOrderServer server;
  fc_store* store = nullptr;
  REQUIRE(fc_open(dir.file("tablet.db").c_str(), &store, nullptr) == FC_OK);
  char* id = nullptr;
  REQUIRE(fc_create(store, "household", kHousehold, &id) == FC_OK);
  fc_free(id);
  REQUIRE(fc_enroll(store, server.url().c_str(), "sst_fictional_c_api_token", nullptr) == FC_OK);
  CHECK(fc_sync(store, 5000, nullptr) == FC_WIPED);
  const std::string why = fc_last_error(store);
  CHECK(why.find(R"("code":"wipe")") != std::string::npos);
  CHECK(why.find("coordinator ordered this device wiped") != std::string::npos);
  CHECK(fc_status_json(store, nullptr) == FC_WIPED);
  fc_close(store);
  CHECK(test_support::file_names_in(dir.path()).empty());
  CHECK(test_support::files_containing(dir.path(), "sst_fictional_c_api_token").empty());
}
