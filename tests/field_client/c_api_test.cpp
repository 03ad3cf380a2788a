// The C API that native tablet apps embed: every failure is a status plus details, every
// returned string is the caller's to free, and nothing is written for a refused record.
#include <catch2/catch.hpp>

#include <string>

#include "faulty_vfs.h"
#include "field_client/field_client.h"
#include "temp_dir.h"

namespace {

// Takes ownership of a string the library returned.
std::string take(char* text) {
  std::string out = text != nullptr ? text : "";
  fc_free(text);
  return out;
}

struct OpenStore {
  test_support::TempDir dir;
  fc_store* store = nullptr;
  OpenStore() { REQUIRE(fc_open(dir.file("tablet.db").c_str(), &store, nullptr) == FC_OK); }
  ~OpenStore() { fc_close(store); }
};

constexpr const char* kHousehold = R"({"address":"2 Example Walk","postcode":"WD6 2AB","ward":"Elstree"})";

std::string visit_json(const std::string& household, const char* status, int smoke) {
  return R"({"household_id":")" + household + R"(","visited_at":"2026-11-26T10:00:00Z","status":")" + status +
         R"(","smoke_detectors_fitted":)" + std::to_string(smoke) + "}";
}

}  // namespace

TEST_CASE("records go in as JSON and come back out, and the outbox lists them", "[c-api]") {
  OpenStore open;
  char* id = nullptr;
  REQUIRE(fc_create(open.store, "household", kHousehold, &id) == FC_OK);
  const std::string household = take(id);
  CHECK(household.size() == 36);
  REQUIRE(fc_create(open.store, "visit", visit_json(household, "completed", 2).c_str(), &id) == FC_OK);
  const std::string visit = take(id);
  CHECK(std::string(fc_last_error(open.store)) == "{}");

  char* json = nullptr;
  REQUIRE(fc_get(open.store, "household", household.c_str(), &json) == FC_OK);
  CHECK(take(json).find(R"("postcode":"WD6 2AB")") != std::string::npos);
  REQUIRE(fc_list(open.store, "visit", &json) == FC_OK);
  CHECK(take(json).find(visit) != std::string::npos);

  REQUIRE(fc_update(open.store, "visit", visit.c_str(), visit_json(household, "completed", 4).c_str()) == FC_OK);
  REQUIRE(fc_delete(open.store, "visit", visit.c_str()) == FC_OK);
  REQUIRE(fc_outbox(open.store, &json) == FC_OK);
  const std::string outbox = take(json);
  CHECK(outbox.find(R"("seq":4)") != std::string::npos);
  CHECK(outbox.find(R"("op":"delete")") != std::string::npos);

  REQUIRE(fc_status_json(open.store, &json) == FC_OK);
  const std::string status = take(json);
  CHECK(status.find(R"("pending":4)") != std::string::npos);
  CHECK(status.find(R"("server":null)") != std::string::npos);
}

TEST_CASE("a refused record is reported with every problem and writes nothing", "[c-api]") {
  OpenStore open;
  char* id = nullptr;
  REQUIRE(fc_create(open.store, "household", kHousehold, &id) == FC_OK);
  const std::string household = take(id);

  id = reinterpret_cast<char*>(0x1);  // must be reset to NULL on failure
  CHECK(fc_create(open.store, "visit", visit_json(household, "no_answer", 11).c_str(), &id) == FC_INVALID);
  CHECK(id == nullptr);
  const std::string error = fc_last_error(open.store);
  CHECK(error.find(R"("code":"invalid")") != std::string::npos);
  CHECK(error.find(R"("field":"smoke_detectors_fitted")") != std::string::npos);
  CHECK(error.find("from 0 to 10 (got 11)") != std::string::npos);

  char* errors = nullptr;
  REQUIRE(fc_validate(open.store, "household", R"({"address":"","postcode":"nope","ward":"Atlantis"})", &errors) == FC_OK);
  const std::string listed = take(errors);
  for (const char* field : {"address", "postcode", "ward"}) CHECK(listed.find(std::string("\"") + field + "\"") != std::string::npos);

  CHECK(fc_create(open.store, "visit", "{not json", &id) == FC_INVALID);
  CHECK(fc_create(open.store, "person", kHousehold, &id) == FC_ARGUMENT);
  CHECK(fc_create(open.store, "visit", nullptr, &id) == FC_ARGUMENT);
  CHECK(fc_get(open.store, "visit", "0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b", &errors) == FC_NOT_FOUND);
  CHECK(fc_delete(open.store, "household", household.c_str()) == FC_FORBIDDEN);  // officers cannot

  char* outbox = nullptr;
  REQUIRE(fc_outbox(open.store, &outbox) == FC_OK);
  CHECK(take(outbox).find(R"("seq":2)") == std::string::npos);  // only the household was written
}

