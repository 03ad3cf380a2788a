// Regression tests for what fuzz/households_csv_fuzzer found (docs/FUZZING.md). Every input it
// found is kept in tests/fuzz_regressions/households_csv_fuzzer/ and, with the seed corpus,
// goes through the fuzz target's own entry function here, in a normal build: parse and import
// must agree (no problems: every row imported; problems: nothing imported, the store
// unchanged), and a broken check aborts the test.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_inputs.h"

// fuzz/households_csv_fuzzer.cpp, compiled into this test (tests/CMakeLists.txt).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

TEST_CASE("every input the households CSV fuzzer found, and every seed, passes its checks", "[regression][fuzz][csv]") {
  REQUIRE_FALSE(test_support::files_in(fs::path(FUZZ_CORPUS_DIR) / "households_csv_fuzzer").empty());
  const auto inputs = test_support::fuzz_inputs("households_csv_fuzzer");
  for (const auto& path : inputs) {
    INFO(path.string());
    const auto bytes = test_support::read_bytes(path);
    CHECK(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) == 0);
  }
}
