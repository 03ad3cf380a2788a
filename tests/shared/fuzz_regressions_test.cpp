// Regression tests for what fuzz/client_message_fuzzer found (docs/FUZZING.md). Every input it
// found is kept in tests/fuzz_regressions/client_message_fuzzer/ and, with the seed corpus,
// goes through the fuzz target's own entry function here, in a normal build: its checks (a
// record that validates survives to_json and from_json unchanged, …) abort the test when they
// break. Each finding also has a test named after its bug that says what the right behaviour is.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "safer/protocol_json.h"
#include "safer/record_json.h"
#include "safer/validation.h"
#include "fuzz_inputs.h"

// fuzz/client_message_fuzzer.cpp, compiled into this test (tests/CMakeLists.txt).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using namespace safer;
namespace fs = std::filesystem;

std::string saved(const std::string& name) {
  const fs::path path = fs::path(FUZZ_REGRESSIONS_DIR) / "client_message_fuzzer" / name;
  REQUIRE(fs::is_regular_file(path));
  return test_support::read_bytes(path);
}

int fuzz_one(const std::string& bytes) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

// A visit as a push's data, with `number` as smoke_detectors_fitted (written as is).
std::string visit_with_smoke_detectors(const std::string& number) {
  return R"({"household_id":"0192f5e4-7c1a-7d3e-9b2a-4c5d6e7f8a9b","visited_at":"2026-11-26T09:30:00Z",)"
         R"("status":"completed","smoke_detectors_fitted":)" + number + "}";
}

}  // namespace

TEST_CASE("every input the client message fuzzer found, and every seed, passes its checks", "[regression][fuzz]") {
  REQUIRE_FALSE(test_support::files_in(fs::path(FUZZ_REGRESSIONS_DIR) / "client_message_fuzzer").empty());
  const auto inputs = test_support::fuzz_inputs("client_message_fuzzer");
  for (const auto& path : inputs) {
    INFO(path.string());
    CHECK(fuzz_one(test_support::read_bytes(path)) == 0);
  }
}

TEST_CASE("bug: a zero with a large exponent (0e38) was read as garbage, not as 0", "[regression][json][fuzz]") {
  // RapidJSON 1.1.0's full-precision path normalised a zero significand with
  // __builtin_clzll(0) (undefined; UBSan stops there) for exponents beyond ±22, and gave
  // -1.9e227 for 0e38 (GCC) and 1.9e112 (clang): a valid visit was refused, or read one way on
  // the server and another on a tablet. json::parse now reads numbers without that path. The
  // fuzzer's inputs are not JSON at all ("0e308e…", "0e3e308,…"): they must be bad_message,
  // reached without undefined behaviour.
  for (const char* name : {"zero-with-exponent", "zero-with-exponent-run-on"}) {
    INFO(name);
    const auto found = decode_client_message(saved(name));
    REQUIRE_FALSE(found.ok());
    CHECK(found.error().code == "bad_message");
  }

  SECTION("a record reads 0e38, -0.0e-40 and 0E+300 as 0") {
    for (const char* zero : {"0e38", "-0.0e-40", "0E+300", "0.000e23", "-0e100"}) {
      INFO(zero);
      Visit visit;
      REQUIRE(from_json(visit_with_smoke_detectors(zero), visit).empty());
      CHECK(visit.smoke_detectors_fitted == 0);
      CHECK(check_visit(visit, ReferenceLists::defaults()).empty());
    }
    CommuteSession session;
    REQUIRE(from_json(R"({"station":"Radlett","started_at":"2026-11-26T07:00:00Z","cards_distributed":0e50})", session)
                .empty());
    CHECK(session.cards_distributed == 0);
  }

  SECTION("the saved push decodes, with its zero") {
    const auto message = decode_client_message(saved("zero-with-exponent-push.json"));
    REQUIRE(message.ok());
    const auto& push = std::get<ReceivedPush>(*message);
    REQUIRE(push.changes.size() == 1);
    REQUIRE(push.changes[0].change.has_value());
    CHECK(std::get<Visit>(*push.changes[0].change->data).smoke_detectors_fitted == 0);
  }

  SECTION("an envelope's zero is still not a positive seq or a limit") {
    const auto push = decode_client_message(
        R"({"type":"push","changes":[{"seq":0e40,"entity":"visit","op":"delete","id":"0192f5e4-7c1b-7000-8000-000000000001","hlc":"001764149400000-00000"}]})");
    REQUIRE_FALSE(push.ok());
    CHECK(push.error().field == "seq");
    const auto pull = decode_client_message(R"({"type":"pull","cursor":"","limit":-0e99})");
    REQUIRE_FALSE(pull.ok());
    CHECK(pull.error().field == "limit");
  }

  SECTION("integers and fractions are read as before") {
    Visit visit;
    REQUIRE(from_json(visit_with_smoke_detectors("3.0e0"), visit).empty());
    CHECK(visit.smoke_detectors_fitted == 3);
    REQUIRE(from_json(visit_with_smoke_detectors("1e1"), visit).empty());
    CHECK(visit.smoke_detectors_fitted == 10);
    REQUIRE(from_json(visit_with_smoke_detectors("2.0000000000000001"), visit).empty());  // 2, as JavaScript reads it
    CHECK(visit.smoke_detectors_fitted == 2);
    for (const char* fraction : {"2.5", "0.5e1e", "1e-1"}) {
      INFO(fraction);
      CHECK_FALSE(from_json(visit_with_smoke_detectors(fraction), visit).empty());
    }
  }
}

