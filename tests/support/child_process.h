// A long-running child process for a test (a server, the tablet app): started with a pipe on
// its standard output, whose first line the test reads with a deadline; stopped by its pid
// (SIGTERM, then SIGKILL after a deadline) at the latest when the object goes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace test_support {

// Stops the child `pid` (SIGTERM, then SIGKILL after `deadline`), reaps it and sets `pid` to
// -1; returns its exit status, or -1 if it was killed or `pid` was not a child. No-op for pid <= 0.
int stop_child(pid_t& pid, std::chrono::milliseconds deadline);

class ChildProcess {
 public:
  // Starts argv[0] with `argv`; standard error goes to `log_path` (or is discarded when empty).
  explicit ChildProcess(std::vector<std::string> argv, std::string log_path = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The first line the child writes to standard output, without its newline. Throws
  // std::runtime_error if none comes within `deadline` or the child exits first.
  std::string first_line(std::chrono::milliseconds deadline = std::chrono::seconds(20));

  // SIGTERM, then SIGKILL after `deadline`; returns the exit status (-1 if killed).
  int stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

}  // namespace test_support