TEST_CASE("sync reports what stops it: not enrolled, or no server to reach", "[c-api]") {
  OpenStore open;
  CHECK(fc_sync(open.store, 2000, nullptr) == FC_NOT_ENROLLED);
  CHECK(fc_enroll(open.store, "http://wrong-scheme", "token", nullptr) == FC_INVALID);
  REQUIRE(fc_enroll(open.store, "ws://127.0.0.1:1", "sst_test", nullptr) == FC_OK);
  char* report = reinterpret_cast<char*>(0x1);
  CHECK(fc_sync(open.store, 2000, &report) == FC_NETWORK);
  CHECK(report == nullptr);
  CHECK(std::string(fc_last_error(open.store)).find("cannot reach 127.0.0.1:1") != std::string::npos);
}

TEST_CASE("fc_enroll refuses ws:// to another machine - fc_enroll_plaintext allows it", "[c-api][tls]") {
  OpenStore open;
  CHECK(fc_enroll(open.store, "ws://192.0.2.10:8080", "sst_test", nullptr) == FC_INVALID);
  const std::string error = fc_last_error(open.store);
  CHECK(error.find("fc_enroll_plaintext") != std::string::npos);
  CHECK(error.find(R"("field":"server")") != std::string::npos);
  CHECK(fc_enroll(open.store, "wss://sync.example:8443", "sst_test", nullptr) == FC_OK);
  CHECK(fc_enroll_plaintext(open.store, "ws://192.0.2.10:8080", "sst_test", nullptr) == FC_OK);
  char* status = nullptr;
  REQUIRE(fc_status_json(open.store, &status) == FC_OK);
  CHECK(take(status).find("ws://192.0.2.10:8080") != std::string::npos);
}

TEST_CASE("opening an unusable path fails with a message, and NULLs are refused", "[c-api]") {
  fc_store* store = reinterpret_cast<fc_store*>(0x1);
  char* error = nullptr;
  CHECK(fc_open("/proc/definitely/not/here.db", &store, &error) != FC_OK);
  CHECK(store == nullptr);
  CHECK(take(error).find("cannot open the store") != std::string::npos);
  CHECK(fc_open(nullptr, &store, nullptr) == FC_ARGUMENT);
  CHECK(fc_list(nullptr, "visit", &error) == FC_ARGUMENT);
  fc_close(nullptr);
  fc_free(nullptr);
  CHECK(std::string(fc_version()) == "0.1.0");
}

// A read that fails (an I/O error) used to reach C as "unexpected failure"; it is FC_STORAGE
// with the read named, retryable, like a failed write.
TEST_CASE("a store that cannot be read gives FC_STORAGE from the read functions", "[c-api][disk]") {
  const test_support::faulty_vfs::Installed faulty_disk;
  OpenStore open;
  fc_store* writer = nullptr;  // its writes make `open.store` drop its page cache
  REQUIRE(fc_open(open.dir.file("tablet.db").c_str(), &writer, nullptr) == FC_OK);
  const auto write_then_fail_reads = [&] {
    char* id = nullptr;
    REQUIRE(fc_create(writer, "household", kHousehold, &id) == FC_OK);
    fc_free(id);
    test_support::faulty_vfs::set_reads_fail(true);
  };
  char* json = nullptr;
  write_then_fail_reads();
  const fc_status listed = fc_list(open.store, "household", &json);
  const std::string list_error = fc_last_error(open.store);
  test_support::faulty_vfs::set_reads_fail(false);
  write_then_fail_reads();
  const fc_status status = fc_status_json(open.store, &json);
  test_support::faulty_vfs::set_reads_fail(false);
  fc_close(writer);

  CHECK(listed == FC_STORAGE);
  CHECK(json == nullptr);
  CHECK(list_error.find(R"("code":"storage")") != std::string::npos);
  CHECK(list_error.find("cannot read the household records") != std::string::npos);
  CHECK(list_error.find(R"("retryable":true)") != std::string::npos);
  CHECK(status == FC_STORAGE);
  CHECK(fc_should_retry(status) == 1);
}
