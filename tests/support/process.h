// Runs a program to completion for a test, with a deadline: a program still running when the
// deadline passes is killed (by its pid) and the run is reported as timed out.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace test_support {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to the environment
  std::chrono::milliseconds deadline = std::chrono::seconds(30);
  std::string input;  // written to stdin, which is then closed
  // RLIMIT_FSIZE for the child: no file it writes can grow past this many bytes, as on a
  // full disk (0: no limit). SIGXFSZ is ignored so that writes fail instead.
  unsigned long file_size_limit = 0;
};

// Runs `argv[0]` (a path) with `argv`.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace test_support
