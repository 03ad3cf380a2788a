// What the benchmark programs share: temporary directories, a real sync-server child process,
// child processes measured with wait4, fictional records, and the figure lines they print.
//
// Every program prints one JSON object a line per figure (see docs/BENCHMARKS.md):
//   {"id":"B1","what":"push visits/s","devices":100,"value":71234,"unit":"visits/s",
//    "target":70000,"meets":true, …more fields…}
// Lines without a target (context figures) carry no "target" and no "meets".
//
// Thread safety: none needed; each program uses these from its main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "safer/record.h"
#include "temp_dir.h"

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The p-th quantile (0..1) by nearest rank; 0 for no values.
double percentile(std::vector<double> values, double p);

// Temporary directories are tests/support's (one library for tests and benchmarks).
using TempDir = test_support::TempDir;

// A sync-server child: `serve --db DB --listen 127.0.0.1:0` plus `extra` arguments, its
// standard error (the log) in `log`. The constructor returns once it listens; the destructor
// stops it (SIGTERM, then SIGKILL after 15 s) and reaps it.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::string& db, const std::string& log,
                const std::vector<std::string>& extra = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  unsigned short port() const { return port_; }
  // Resident memory now (VmRSS of /proc/PID/status), in KiB.
  std::int64_t rss_kib() const;
  // SIGTERM and wait (at most 15 s, then SIGKILL). Idempotent.
  void stop();

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// VmRSS or VmHWM (peak) of a process, in KiB; 0 if unreadable.
std::int64_t proc_status_kib(pid_t pid, const char* field);

// A finished child process: its exit status, wall time, peak RSS (ru_maxrss) and output.
struct ChildRun {
  int exit_code = -1;
  double wall_ms = 0;
  std::int64_t max_rss_kib = 0;
  std::string out;  // standard output
};
// Runs argv[0] with argv; standard error goes to `stderr_path` (or /dev/null). Waits for it
// with wait4, so the peak RSS is the child's own. For profiling, $BENCH_WRAP (words, such as
// "strace -f -o FILE") is put in front of every command; argv[0] must then be a full path.
ChildRun run_child(const std::vector<std::string>& argv, const std::string& stderr_path = "/dev/null");

// Raises RLIMIT_NOFILE's soft limit towards `wanted` (at most the hard limit). Returns the
// soft limit in force afterwards.
std::uint64_t raise_file_limit(std::uint64_t wanted);
std::uint64_t hard_file_limit();

// Sums `key=N` over the log lines of `event` (" <event> " in the line).
struct LogSum {
  std::int64_t lines = 0;
  std::int64_t total = 0;
  std::int64_t max = 0;
};
LogSum sum_log(const std::string& log_path, const std::string& event, const std::string& key);

// Fictional records. Wards are protocol.md §5.5's defaults; postcodes are well-formed, invented.
const std::vector<std::string>& wards();
safer::Household sample_household(std::int64_t n, bool target = false,
                                  std::optional<std::string> assigned_to = std::nullopt);
// A visit as a tablet records it: status and outcomes vary with `n`; visited at `at`.
safer::Visit sample_visit(const std::string& household_id, safer::UnixMillis at, std::int64_t n);

// Unix milliseconds of local-ish noon on a civil date (UTC noon: the same local date in
// Europe/London all year).
safer::UnixMillis noon_utc(int year, unsigned month, unsigned day);

// One figure line, printed to standard output (flushed) when print() runs.
class Figure {
 public:
  Figure(std::string id, std::string what);
  Figure& field(const std::string& name, double value);
  Figure& field(const std::string& name, std::int64_t value);
  Figure& field(const std::string& name, int value) { return field(name, static_cast<std::int64_t>(value)); }
  Figure& field(const std::string& name, const std::string& value);
  Figure& field(const std::string& name, const char* value) { return field(name, std::string(value)); }
  Figure& field(const std::string& name, bool value);
  // The measured value and its unit.
  Figure& value(double value, const std::string& unit);
  // The target; meets = value >= target (at_least) or value <= target (otherwise), and `also`.
  Figure& target(double target, bool at_least, bool also = true);
  void print();

 private:
  std::string text_;
  std::optional<double> value_;
};

// Numbers in the figure lines: integers as integers, others with up to 4 significant
// decimals.
std::string number(double value);

}  // namespace bench
