#include "temp_dir.h"

#include <stdlib.h>

#include <iostream>
#include <stdexcept>

namespace test_support {

namespace {

bool keep_requested() {
  for (const char* name : {"SAFER_KEEP_TMP", "BENCH_KEEP_TMP"}) {
    if (const char* value = std::getenv(name); value != nullptr && std::string(value) == "1") return true;
  }
  return false;
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot make a temporary directory (mkdtemp)");
  path_ = pattern;
}

TempDir::~TempDir() {
  if (keep_requested()) {
    std::cerr << "kept " << path_.string() << '\n';
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace test_support
