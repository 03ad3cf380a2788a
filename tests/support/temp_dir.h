// A fresh temporary directory under $TMPDIR (or /tmp), removed with everything in it on
// destruction; for the tests and the benchmarks alike. With SAFER_KEEP_TMP=1 in the
// environment (or BENCH_KEEP_TMP=1, its older name) it is kept and named on standard error,
// for profiling or a post-mortem.
#pragma once

#include <filesystem>
#include <string>

namespace test_support {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "safer-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace test_support