TEST_CASE("bug: a number past a double's range was read as garbage, past the end of RapidJSON's table",
          "[regression][json][fuzz]") {
  // The fuzzer's input holds 366660…661e308, whose full-precision conversion read entry 88 of
  // RapidJSON's 87 cached powers of ten (UBSan: index out of bounds). The same path turned
  // numbers that overflow or underflow a double into garbage: 10e308 into -3.1e-308 (a
  // "fraction"), 0.(19 zeros)1e-320 into -2e292. Now they overflow to infinity (out of range)
  // and underflow to 0, as JavaScript and JSON Schema read them.
  const auto found = decode_client_message(saved("long-significand-e308"));
  REQUIRE_FALSE(found.ok());
  CHECK(found.error().code == "bad_message");

  Visit visit;
  for (const char* huge : {"10e308", "12345678901234567890e308", "36666088888888888888888860888888888888888888880e308"}) {
    INFO(huge);
    REQUIRE(from_json(visit_with_smoke_detectors(huge), visit).empty());
    const auto errors = check_visit(visit, ReferenceLists::defaults());
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "smoke_detectors_fitted");
  }
  REQUIRE(from_json(visit_with_smoke_detectors("0.00000000000000000001e-320"), visit).empty());
  CHECK(visit.smoke_detectors_fitted == 0);
  REQUIRE(from_json(visit_with_smoke_detectors("1e-400"), visit).empty());
  CHECK(visit.smoke_detectors_fitted == 0);
  CHECK_FALSE(from_json(visit_with_smoke_detectors("1e309"), visit).empty());  // not JSON to the reader (protocol.md §9.16)
}

TEST_CASE("bug: JSON nested a million deep overflowed the stack of whoever parsed it", "[regression][json]") {
  // Found in review, not by the fuzzer (its inputs are 4 KiB at most): RapidJSON's reader
  // recursed once per level, so one 1 MiB WebSocket frame of '[' from an enrolled device would
  // have ended the sync-server. json::parse now reads iteratively and refuses nesting deeper
  // than any message or record has (kMaxJsonDepth); both frames are bad_message.
  for (const std::string& deep : {std::string(1 << 20, '['), std::string(300'000, '[') + std::string(300'000, ']'),
                                  "{\"type\":\"push\",\"changes\":" + std::string(500'000, '[')}) {
    const auto decoded = decode_client_message(deep);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "bad_message");
  }
  Visit visit;
  CHECK_FALSE(from_json(std::string(200'000, '{'), visit).empty());

  // What real messages nest (a push, its change, its data, the outcomes list) still reads.
  const auto push = decode_client_message(saved("zero-with-exponent-push.json"));
  CHECK(push.ok());
}

TEST_CASE("bug: an object with many keys took quadratic time to check for repeated keys", "[regression][json]") {
  // Found in review: duplicate_key compared every pair of names, so one 1 MiB frame of
  // {"k0":0,"k1":0,…} (about 100,000 keys) cost some 5e9 comparisons on a network thread.
  std::string many = "{\"type\":\"hello\"";
  for (int i = 0; i < 100'000; ++i) many += ",\"k" + std::to_string(i) + "\":0";
  const auto started = std::chrono::steady_clock::now();
  const auto decoded = decode_client_message(many + "}");
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK_FALSE(decoded.ok());  // no protocol, device_id, app_version: but refused quickly
  CHECK(seconds < 2.0);
  const auto repeated = decode_client_message(many + ",\"k77777\":1}");
  REQUIRE_FALSE(repeated.ok());
  CHECK(repeated.error().message.find("k77777 appears more than once") != std::string::npos);
}

TEST_CASE("bug: the fuzzer required a capability that is not UTF-8 to survive a round trip", "[regression][fuzz]") {
  // Stop 25's CI: "\udc00" (a lone low surrogate) decodes to bytes that are not UTF-8, and the
  // fuzzer's hello check re-encoded them and expected a hello back. The fault was in the check,
  // not the server: a capability is only compared with the names the server knows (protocol.md
  // §10 rule 4), never echoed or stored, so one it cannot read is one it does not know. The check now
  // skips such hellos, as it already did for device_id, and compares capabilities otherwise.
  const auto decoded = decode_client_message(saved("hello-capability-lone-surrogate"));
  REQUIRE(decoded.ok());
  const auto& hello = std::get<Hello>(*decoded);
  CHECK(hello.announces(capabilities::kEvict));
  CHECK_FALSE(hello.announces(capabilities::kShareBasis));
  CHECK(hello.capabilities.size() == 2);
  CHECK(fuzz_one(saved("hello-capability-lone-surrogate")) == 0);
}
