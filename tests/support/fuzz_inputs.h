// The inputs the regression tests feed to a fuzz target's entry function: what the fuzzers
// found (tests/fuzz_regressions/<target>/) and the seeds (fuzz/corpus/<target>/), by name.
// Header-only: FUZZ_REGRESSIONS_DIR and FUZZ_CORPUS_DIR are defined for the test programs
// that use it (tests/CMakeLists.txt).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace test_support {

// The whole file, bytes as they are.
inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The regular files of `directory`, sorted by name; none if it does not exist.
inline std::vector<std::filesystem::path> files_in(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(directory)) {
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// What the fuzzer `target` found, then its seeds.
inline std::vector<std::filesystem::path> fuzz_inputs(const std::string& target) {
  auto inputs = files_in(std::filesystem::path(FUZZ_REGRESSIONS_DIR) / target);
  const auto seeds = files_in(std::filesystem::path(FUZZ_CORPUS_DIR) / target);
  inputs.insert(inputs.end(), seeds.begin(), seeds.end());
  return inputs;
}

}  // namespace test_support
